import csv
from datetime import datetime


def settled_on(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d")


with open("data/settlements.csv", newline="") as handle:
    for row in csv.DictReader(handle):
        print(row["id"], settled_on(row["settled"]).date())
