"""Load enriched orders into the warehouse (SQLite; the connection's host is the file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from airflow.sdk import BaseHook

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id    TEXT PRIMARY KEY,
    order_date  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    segment     TEXT NOT NULL,
    country     TEXT NOT NULL,
    amount_usd  REAL NOT NULL
)
"""


def warehouse_path(conn_id: str) -> Path:
    conn = BaseHook.get_connection(conn_id)
    if not conn.host:
        raise ValueError(f"connection {conn_id} has no host (the warehouse database file)")
    return Path(conn.host)


def upsert_orders(db_path: Path, rows: list[dict]) -> int:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path) as db:
        db.execute(SCHEMA)
        db.executemany(
            "INSERT OR REPLACE INTO orders VALUES "
            "(:order_id, :order_date, :customer_id, :segment, :country, :amount_usd)",
            rows,
        )
    return len(rows)


def read_orders_table(db_path: Path) -> list[dict]:
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        db.execute(SCHEMA)
        return [dict(row) for row in db.execute("SELECT * FROM orders ORDER BY order_id")]
