"""An approval is answered only once its parked step has settled (www/approvals.py).

Airflow 3.3 resumes a HITL task the moment it is answered, under the try number of the worker
that parked it; answered within the seconds before the scheduler has processed that worker's
exit, the resumed task is failed as "killed externally". PATCHIT's answer therefore waits until
the step has been parked for PARK_SETTLE_SECONDS, and never longer.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from patchit_provider.www import approvals

APPROVER = {"id": approvals.APPROVER_ID, "name": "PATCHIT"}


@pytest.fixture
def parked_step(airflow_db, auth_manager):
    """park(age) -> run_id: a remediation run whose `approval` task parked `age` ago with an
    unanswered HITL request; `park.state(run_id)` -> (task state, chosen options)."""
    from airflow.models.dag_version import DagVersion
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select, update

    made: list[str] = []

    def park(age: timedelta) -> str:
        run_id = f"manual__{uuid.uuid4().hex[:12]}"
        with DAG(approvals.REMEDIATION_DAG_ID, schedule=None):
            task = EmptyOperator(task_id=approvals.APPROVAL_TASK_ID)
        with create_session() as session:
            version = DagVersion.get_latest_version(approvals.REMEDIATION_DAG_ID, session=session)
            session.add(DagRun(dag_id=approvals.REMEDIATION_DAG_ID, run_id=run_id, run_type="manual", state="running"))
            session.flush()
            ti = TaskInstance(task=task, dag_version_id=version.id, run_id=run_id, state="awaiting_input")
            session.add(ti)
            session.flush()
            session.add(
                HITLDetail(
                    ti_id=ti.id,
                    options=["Approve", "Reject"],
                    subject="approve?",
                    body="diff",
                    defaults=None,
                    multiple=False,
                    params={"reason": {"value": "", "schema": {}}},
                    assignees=[APPROVER],
                )
            )
            session.flush()
            # The park is the task instance's last update (the execution API's state change).
            session.execute(
                update(TaskInstance).where(TaskInstance.id == ti.id).values(updated_at=timezone.utcnow() - age)
            )
        made.append(run_id)
        return run_id

    def state(run_id: str):
        with create_session() as session:
            ti_state, chosen = session.execute(
                select(TaskInstance.state, HITLDetail.chosen_options)
                .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
                .where(TaskInstance.run_id == run_id)
            ).one()
        return str(getattr(ti_state, "value", ti_state)), chosen

    park.state = state
    yield park
    with create_session() as session:
        session.execute(delete(TaskInstance).where(TaskInstance.run_id.in_(made)))
        session.execute(delete(DagRun).where(DagRun.run_id.in_(made)))


def _admin():
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return SimpleAuthManagerUser(username="admin", role="admin")


def test_an_answer_right_after_the_park_waits_until_the_step_has_settled(parked_step, monkeypatch):
    monkeypatch.setattr(approvals, "PARK_SETTLE_SECONDS", 1.5)
    run_id = parked_step(timedelta(0))
    started = time.monotonic()
    approvals.answer(run_id, _admin(), approve=True)
    assert time.monotonic() - started >= 1.2  # a real wait first,
    assert parked_step.state(run_id) == ("scheduled", ["Approve"])  # then answered and resumed


def test_a_step_parked_long_ago_is_answered_without_waiting(parked_step, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(approvals.time, "sleep", slept.append)
    run_id = parked_step(timedelta(hours=1))
    approvals.answer(run_id, _admin(), approve=False)
    assert slept == []
    assert parked_step.state(run_id) == ("scheduled", ["Reject"])


def test_the_wait_is_the_rest_of_the_settle_time_never_more(parked_step, monkeypatch):
    monkeypatch.setattr(approvals, "PARK_SETTLE_SECONDS", 20.0)
    slept: list[float] = []
    monkeypatch.setattr(approvals.time, "sleep", slept.append)
    assert approvals.wait_until_settled(parked_step(timedelta(seconds=5))) == pytest.approx(15, abs=2)
    assert approvals.wait_until_settled(parked_step(timedelta(seconds=-60))) == 20.0  # clock skew: capped
    assert approvals.wait_until_settled(parked_step(timedelta(seconds=30))) == 0.0
    assert approvals.wait_until_settled("manual__nothing_parked") == 0.0
    assert slept == pytest.approx([15, 20.0], abs=2)
