import csv


def parse(row: dict) -> dict:
    return {"sku": row["sku"], "warehouse": row["warehouse"], "quantity": int(row["quantity"])}


with open("data/stock.csv", newline="") as handle:
    levels = [parse(row) for row in csv.DictReader(handle)]
print(sum(level["quantity"] for level in levels))
