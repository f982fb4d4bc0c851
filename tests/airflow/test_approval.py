"""The approval gate with dag.test(): a validated patch waits in `awaiting_input` until a person
answers through the HITL handler (in a thread, as the UI would); Reject records the reason and
publishes nothing; with approval = never, and for escalations, nothing waits."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import types

import pytest

pytestmark = pytest.mark.integration

DAG_ID = "patchit_remediation"


@pytest.fixture()
def repo(tmp_path, pipeline_repo_root):
    """A private copy of the failing pipeline repository (its own patchit/* branches)."""
    root = tmp_path / "pipelines"
    (root / "dags").mkdir(parents=True)
    shutil.copy(pipeline_repo_root / "dags" / "orders.py", root / "dags" / "orders.py")
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "orders"]):
        subprocess.run(cmd, cwd=root, check=True)
    return root


@pytest.fixture()
def gate(airflow_db, patchit_env, tmp_path, remediation_runs):
    """Own store per test; the remediation runs made here are removed afterwards (other tests
    count the runs capture started)."""
    from airflow.api_fastapi.app import create_auth_manager

    create_auth_manager()  # the API server's; Airflow's HITL handler asks it who may answer
    patchit_env(store_path=tmp_path / "patchit.db")
    before = {run_id for run_id, _ in remediation_runs()}
    yield patchit_env
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    new = {run_id for run_id, _ in remediation_runs()} - before
    with create_session() as session:
        session.execute(delete(TaskInstance).where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id.in_(new)))
        session.execute(delete(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id.in_(new)))


def _name_error_event(repo, run_id: str) -> dict:
    from patchit_provider.engine.models import ErrorInfo, FailureEvent, Frame

    path = str(repo / "dags" / "orders.py")
    traceback = (
        "Traceback (most recent call last):\n"
        f'  File "{path}", line 14, in summarize_orders\n'
        "    return round(order_totl, 2)\n"
        "                 ^^^^^^^^^^\n"
        "NameError: name 'order_totl' is not defined. Did you mean: 'order_total'?\n"
    )
    error = ErrorInfo(
        type="NameError",
        message="name 'order_totl' is not defined",
        traceback=traceback,
        frames=[Frame(path=path, line=14, function="summarize_orders", code="return round(order_totl, 2)")],
    )
    event = FailureEvent(
        pipeline_id="orders_daily",
        run_id=run_id,
        task_id="summarize_orders",
        try_number=1,
        error=error,
        code_path=path,
        log_text=traceback,
    )
    return event.model_dump(mode="json")


def _escalation_event(run_id: str) -> dict:
    from patchit_provider.engine.models import ErrorInfo, FailureEvent

    error = ErrorInfo(type="ConnectionRefusedError", message="[Errno 111] Connection refused (warehouse:5432)")
    return FailureEvent(
        pipeline_id="orders_daily",
        run_id=run_id,
        task_id="load",
        try_number=1,
        error=error,
        log_text="ConnectionRefusedError: [Errno 111] Connection refused",
    ).model_dump(mode="json")


def _answer_when_asked(approve: bool, reason: str = "", user: str = "alice") -> types.SimpleNamespace:
    """Answer the approval step as soon as it waits, through the HITL handler PATCHIT's pages use."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    from patchit_provider.www import approvals

    seen = types.SimpleNamespace(run_id=None, error=None)

    def work():
        from airflow.models.taskinstance import TaskInstance as TI
        from airflow.utils.session import create_session
        from sqlalchemy import select

        deadline = time.monotonic() + 240
        try:
            while time.monotonic() < deadline and seen.run_id is None:
                with create_session() as session:
                    run_ids = session.scalars(
                        select(TI.run_id).where(
                            TI.dag_id == DAG_ID, TI.task_id == approvals.APPROVAL_TASK_ID, TI.state == "awaiting_input"
                        )
                    ).all()
                for run_id in run_ids:
                    if approvals.pending(run_id):
                        store = _store()
                        try:
                            incident = next(i for i in store.list_incidents() if i.remediation_run_id == run_id)
                            approvals.decide(
                                store,
                                incident.incident_id,
                                run_id,
                                SimpleAuthManagerUser(username=user, role="op"),
                                approve,
                                reason,
                            )
                        finally:
                            store.close()
                        seen.run_id = run_id
                time.sleep(0.3)
        except Exception as exc:  # surfaced by the test
            seen.error = exc

    seen.thread = threading.Thread(target=work, daemon=True)
    seen.thread.start()
    return seen


def _store():
    from patchit_provider.config import load_settings
    from patchit_provider.hooks.store import PatchitStoreHook

    return PatchitStoreHook(settings=load_settings()).get_store()


def _stored(event: dict) -> dict:
    """Store the event as capture does and return the run's conf: a reference to it."""
    from patchit_provider.config import load_settings
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.pipeline import Remediator

    store = _store()
    try:
        incident = Remediator(store, load_settings()).receive(FailureEvent.model_validate(event))
    finally:
        store.close()
    return {"event_ref": incident.event.event_id}


def _outcome(conf: dict):
    store = _store()
    try:
        incident = store.get_incident_by_event(conf["event_ref"])
        return incident, store.audit_trail(incident.incident_id)
    finally:
        store.close()


def _states(dag_run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TI.task_id, TI.state).where(TI.dag_id == DAG_ID, TI.run_id == dag_run.run_id)
        ).all()
    return {task_id: str(state.value if hasattr(state, "value") else state) for task_id, state in rows}


def _branches(repo) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "branch", "--list", "patchit/*"], capture_output=True, text=True, check=True
    )
    return [line.strip() for line in out.stdout.splitlines()]


def test_always_waits_and_approve_publishes(gate, remediation_dag, repo):
    gate(approval="always")
    conf = _stored(_name_error_event(repo, "scheduled__approve"))
    answer = _answer_when_asked(approve=True, reason="looks right")
    dag_run = remediation_dag.test(run_conf=conf)
    answer.thread.join(5)
    assert answer.error is None and answer.run_id == dag_run.run_id  # it did wait in awaiting_input
    assert str(dag_run.state) == "success"
    states = _states(dag_run)
    assert (states["approval"], states["skip_approval"], states["publish"]) == ("success", "skipped", "success")
    incident, audit = _outcome(conf)
    assert incident.remediation_run_id == dag_run.run_id
    assert incident.state.value == "published"
    kinds = [a.kind for a in audit]
    assert kinds[-3:] == ["approval.requested", "approval.granted", "branch.created"]
    granted = audit[-2]
    assert granted.actor == "alice" and granted.data["reason"] == "looks right"
    assert _branches(repo) == [f"patchit/{incident.fingerprint}"]


def test_reject_records_the_reason_and_publishes_nothing(gate, remediation_dag, repo):
    gate(approval="always")
    conf = _stored(_name_error_event(repo, "scheduled__reject"))
    answer = _answer_when_asked(approve=False, reason="renames the wrong variable, token=abc123secret")
    dag_run = remediation_dag.test(run_conf=conf)
    answer.thread.join(5)
    assert answer.error is None and answer.run_id == dag_run.run_id
    states = _states(dag_run)
    assert (states["approval"], states["publish"]) == ("success", "skipped")
    incident, audit = _outcome(conf)
    assert (incident.state.value, incident.outcome.value) == ("rejected", "patch_rejected"), [
        (a.kind, a.message) for a in audit
    ]
    rejected = [a for a in audit if a.kind == "approval.rejected"]
    assert len(rejected) == 1 and rejected[0].actor == "alice"
    assert "renames the wrong variable" in rejected[0].data["reason"]
    assert "abc123secret" not in rejected[0].message  # reasons are redacted like everything else
    assert "branch.created" not in [a.kind for a in audit]
    assert _branches(repo) == []


def test_never_does_not_wait(gate, remediation_dag, repo):
    gate(approval="never")
    conf = _stored(_name_error_event(repo, "scheduled__never"))
    started = time.monotonic()
    dag_run = remediation_dag.test(run_conf=conf)
    assert time.monotonic() - started < 120
    states = _states(dag_run)
    assert str(dag_run.state) == "success"
    assert (states["approval"], states["skip_approval"], states["publish"]) == ("skipped", "success", "success")
    incident, audit = _outcome(conf)
    assert incident.state.value == "published"
    assert not [a for a in audit if a.kind.startswith("approval.")]


def test_escalation_never_waits(gate, remediation_dag):
    gate(approval="always")
    conf = _stored(_escalation_event("scheduled__escalate"))
    dag_run = remediation_dag.test(run_conf=conf)
    states = _states(dag_run)
    assert str(dag_run.state) == "success"
    assert (states["approval"], states["skip_approval"], states["publish"]) == ("skipped", "success", "success")
    incident, audit = _outcome(conf)
    assert incident.state.value in ("escalated", "no_patch") and incident.publication is None
    assert not [a for a in audit if a.kind.startswith("approval.")]


def test_below_confidence_asks_only_below_the_threshold(gate, repo):
    """The policy itself, on a validated incident (no run needed)."""
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings

    incident = types.SimpleNamespace(
        state=__import__("patchit_provider.engine.models", fromlist=["x"]).IncidentState.VALIDATED,
        patch=object(),
        triage=types.SimpleNamespace(confidence=0.8),
    )
    ask = lambda **s: Remediator(None, PatchitSettings(**s)).approval_required(incident)  # noqa: E731
    assert ask(approval="below_confidence", approval_confidence=0.9) is True
    assert ask(approval="below_confidence", approval_confidence=0.7) is False
    assert ask(approval="always") is True and ask(approval="never") is False


def test_timeout_fails_the_task_and_closes_the_incident_unpublished(gate, remediation_dag, tmp_path):
    """The scheduler's awaiting_input sweep resumes with a timeout error when there is no default
    answer (there is none): the answer is recorded as a rejection by 'timeout' and the task fails."""
    from airflow.providers.standard.exceptions import HITLTimeoutError

    from patchit_provider.engine.models import FailureEvent, IncidentState, PatchProposal
    from patchit_provider.operators.remediation import approval_text

    store = _store()
    try:
        incident, _ = store.create_incident(FailureEvent(pipeline_id="orders_daily", run_id="r1", task_id="t"))
        incident.patch = PatchProposal(
            producer="fixer:test",
            diff="+x = 1  # ``` api_key=sk-abcdef0123456789abcdef\n",
            files=["dags/orders.py"],
            rationale="fix",
        )
        incident.state = IncidentState.VALIDATED
        store.save_incident(incident)
    finally:
        store.close()
    task = remediation_dag.get_task("approval")
    assert task.defaults is None and task.response_timeout.total_seconds() == 72 * 3600
    task = task.__class__(task_id="approval_copy", incident_id=incident.incident_id)
    with pytest.raises(HITLTimeoutError):
        task.execute_complete({}, {"error": "no response", "error_type": "timeout"})
    incident, audit = _outcome({"event_ref": incident.event.event_id})
    assert (incident.state.value, audit[-1].kind, audit[-1].actor) == ("rejected", "approval.rejected", "timeout")
    subject, body = approval_text(incident)
    # Airflow shows HITL details to every reader of patchit_remediation: ids and a link, no diff
    assert incident.incident_id in subject and "orders_daily" in subject
    assert f"/patchit/incidents/{incident.incident_id}" in body and "x = 1" not in body and "sk-abcdef" not in body
