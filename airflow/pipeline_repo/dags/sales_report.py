"""Daily sales per segment, from the warehouse `orders` table loaded by orders_etl."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from airflow.sdk import dag, task  # noqa: E402

from etl import load, transform  # noqa: E402


@task
def summarise_sales() -> list[dict]:
    rows = load.read_orders_table(load.warehouse_path("orders_warehouse"))
    summary = transform.daily_sales(rows)
    for line in summary:
        print(f"{line['order_date']} {line['segment']:<12} {line['orders']:>3} orders {line['revenue_usd']:>10.2f} USD")
    return summary


@dag(
    dag_id="sales_report",
    schedule=None,
    start_date=datetime(2024, 6, 1),
    catchup=False,
    default_args={"owner": "data-team", "retries": 0},
    tags=["sales", "reporting"],
    doc_md=__doc__,
)
def sales_report():
    summarise_sales()


sales_report()
