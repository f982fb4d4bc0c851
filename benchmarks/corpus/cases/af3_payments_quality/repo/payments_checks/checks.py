import csv
from pathlib import Path

DATA = Path(__file__).parent / "payments.csv"


def check_payments() -> None:
    with open(DATA, newline="") as handle:
        rows = list(csv.DictReader(handle))
    negative = [r["payment_id"] for r in rows if float(r["amount"]) < 0]
    if negative:
        raise AssertionError(f"{len(negative)} payments with a negative amount: {negative[:5]}")
