"""(b) A real failing DAG run with dag.test(): capture starts exactly one remediation run, and the
remediation DAG turns it into a validated patch on a branch that makes the task succeed."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

pytestmark = pytest.mark.integration

TASK_ID = "summarize_orders"
EXPECTED_AUDIT = [
    "event.received",
    "evidence.saved",
    "triage.completed",
    "patch.proposed",
    "validation.finished",
    "branch.created",
]


@pytest.fixture(scope="module", autouse=True)
def own_store(tmp_path_factory):
    """A store of this module's own: an incident another test of the process left for the same
    failure would group this one into it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(tmp_path_factory.mktemp("e2e-store") / "patchit.db"))
        yield


@pytest.fixture(scope="module")
def failed_once(pipeline_dag, remediation_runs):
    """Run the failing DAG once; a test listener fires capture a second time for the same failure
    (after the notifier and PATCHIT's listener) and records what capture answered. `new_runs`:
    the remediation runs started meanwhile (the metadata DB is shared with whatever tests this
    process ran before)."""
    from airflow.listeners import hookimpl
    from airflow.sdk.listener import get_listener_manager

    from patchit_provider.capture import capture_failure

    seen: dict = {"results": []}

    class AgainListener:
        @hookimpl
        def on_task_instance_failed(self, previous_state, task_instance, error):
            seen["state"] = str(task_instance.state)
            seen["event_error"] = error
            seen["results"].append(capture_failure(task_instance, error, source="test-again"))

    again = AgainListener()
    manager = get_listener_manager()
    manager.add_listener(again)
    before = {run_id for run_id, _ in remediation_runs()}
    try:
        dag_run = pipeline_dag.test()
    finally:
        manager.pm.unregister(again)
    new_runs = [(run_id, conf) for run_id, conf in remediation_runs() if run_id not in before]
    return types.SimpleNamespace(dag_run=dag_run, new_runs=new_runs, **seen)


def test_failure_starts_exactly_one_remediation_run(failed_once, pipeline_repo_root):
    from patchit_provider.capture.trigger import remediation_run_id

    assert str(failed_once.dag_run.state) == "failed"
    assert isinstance(failed_once.event_error, NameError)
    runs = failed_once.new_runs
    assert len(runs) == 1, runs
    run_id, conf = runs[0]
    assert set(conf) <= {"event_ref", "dag_id", "run_id", "task_id", "try_number", "map_index"}  # ids, no text
    event = _stored_event(conf["event_ref"])
    assert run_id == remediation_run_id(event) == f"patchit__{event.event_id}"
    assert (event.pipeline_id, event.task_id, event.map_index, event.try_number) == ("orders_daily", TASK_ID, -1, 1)
    assert event.error.type == "NameError"
    assert "Did you mean: 'order_total'?" in event.error.traceback
    assert event.error.frames[-1].function == "summarize_orders"
    assert event.code_path == str(pipeline_repo_root / "dags" / "orders.py")
    assert event.metadata["tags"] == ["sales"] and event.metadata["operator"] == "PythonOperator"
    # notifier first (created), then PATCHIT's listener, then this test's capture: duplicates
    assert failed_once.results == [{"event_id": event.event_id, "run_id": run_id, "outcome": "duplicate"}]


@pytest.fixture(scope="module")
def remediated(failed_once, remediation_dag, pipeline_repo_root):
    """Run the remediation DAG with the conf capture sent (dag.test() does not run triggered runs)."""
    ((_, conf),) = failed_once.new_runs
    dag_run = remediation_dag.test(run_conf=dict(conf))
    return types.SimpleNamespace(dag_run=dag_run, conf=dict(conf))


def _store():
    from patchit_provider.config import load_settings
    from patchit_provider.hooks.store import PatchitStoreHook

    return PatchitStoreHook(settings=load_settings()).get_store()


def _stored_event(event_ref: str):
    """The event capture stored before starting the run (the run's conf only names it)."""
    store = _store()
    try:
        return store.get_incident_by_event(event_ref).event
    finally:
        store.close()


def test_remediation_dag_records_incident_and_audit_trail(remediated):
    from patchit_provider.engine.models import IncidentState, Outcome

    assert str(remediated.dag_run.state) == "success"
    store = _store()
    try:
        incident = store.get_incident_by_event(remediated.conf["event_ref"])
        assert incident is not None
        assert incident.remediation_run_id and incident.remediation_run_id.startswith("manual__")
        kinds = [a.kind for a in store.audit_trail(incident.incident_id)]
    finally:
        store.close()
    assert kinds == EXPECTED_AUDIT
    assert incident.state is IncidentState.PUBLISHED
    assert incident.outcome is Outcome.PATCH_VALIDATED
    assert incident.triage.category.value == "code.error"
    assert incident.publication.branch == f"patchit/{incident.fingerprint}"


def test_patch_branch_makes_the_task_succeed(remediated, pipeline_repo_root, dag_loader, tmp_path):
    store = _store()
    try:
        incident = store.get_incident_by_event(remediated.conf["event_ref"])
    finally:
        store.close()
    branch = incident.publication.branch
    repo = str(pipeline_repo_root)
    # PATCHIT never touches the checked-out branch or the work tree
    assert (
        subprocess.run(["git", "-C", repo, "branch", "--show-current"], capture_output=True, text=True).stdout.strip()
        == "main"
    )
    assert subprocess.run(["git", "-C", repo, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    diff = subprocess.run(
        ["git", "-C", repo, "diff", "main", branch], capture_output=True, text=True, check=True
    ).stdout
    assert "-    return round(order_totl, 2)" in diff and "+    return round(order_total, 2)" in diff

    worktree = tmp_path / "patched"
    subprocess.run(["git", "-C", repo, "worktree", "add", "-q", str(worktree), branch], check=True)
    try:
        patched = dag_loader(worktree / "dags" / "orders.py", "orders_daily", module_name="patchit_it_patched_orders")
        dag_run = patched.test()
        assert str(dag_run.state) == "success"
    finally:
        subprocess.run(["git", "-C", repo, "worktree", "remove", "--force", str(worktree)], check=False)
        sys.modules.pop("patchit_it_patched_orders", None)


def test_retry_is_not_captured_only_the_final_failure(failed_once, dag_loader, remediation_runs, dags_folder):
    from airflow.sdk.listener import get_listener_manager

    states: list[str] = []

    class Spy:
        from airflow.listeners import hookimpl

        @hookimpl
        def on_task_instance_failed(self, previous_state, task_instance, error):
            states.append(task_instance.state.value)

    spy = Spy()
    get_listener_manager().add_listener(spy)
    try:
        dag = dag_loader(dags_folder / "flaky_retry.py", "flaky_retry")
        dag_run = dag.test()
    finally:
        get_listener_manager().pm.unregister(spy)
    assert str(dag_run.state) == "failed"
    assert states == ["up_for_retry", "failed"]
    refs = [conf for _, conf in remediation_runs() if conf.get("dag_id") == "flaky_retry"]
    assert [(c["task_id"], c["try_number"]) for c in refs] == [("load", 2)]
    event = _stored_event(refs[0]["event_ref"])
    assert (event.pipeline_id, event.task_id, event.try_number) == ("flaky_retry", "load", 2)


def test_scheduler_side_orm_task_instance_is_captured_through_rest(failed_once, fake_api):
    """In the scheduler / API server the core listener manager hands over an ORM TI and a string."""
    from airflow.listeners.listener import get_listener_manager
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ti = session.scalar(
            select(TaskInstance).where(
                TaskInstance.dag_id == "orders_daily", TaskInstance.run_id == failed_once.dag_run.run_id
            )
        )
        get_listener_manager().hook.on_task_instance_failed(
            previous_state=None, task_instance=ti, error="TaskInstance's state was manually set to `failed`."
        )
    from patchit_provider.capture import wait_for_background

    wait_for_background(30)  # the server path never makes the scheduler wait: it triggers in the background
    (run_id,) = fake_api.runs
    worker_run_ids = [r for r, _ in failed_once.new_runs]
    assert worker_run_ids == [run_id]  # same failure, same run id, whichever process saw it
    conf = fake_api.runs[run_id]["conf"]
    assert conf["dag_id"] == "orders_daily" and "event" not in conf
    # the worker's capture stored this failure first: the server-side one is the same event
    event = _stored_event(conf["event_ref"])
    assert event.event_id == conf["event_ref"]
    assert event.code_path.endswith("/pipelines/dags/orders.py")
