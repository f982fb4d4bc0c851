import argparse
import csv
import sys


def totals(rows: list[dict]) -> dict[str, float]:
    by_region: dict[str, float] = {}
    for row in rows_by_region:
        by_region[row["region"]] = by_region.get(row["region"], 0.0) + float(row["revenue"])
    return by_region


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--day")
    args = parser.parse_args()
    rows = [{"region": "north", "revenue": "10.5"}, {"region": "south", "revenue": "3"}]
    writer = csv.writer(sys.stdout)
    for region, revenue in totals(rows).items():
        writer.writerow([args.day, region, revenue])
