"""A real, throwaway Airflow 3.3 for the integration tests: one home, one metadata DB, two bundles.

The environment is set at import, before anything imports airflow (Airflow reads its config at
import). Bundles: `dags-folder` holds PATCHIT's remediation DAG; `pipelines` is the `dags/`
folder of a small git repository whose task really fails with a NameError Python names.
All tests share one process: the first dag.test() costs seconds, later ones a fraction.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from patchit_testing import send_json

BASE = Path(tempfile.mkdtemp(prefix="patchit-airflow-it-"))
atexit.register(shutil.rmtree, BASE, True)
HOME = BASE / "airflow_home"
DAGS = BASE / "dags"
PIPELINES = BASE / "pipelines"
PIPELINE_DAG_ID = "orders_daily"

PIPELINE_DAG = '''\
"""Daily order summary."""

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from patchit_provider.notifications.patchit import PatchitNotifier


def summarize_orders():
    orders = [{"quantity": 2, "unit_price": 3.5}, {"quantity": 1, "unit_price": 10.0}]
    order_total = sum(o["quantity"] * o["unit_price"] for o in orders)
    return round(order_totl, 2)


with DAG(
    dag_id="orders_daily",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["sales"],
) as dag:
    PythonOperator(
        task_id="summarize_orders",
        python_callable=summarize_orders,
        on_failure_callback=PatchitNotifier(),
    )
'''

RETRY_DAG = '''\
"""A task that fails on every try, with one retry (Airflow DAG for PATCHIT's tests)."""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def load():
    raise ValueError("upstream file is empty")


with DAG(dag_id="flaky_retry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    PythonOperator(task_id="load", python_callable=load, retries=1, retry_delay=timedelta(0))
'''

# Another test folder configured and imported Airflow first: this home would be half-applied.
PRECONFIGURED = "airflow.settings" in sys.modules

for folder in (HOME, DAGS, PIPELINES / "dags"):
    folder.mkdir(parents=True, exist_ok=True)
shutil.copy(Path(__file__).resolve().parents[2] / "dags" / "patchit_remediation.py", DAGS)
(DAGS / "flaky_retry.py").write_text(RETRY_DAG)
(PIPELINES / "dags" / "orders.py").write_text(PIPELINE_DAG)
for cmd in (
    ["git", "init", "-q", "-b", "main"],
    ["git", "add", "-A"],
    ["git", "-c", "user.name=Data Team", "-c", "user.email=data@example.com", "commit", "-q", "-m", "orders"],
):
    subprocess.run(cmd, cwd=PIPELINES, check=True)

BUNDLES = [
    {
        "name": "dags-folder",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(DAGS)},
    },
    {
        "name": "pipelines",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(PIPELINES / "dags")},
    },
]
ENV = {
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(BASE / "plugins"),
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(BUNDLES),
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(HOME / "logs"),
    "AIRFLOW__PATCHIT__CAPTURE_TIMEOUT": "10",
    # Nothing listens here: a capture that falls back to REST fails fast, as it should.
    "AIRFLOW_CONN_PATCHIT_API": "http://admin:admin@127.0.0.1:9",
    "GIT_AUTHOR_NAME": "PATCHIT",
    "GIT_AUTHOR_EMAIL": "patchit@example.com",
    "GIT_COMMITTER_NAME": "PATCHIT",
    "GIT_COMMITTER_EMAIL": "patchit@example.com",
}
if not PRECONFIGURED:
    os.environ.update(ENV)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata DB created (as `airflow db migrate` would: schema at head, default pool),
    once per session and in this process, which imports Airflow anyway: no second interpreter
    start and Airflow import for a CLI. Returns AIRFLOW_HOME."""
    if PRECONFIGURED:  # pragma: no cover
        pytest.skip("Airflow was imported before tests/airflow configured it: run tests/airflow on its own")
    from airflow.utils import db

    db.initdb()
    return HOME


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    """The `dags-folder` bundle: PATCHIT's remediation DAG and `flaky_retry`."""
    return DAGS


@pytest.fixture(scope="session")
def pipeline_repo_root() -> Path:
    return PIPELINES


@pytest.fixture(scope="session")
def pipeline_dag(airflow_db):
    """The failing pipeline DAG, imported from its file in the git repository."""
    return load_dag(PIPELINES / "dags" / "orders.py", PIPELINE_DAG_ID)


@pytest.fixture(scope="session")
def remediation_dag(airflow_db):
    from patchit_provider.dags.remediation import build_remediation_dag

    return build_remediation_dag()


def load_dag(path: Path, dag_id: str, module_name: str | None = None):
    """Import a DAG file the way a DAG bundle parse would, giving it a unique module name."""
    import importlib.util

    name = module_name or f"patchit_it_{dag_id}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    dag = module.dag
    dag.fileloc = str(path)
    return dag


@pytest.fixture()
def patchit_env(monkeypatch):
    """Set `[patchit]` options for one test: patchit_env(watch="tagged", capture_timeout="0.5")."""

    def setter(**options: str) -> None:
        for key, value in options.items():
            monkeypatch.setenv(f"AIRFLOW__PATCHIT__{key.upper()}", str(value))

    return setter


def _remediation_runs() -> list[tuple[str, dict]]:
    """(run_id, conf) of every patchit_remediation DagRun in the metadata DB."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(DagRun.run_id, DagRun.conf).where(DagRun.dag_id == "patchit_remediation")).all()
        return [(run_id, dict(conf or {})) for run_id, conf in rows]


@pytest.fixture(scope="session")
def remediation_runs(airflow_db):
    """Callable: the remediation DagRuns as [(run_id, conf)]."""
    return _remediation_runs


@pytest.fixture()
def dag_loader():
    return load_dag


@pytest.fixture(scope="session")
def check_connection_type_entry():
    """check(info, hook, conn_type=, hook_class_name=, relabeling=, optional_fields=) -> info:
    asserts what the provider-info entry of every PATCHIT connection type (connection_forms.py)
    holds: its hook's names, the form's relabeled and hidden fields, the optional (nullable)
    extra fields, and placeholders only for real form fields."""

    def check(info: dict, hook, *, conn_type: str, hook_class_name: str, relabeling: dict, optional_fields) -> dict:
        assert info["connection-type"] == hook.conn_type == conn_type
        assert info["hook-class-name"] == hook_class_name
        assert info["hook-name"] == hook.hook_name
        behaviour = info["ui-field-behaviour"]
        assert behaviour["relabeling"] == relabeling
        assert set(behaviour["hidden-fields"]) == {"schema", "port", "login"}
        fields = info["conn-fields"]
        for name in optional_fields:
            assert fields[name]["label"] and "null" in fields[name]["schema"]["type"], name
        # every placeholder names a real form field
        assert set(behaviour["placeholders"]) <= {"host", "password"} | set(fields)
        return info

    return check


@pytest.fixture()
def connection_form_loaded(monkeypatch):
    """load(info) -> Airflow's ProvidersManager after it loaded a provider-info connection-type
    entry as it loads a provider's: the conn-fields as form widgets, the ui-field-behaviour. The
    manager is a singleton: it gets fresh dicts for this test, so no other test sees the entry."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    monkeypatch.setattr(manager, "_connection_form_widgets", {})
    monkeypatch.setattr(manager, "_field_behaviours", {})

    def load(info: dict):
        conn_type = info["connection-type"]
        manager._add_widgets("airflow-provider-patchit", info["hook-class-name"], conn_type, info["conn-fields"])
        manager._add_customized_fields("airflow-provider-patchit", conn_type, info["ui-field-behaviour"])
        return manager

    return load


class FakeAirflowApi:
    """A local stand-in for the Airflow REST API (the shapes PATCHIT uses), on 127.0.0.1.

    `delay` makes every answer slow; `logs` / `details` / `task_instances` are served by path.
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        api = self
        self.requests: list[dict] = []
        self.runs: dict[str, dict] = {}
        self.delay = 0.0
        self.logs: dict[str, list] = {}
        self.details: dict[str, dict] = {}
        self.task_instances: dict[str, dict] = {}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _reply(self, status: int, body: dict) -> None:
                send_json(self, status, body)

            def _record(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                entry = {
                    "method": self.command,
                    "path": self.path,
                    "body": body,
                    "auth": self.headers.get("Authorization"),
                }
                api.requests.append(entry)
                if api.delay:
                    import time

                    time.sleep(api.delay)
                return entry

            def do_POST(self):
                entry = self._record()
                if self.path == "/auth/token":
                    return self._reply(201, {"access_token": "tok-123"})
                if self.path.endswith("/dagRuns") and entry["auth"] == "Bearer tok-123":
                    run_id = entry["body"]["dag_run_id"]
                    if run_id in api.runs:
                        return self._reply(409, {"detail": "already exists"})
                    api.runs[run_id] = entry["body"]
                    return self._reply(200, {"dag_run_id": run_id, "state": "queued"})
                return self._reply(401 if not entry["auth"] else 404, {"detail": "no"})

            def do_GET(self):
                self._record()
                from urllib.parse import unquote

                path = unquote(self.path.split("?")[0])
                for table in (api.logs, api.details, api.task_instances):
                    if path in table:
                        value = table[path]
                        return self._reply(
                            200, {"content": value, "continuation_token": None} if table is api.logs else value
                        )
                return self._reply(404, {"detail": f"not found: {path}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def conn_uri(self) -> str:
        return f"http://admin:admin@127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake_api(monkeypatch):
    """A FakeAirflowApi wired in as the `patchit_api` connection."""
    api = FakeAirflowApi()
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_API", api.conn_uri)
    yield api
    api.close()
