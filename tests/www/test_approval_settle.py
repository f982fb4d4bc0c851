"""An approval is answered only once its parked step has settled (www/approvals.py).

Airflow 3.3 resumes a HITL task the moment it is answered, under the try number of the worker
that parked it; answered within the seconds before the scheduler has processed that worker's
exit, the resumed task is failed as "killed externally". PATCHIT's answer therefore waits until
the step has been parked for PARK_SETTLE_SECONDS, and never longer.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from patchit_provider.www import approvals


@pytest.fixture
def parked_step(parked_steps, auth_manager):
    """park(age) -> run_id: a remediation run whose `approval` task parked `age` ago with an
    unanswered HITL request; `park.state(run_id)` -> (task state, chosen options)."""

    def park(age: timedelta) -> str:
        return parked_steps.park(parked_ago=age)

    def state(run_id: str):
        chosen, _, _, ti_state = parked_steps.answer(run_id)
        return str(getattr(ti_state, "value", ti_state)), chosen

    park.state = state
    return park


def _admin():
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return SimpleAuthManagerUser(username="admin", role="admin")


def test_an_answer_right_after_the_park_waits_until_the_step_has_settled(parked_step, monkeypatch):
    monkeypatch.setattr(approvals, "PARK_SETTLE_SECONDS", 1.5)
    waited: list[float] = []
    settle = approvals.wait_until_settled
    monkeypatch.setattr(approvals, "wait_until_settled", lambda *a, **k: waited.append(settle(*a, **k)))
    parked = time.monotonic()  # before the park: the set-up's own time counts toward the settle time
    run_id = parked_step(timedelta(0))
    approvals.answer(run_id, _admin(), approve=True)
    assert len(waited) == 1 and waited[0] > 0  # a real wait first,
    assert time.monotonic() - parked >= 1.4  # until the step had been parked for the settle time,
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
