"""The Airflow 2 -> 3 migration fixer on a real Airflow 3.3 DAG: a callable written for Airflow 2
reads the context key `execution_date`, which Airflow 3 removed (apache/airflow RELEASE_NOTES.rst,
Airflow 3.0.0: "Removed execution_date, next_ds, ... from Airflow context"). dag.test() fails
with the real KeyError; PATCHIT's remediation proposes the migration, validates it by replay, and
the patched DAG's re-run succeeds."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.integration

DAG_ID = "daily_report_af2"
FILE = "daily_report_af2.py"
REPORT_DAG = textwrap.dedent(
    '''\
    """Daily report, written for Airflow 2 (context["execution_date"])."""

    from datetime import datetime

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG


    def build_report(**context):
        day = context["execution_date"]
        return f"report for {day:%Y-%m-%d}"


    with DAG(dag_id="daily_report_af2", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        PythonOperator(task_id="build_report", python_callable=build_report)
    '''
)
GIT = ["git", "-c", "user.name=Data Team", "-c", "user.email=data@example.com", "-c", "core.hooksPath=/dev/null"]


def _repo(root):
    (root / "dags").mkdir(parents=True)
    (root / "dags" / FILE).write_text(REPORT_DAG)
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "report"]):
        subprocess.run([*GIT, *cmd], cwd=root, check=True)
    return root


@pytest.fixture()
def deployed(dags_folder):
    """The DAG file as deployed in a DAG bundle (dag.test() runs only serialized bundle DAGs);
    removed afterwards so no other test sees it."""
    path = dags_folder / FILE
    yield path
    path.unlink(missing_ok=True)


def _run_and_capture(dag):
    """dag.test() with a listener that builds PATCHIT's failure event (and triggers nothing)."""
    from airflow.listeners import hookimpl
    from airflow.sdk.listener import get_listener_manager

    from patchit_provider.capture.event import build_event

    seen: dict = {}

    class Recorder:
        @hookimpl
        def on_task_instance_failed(self, previous_state, task_instance, error):
            seen["error"] = error
            seen["event"] = build_event(task_instance, error, source="test")

    recorder = Recorder()
    manager = get_listener_manager()
    manager.add_listener(recorder)
    try:
        dag_run = dag.test()
    finally:
        manager.pm.unregister(recorder)
    return dag_run, seen


def test_removed_context_key_is_migrated_and_the_rerun_succeeds(airflow_db, dag_loader, deployed, tmp_path):
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.store import open_store

    repo = _repo(tmp_path / "pipelines")
    deployed.write_text(REPORT_DAG)
    dag_run, seen = _run_and_capture(dag_loader(deployed, DAG_ID, module_name="patchit_it_migration_before"))
    assert str(dag_run.state) == "failed"
    assert isinstance(seen["error"], KeyError) and seen["error"].args == ("execution_date",)

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    settings = PatchitSettings(publish_mode="none", repo_map=json.dumps({DAG_ID: str(repo)}))
    try:
        incident = Remediator(store, settings).run_all(seen["event"])
        # what the remediation did, printed if no patch comes out (a fresh-clone CI run once got none)
        trail = [(entry.kind, entry.message, entry.data) for entry in store.audit_trail(incident.incident_id)]
    finally:
        store.close()
    assert incident.triage.remediation.value == "patch", incident.triage
    assert incident.patch is not None and incident.patch.producer == "fixer:airflow_migration", (
        incident.state,
        incident.triage.culprit,
        incident.triage.error,
        incident.validation,
        trail,
    )
    assert '-    day = context["execution_date"]\n+    day = context["logical_date"]\n' in incident.patch.diff
    assert incident.patch.diff.count("\n+") == 2  # the +++ header and the one changed line
    assert "RELEASE_NOTES" in incident.patch.rationale
    checks = {c.name: c for c in incident.validation.checks}
    assert incident.validation.passed, checks
    if incident.validation.sandboxed:  # the patched DAG file was imported in the sandbox
        assert checks["import"].passed, checks["import"].output
    # Validation's runner does not call a callable that takes the task context (replay is then
    # "checks_only"); the real replay is the dag.test() re-run below, failed before, passes after.
    assert (repo / "dags" / FILE).read_text() == REPORT_DAG  # the repository itself is never changed

    subprocess.run([*GIT, "apply", "-"], input=incident.patch.diff, text=True, cwd=repo, check=True)
    deployed.write_text((repo / "dags" / FILE).read_text())
    rerun, seen_after = _run_and_capture(dag_loader(deployed, DAG_ID, module_name="patchit_it_migration_after"))
    assert str(rerun.state) == "success", seen_after.get("error")
