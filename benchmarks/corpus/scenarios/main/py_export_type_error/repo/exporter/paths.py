def build_path(bucket: str, table: str, day: str) -> str:
    return f"s3://{bucket}/{table}/dt={day}/{table}.csv"
