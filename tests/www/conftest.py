"""Airflow for the UI tests: a temporary home, a migrated metadata DB, a few DAGs, real users.

The environment is set before Airflow is imported (it reads its configuration then). Users are
the simple auth manager's, narrowed per DAG by patchit_www_auth.RestrictedAuthManager; tokens
are real JWTs signed by the auth manager.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # patchit_www_auth, for [core] auth_manager

if "AIRFLOW_HOME" not in os.environ:  # a home of its own, removed at exit (none made when one is set)
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="patchit-www-test-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], True)
_HOME = os.environ["AIRFLOW_HOME"]
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ["AIRFLOW__CORE__AUTH_MANAGER"] = "patchit_www_auth.RestrictedAuthManager"
os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = "admin:admin,viewer:viewer,alice:viewer,bob:op,carol:op"
os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"

import pytest  # noqa: E402

DAG_IDS = ("sales_daily", "hr_payroll", "patchit_remediation")

DAG_FILE = """
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

for dag_id in {dag_ids!r}:
    with DAG(dag_id, schedule=None) as dag:
        EmptyOperator(task_id="noop")
    globals()[dag_id] = dag
"""


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory) -> None:
    """Migrated metadata DB holding DAGs sales_daily, hr_payroll and patchit_remediation."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.utils import db

    db.initdb()
    folder = tmp_path_factory.mktemp("dags")
    (folder / "www_test_dags.py").write_text(DAG_FILE.format(dag_ids=DAG_IDS))
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(folder))
    assert set(DAG_IDS) <= set(bag.dags), bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)


@pytest.fixture(scope="session")
def first_auth_manager(airflow_db):
    from airflow.api_fastapi.app import create_auth_manager

    manager = create_auth_manager()
    manager.init()
    return manager


@pytest.fixture
def auth_manager(first_auth_manager):
    """Airflow's auth manager as the API server holds it: a process global, which tests of other
    folders clear (`purge_cached_app()` before building Airflow's own app). Made again, and
    initialized, when a test before this one left none. Tokens stay valid: they are signed with
    `[api_auth] jwt_secret`, which stays the same for the whole process."""
    from airflow.api_fastapi.app import create_auth_manager

    manager = create_auth_manager()
    if manager is not first_auth_manager:
        manager.init()
    return manager


@pytest.fixture(scope="session")
def token_for(first_auth_manager):
    """token_for("alice") -> a real JWT for that configured user."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    roles = {u.username: u.role for u in first_auth_manager.get_users()}

    def make(username: str) -> str:
        return first_auth_manager.generate_jwt(SimpleAuthManagerUser(username=username, role=roles[username]))

    return make


@pytest.fixture(scope="session")
def headers_for(token_for):
    return lambda username: {"Authorization": f"Bearer {token_for(username)}"}


class RecordingHandOff:
    """Stands in for the remediation DAG trigger: records events, answers like the real one."""

    def __init__(self, status: str = "created") -> None:
        self.status = status
        self.calls: list = []
        self.seen: set[str] = set()

    def __call__(self, event, user_name=None):
        from patchit_provider.www.handoff import REMEDIATION_DAG_ID, HandOff, remediation_run_id

        self.calls.append((event, user_name))
        run_id = remediation_run_id(event)
        status = self.status
        if status == "created" and run_id in self.seen:
            status = "duplicate"
        if status != "failed":
            self.seen.add(run_id)
        return HandOff(status, REMEDIATION_DAG_ID, run_id, "" if status != "failed" else "scheduler on holiday")


@pytest.fixture
def store(tmp_path):
    from patchit_provider.engine.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'patchit.db'}") as opened:
        yield opened


@pytest.fixture
def parked_steps(airflow_db):
    """www_factories.ParkedSteps: approval steps waiting for PATCHIT's answer, removed afterwards."""
    from www_factories import ParkedSteps

    steps = ParkedSteps()
    yield steps
    steps.remove()


@pytest.fixture
def handoff():
    return RecordingHandOff()


@pytest.fixture
def app(store, handoff, auth_manager):
    from patchit_provider.www import create_app

    return create_app(lambda: store, hand_off=handoff, max_event_bytes=64_000)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    # root_path as when mounted at /patchit, so generated links carry the prefix
    with TestClient(app, base_url="http://testserver/patchit", root_path="/patchit") as test_client:
        yield test_client
