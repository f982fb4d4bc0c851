"""Read the raw inputs: order batches (JSON) and the CRM customer export (CSV)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

REQUIRED_ORDER_FIELDS = ("order_id", "customer_id", "ordered_at", "amount", "currency")


def orders_path(batch: str) -> Path:
    return DATA_DIR / "incoming" / f"orders_{batch}.json"


def read_orders(path: Path) -> list[dict]:
    """One batch of orders as exported by the shop: {"batch": ..., "orders": [...]}."""
    with open(path, encoding="utf-8") as fh:
        payload = json.load(fh)
    orders = payload["orders"]
    for order in orders:
        missing = [name for name in REQUIRED_ORDER_FIELDS if name not in order]
        if missing:
            raise ValueError(f"order {order.get('order_id')!r} lacks {', '.join(missing)}")
    return orders


def read_customers(path: Path) -> list[dict]:
    """The CRM customer export, one dict per row keyed by the header."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
