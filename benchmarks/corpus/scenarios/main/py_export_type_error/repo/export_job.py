from exporter.paths import build_path

BUCKET = "analytics-exports"

for table in ["orders", "customers"]:
    print(build_path(BUCKET, table, "2024-05-01", "csv"))
