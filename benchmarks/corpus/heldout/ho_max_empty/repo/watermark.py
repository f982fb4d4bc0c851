import csv

with open("increments/orders_delta.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
watermark = max(row["updated_at"] for row in rows)
print("new watermark", watermark)
