"""The demo's pipeline repository: its DAGs import cleanly, the default run succeeds and every
scenario fails with the exception PATCHIT is meant to see. Task callables are run directly
(no scheduler, no database)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2] / "airflow" / "pipeline_repo"
TASKS = ["fetch_fx_rates", "extract_orders", "extract_customers", "transform_orders", "load_warehouse"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO), safe_mode=True)


@pytest.fixture
def connections(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a local port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    warehouse = tmp_path / "warehouse.db"
    monkeypatch.setenv("AIRFLOW_CONN_ORDERS_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_FX_RATES_API", json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": closed_port})
    )
    monkeypatch.delenv("AIRFLOW_CONN_ORDERS_WAREHOUSE_EU", raising=False)
    return warehouse


def run_orders_etl(dag, scenario: str) -> int:
    """The DAG's tasks in dependency order, outputs passed on as XComs would be."""
    call = {task_id: dag.get_task(task_id).python_callable for task_id in TASKS}
    rates = call["fetch_fx_rates"](scenario)
    orders = call["extract_orders"](scenario)
    customers = call["extract_customers"](scenario)
    rows = call["transform_orders"](orders, customers, rates)
    return call["load_warehouse"](rows, scenario)


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"orders_etl", "sales_report"}
    assert set(dagbag.dags["orders_etl"].task_ids) == set(TASKS)


def test_default_run_loads_the_batch_and_the_report_reads_it(dagbag, connections):
    assert run_orders_etl(dagbag.dags["orders_etl"], "default") == 6
    summary = dagbag.dags["sales_report"].get_task("summarise_sales").python_callable()
    assert sum(line["orders"] for line in summary) == 6


@pytest.mark.parametrize(
    ("scenario", "exc_type", "message"),
    [
        ("partial_json", json.JSONDecodeError, "Expecting"),
        ("schema_drift", KeyError, "'segment'"),
        ("code_typo", NameError, "name 'amout' is not defined"),
        ("missing_connection", "AirflowNotFoundException", "orders_warehouse_eu"),
        ("flaky_api", ConnectionRefusedError, "Connection refused"),
    ],
)
def test_scenario_fails_with_the_intended_exception(dagbag, connections, scenario, exc_type, message):
    with pytest.raises(Exception) as info:
        run_orders_etl(dagbag.dags["orders_etl"], scenario)
    if isinstance(exc_type, str):
        assert type(info.value).__name__ == exc_type
    else:
        assert type(info.value) is exc_type
    assert message in str(info.value)


def test_code_typo_is_in_repo_code_and_names_its_fix(dagbag, connections):
    with pytest.raises(NameError) as info:
        run_orders_etl(dagbag.dags["orders_etl"], "code_typo")
    text = "".join(traceback.format_exception(info.value))
    assert str(REPO / "etl" / "transform.py") in text
    # What Python's "Did you mean: 'amount'?" hint is made of: the undefined name and a close
    # local in the failing frame. (traceback.format_exception shows the hint only from 3.12 on;
    # the interpreter's own printer shows it on 3.11 too.)
    innermost = traceback.extract_tb(info.value.__traceback__)[-1]
    assert innermost.filename == str(REPO / "etl" / "transform.py")
    assert info.value.name == "amout"
    tb = info.value.__traceback__
    while tb.tb_next:
        tb = tb.tb_next
    assert "amount" in tb.tb_frame.f_locals
    if sys.version_info >= (3, 12):
        assert "Did you mean: 'amount'?" in text


@pytest.fixture
def fresh_etl_modules():
    """Let a copy of the repository import its own `etl` package, then restore the original."""
    saved = {name: mod for name, mod in sys.modules.items() if name == "etl" or name.startswith("etl.")}
    for name in saved:
        del sys.modules[name]
    yield
    for name in [n for n in sys.modules if n == "etl" or n.startswith("etl.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_code_typo_succeeds_once_the_hinted_fix_is_applied(tmp_path, connections, fresh_etl_modules):
    from airflow.dag_processing.dagbag import DagBag

    repo = shutil.copytree(REPO, tmp_path / "repo")
    source = repo / "etl" / "transform.py"
    text = source.read_text()
    assert text.count("amout") == 1
    source.write_text(text.replace("amout", "amount"))
    patched = DagBag(dag_folder=str(repo), safe_mode=True)
    assert patched.import_errors == {}
    assert run_orders_etl(patched.dags["orders_etl"], "code_typo") == 6


def test_repository_tests_pass(tmp_path):
    repo = shutil.copytree(REPO, tmp_path / "repo")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


def test_demo_driver_triggers_every_scenario_of_the_dag(dagbag):
    sys.path.insert(0, str(REPO.parent))
    try:
        import demo_driver
    finally:
        sys.path.remove(str(REPO.parent))
    dag_module = dagbag.dags["orders_etl"].get_task("extract_orders").python_callable.__globals__
    RUN_PROFILES = dag_module["RUN_PROFILES"]
    assert demo_driver.SCENARIOS == list(RUN_PROFILES) == list(demo_driver.EXPECTED)
