"""Daily orders ETL: shop order batch + CRM customers + FX rates -> warehouse `orders` table."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from airflow.sdk import BaseHook, dag, task  # noqa: E402

from etl import extract, fx, load, transform  # noqa: E402


@dataclass(frozen=True)
class RunProfile:
    batch: str = "2024-06-01"
    customers_file: str = "customers.csv"
    fx_source: str = "snapshot"
    warehouse_conn_id: str = "orders_warehouse"


# Selected with {"scenario": "<name>"} in the run's conf; no conf runs "default".
RUN_PROFILES = {
    "default": RunProfile(),
    "partial_json": RunProfile(batch="2024-06-02"),
    "schema_drift": RunProfile(customers_file="customers_crm_v2.csv"),
    "code_typo": RunProfile(batch="2024-06-03"),
    "missing_connection": RunProfile(warehouse_conn_id="orders_warehouse_eu"),
    "flaky_api": RunProfile(fx_source="api"),
}

SCENARIO = "{{ (dag_run.conf or {}).get('scenario', 'default') }}"


def profile(scenario: str) -> RunProfile:
    try:
        return RUN_PROFILES[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(RUN_PROFILES)}") from None


@task
def fetch_fx_rates(scenario: str) -> dict[str, float]:
    if profile(scenario).fx_source == "api":
        conn = BaseHook.get_connection("fx_rates_api")
        return fx.fetch_rates(conn.host, conn.port or 80)
    return fx.snapshot_rates()


@task
def extract_orders(scenario: str) -> list[dict]:
    return extract.read_orders(extract.orders_path(profile(scenario).batch))


@task
def extract_customers(scenario: str) -> list[dict]:
    return extract.read_customers(extract.DATA_DIR / "reference" / profile(scenario).customers_file)


@task
def transform_orders(orders: list[dict], customers: list[dict], rates: dict[str, float]) -> list[dict]:
    rows = transform.enrich_orders(orders, customers, rates)
    print(f"enriched {len(rows)} orders")
    return rows


@task
def load_warehouse(rows: list[dict], scenario: str) -> int:
    count = load.upsert_orders(load.warehouse_path(profile(scenario).warehouse_conn_id), rows)
    print(f"loaded {count} orders")
    return count


@dag(
    dag_id="orders_etl",
    schedule=None,
    start_date=datetime(2024, 6, 1),
    catchup=False,
    max_active_runs=8,
    default_args={"owner": "data-team", "retries": 0, "retry_delay": timedelta(minutes=5)},
    tags=["sales", "orders"],
    doc_md=__doc__,
)
def orders_etl():
    rates = fetch_fx_rates(SCENARIO)
    orders = extract_orders(SCENARIO)
    customers = extract_customers(SCENARIO)
    rows = transform_orders(orders, customers, rates)
    load_warehouse(rows, SCENARIO)


orders_etl()
