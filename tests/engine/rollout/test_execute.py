"""The recovery executor against a fake Airflow that speaks the REST API's documented shapes
(ClearTaskInstancesBody, TaskInstanceResponse with dag_version.version_number) and the real
rollout store on SQLite. A fake worker runs cleared task instances when the executor sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from patchit_provider.engine.models import (
    ApprovalPoint,
    FailureEvent,
    Incident,
    MemberResult,
    RecoveryMember,
    RolloutRun,
    RolloutState,
)
from patchit_provider.engine.rollout.execute import (
    ExecuteInput,
    RolloutContext,
    execute_rollout,
)
from patchit_provider.engine.rollout.kpis import rollout_kpis
from patchit_provider.engine.rollout.members import recovery_spec
from patchit_provider.engine.rollout.planner import plan_rollout
from patchit_provider.engine.rollout.records import (
    RecoveryContext,
    RecoveryError,
    RecoveryInput,
    plan_recovery,
)
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store.rollouts import CLEARED, open_rollouts

DAG = "orders_hourly"
TASK = "load"
FP = "fp-same"
CLEAR_KEYS = {
    "dry_run",
    "only_failed",
    "dag_run_id",
    "task_ids",
    "run_on_latest_version",
    "note",
    "reset_dag_runs",
    "include_upstream",
    "include_downstream",
    "include_future",
    "include_past",
}


class FakeAirflow:
    """TIs by (run_id, map_index); `outcome(run_id)` decides how a re-run ends."""

    def __init__(self, runs: list[str], outcome=lambda run_id: "success", version: int = 2) -> None:
        self.tis = {
            r: {
                "dag_id": DAG,
                "dag_run_id": r,
                "task_id": TASK,
                "map_index": -1,
                "state": "failed",
                "try_number": 1,
                "pool": "default_pool",
                "dag_version": {"version_number": 1},
                "duration": 3.0,
            }
            for r in runs
        }
        self.outcome = outcome
        self.version = version
        self.clears: list[dict[str, Any]] = []  # real clears only
        self.dry_runs: list[dict[str, Any]] = []
        self.queued: list[str] = []
        self.open_slots = 128
        self.inflight_max = 0

    # -- RolloutApi --
    def clear_task_instances(self, dag_id: str, body: dict[str, Any]) -> dict[str, Any]:
        assert dag_id == DAG and set(body) <= CLEAR_KEYS, body
        assert body["only_failed"] is True and body["run_on_latest_version"] is True and len(body["note"]) <= 1000
        ti = self.tis[body["dag_run_id"]]
        hit = [ti] if ti["state"] == "failed" and body["task_ids"] == [TASK] else []
        if body["dry_run"]:
            self.dry_runs.append(body)
        else:
            self.clears.append(body)
            for t in hit:
                t["state"] = None
                t["dag_version"] = {"version_number": self.version}
        self.inflight_max = max(self.inflight_max, sum(1 for t in self.tis.values() if t["state"] is None))
        return {"task_instances": [dict(t) for t in hit], "total_entries": len(hit)}

    def get_task_instance(self, dag_id, run_id, task_id, map_index=-1):
        return dict(self.tis[run_id])

    def latest_dag_version(self, dag_id):
        return self.version

    def queued_run_ids(self, dag_id):
        return list(self.queued)

    def pool_open_slots(self, pool):
        return self.open_slots

    # -- recovery listing --
    def list_task_instances(self, dag_id, *, task_id, state):
        return [dict(t) for t in self.tis.values() if t["state"] == state]

    def work(self) -> None:
        """The scheduler and a worker: every cleared TI runs one try."""
        for run_id, ti in self.tis.items():
            if ti["state"] is None:
                ti["try_number"] += 1
                ti["state"] = self.outcome(run_id)


class Desk:
    def __init__(self, fingerprints=None) -> None:
        self.fingerprints = fingerprints or {}
        self.escalations: list[tuple[str, str, dict]] = []
        self.handed: list[str] = []

    def fingerprint_of(self, member: RecoveryMember, try_number: int) -> str | None:
        return self.fingerprints.get(member.run_id, FP)

    def escalate(self, subject, message, data):
        self.escalations.append((subject, message, data))

    def hand_off(self, member, try_number):
        self.handed.append(member.run_id)
        return f"patchit_remediation run for {member.run_id}"


class Clock:
    def __init__(self, airflow: FakeAirflow) -> None:
        self.t = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
        self.airflow = airflow
        self.slept = 0.0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept += seconds
        self.t += timedelta(seconds=seconds)
        self.airflow.work()


RUNS = [f"scheduled__2026-11-30T0{h}:00:00+00:00" for h in range(6)]


@pytest.fixture()
def store(tmp_path):
    with open_rollouts(f"sqlite:///{tmp_path / 'patchit.db'}") as s:
        yield s


def _rollout(store, runs=RUNS, *, waves=(1, "40%"), max_errors=0, concurrency=2, approval_points=(), rid="ro-1"):
    members = [RecoveryMember(dag_id=DAG, run_id=r, task_id=TASK) for r in runs]
    spec = recovery_spec(
        members,
        {},
        subject="inc-1",
        waves=waves,
        max_errors=max_errors,
        max_concurrency=concurrency,
        approval_points=approval_points,
    )
    plan = plan_rollout(spec)
    assert plan.valid, plan.problems
    return store.create(
        RolloutRun(
            rollout_id=rid, subject="inc-1", fingerprint=FP, plan=plan, targets={m.member_id: m for m in members}
        )
    )


def _ctx(store, airflow, desk=None):
    return RolloutContext(
        store=None, settings=PatchitSettings(), api=airflow, records=store, desk=desk or Desk(), clock=Clock(airflow)
    )


def _results(store, rid="ro-1"):
    run = store.get(rid)
    return {r.member.split("/")[1]: r for w in run.waves for r in w.results}


def test_recovery_clears_canary_then_waves_and_every_run_succeeds_on_the_fixed_version(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.SUCCEEDED
    saved = store.get(run.rollout_id)
    assert [len(w.members) for w in saved.waves] == [1, 2, 2, 1]
    assert saved.waves[0].members == [f"{DAG}/{RUNS[0]}/{TASK}/-1"]  # the canary: the oldest run
    assert all(r.result is MemberResult.SUCCEEDED and r.dag_version == 2 for r in _results(store).values())
    assert [c["dag_run_id"] for c in airflow.clears] == RUNS  # each once, canary first
    assert len(airflow.dry_runs) == 6 and all(d["dry_run"] for d in airflow.dry_runs)
    assert airflow.inflight_max <= 2
    assert all(run.rollout_id in c["note"] for c in airflow.clears)
    assert saved.fixed_versions == {DAG: 2}
    kpis = rollout_kpis([saved])
    assert kpis.succeeded == 1 and kpis.member_success_rate == 1.0 and kpis.time_to_recover_p50_seconds > 0


def test_fix_that_still_fails_stops_at_the_canary_and_escalates(store):
    airflow = FakeAirflow(RUNS, outcome=lambda r: "failed")
    desk = Desk()
    run = _rollout(store, max_errors=3)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow, desk))
    assert out.state is RolloutState.ESCALATED and "did not work" in out.reason
    assert [c["dag_run_id"] for c in airflow.clears] == [RUNS[0]]  # no other run touched
    assert all(airflow.tis[r]["try_number"] == 1 for r in RUNS[1:])
    assert _results(store)[RUNS[0]].result is MemberResult.FAILED_SAME_FINGERPRINT
    assert desk.escalations and desk.escalations[0][0] == "inc-1"
    assert rollout_kpis([store.get(run.rollout_id)]).aborted == 1


def test_a_new_fingerprint_is_handed_off_and_counts_against_the_budget(store):
    airflow = FakeAirflow(RUNS, outcome=lambda r: "failed" if r in RUNS[1:3] else "success")
    desk = Desk({RUNS[1]: "fp-other", RUNS[2]: "fp-other"})
    run = _rollout(store, max_errors=1, concurrency=1)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow, desk))
    # 2 failures strictly exceed a budget of 1: stop after the second, nothing after it cleared
    assert out.state is RolloutState.ESCALATED and "budget" in out.reason
    assert desk.handed == RUNS[1:3]
    assert [c["dag_run_id"] for c in airflow.clears] == RUNS[:3]
    assert _results(store)[RUNS[1]].result is MemberResult.FAILED_NEW_FINGERPRINT


def test_budget_not_exceeded_when_failures_equal_it(store):
    airflow = FakeAirflow(RUNS, outcome=lambda r: "failed" if r == RUNS[2] else "success")
    run = _rollout(store, max_errors=1)
    out = execute_rollout(
        ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow, Desk({RUNS[2]: "fp-other"}))
    )
    assert out.state is RolloutState.SUCCEEDED and out.failures == 1


@pytest.mark.parametrize("state", ["skipped", "upstream_failed"])
def test_skipped_or_upstream_failed_is_inconclusive_never_a_success(store, state):
    airflow = FakeAirflow(RUNS, outcome=lambda r: state)
    run = _rollout(store, max_errors=0)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.ESCALATED
    assert _results(store)[RUNS[0]].result is MemberResult.INCONCLUSIVE


def test_a_silent_member_times_out_inconclusive(store):
    airflow = FakeAirflow(RUNS, outcome=lambda r: None)  # never reaches an end state
    run = _rollout(store, max_errors=0)
    out = execute_rollout(
        ExecuteInput(rollout_id=run.rollout_id, poll_seconds=10, member_timeout_seconds=60), _ctx(store, airflow)
    )
    assert out.state is RolloutState.ESCALATED
    assert "no end state" in _results(store)[RUNS[0]].reason


def test_success_on_an_old_dag_version_is_not_counted(store):
    airflow = FakeAirflow(RUNS)
    original = airflow.clear_task_instances

    def clear_without_latest(dag_id, body):  # an API that ignored run_on_latest_version
        answer = original(dag_id, body)
        for ti in airflow.tis.values():
            if ti["state"] is None:
                ti["dag_version"] = {"version_number": 1}
        return answer

    airflow.clear_task_instances = clear_without_latest
    run = _rollout(store)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.ESCALATED
    assert "not the fixed version 2" in _results(store)[RUNS[0]].reason


def test_dry_run_clearing_something_else_is_refused(store):
    airflow = FakeAirflow(RUNS)
    original = airflow.clear_task_instances

    def wider(dag_id, body):
        answer = original(dag_id, body)
        if body["dry_run"]:
            answer["task_instances"].append({"dag_run_id": RUNS[5], "task_id": TASK, "map_index": -1})
        return answer

    airflow.clear_task_instances = wider
    run = _rollout(store)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.ESCALATED and airflow.clears == []
    assert "dry run would clear 2" in _results(store)[RUNS[0]].reason


def test_crash_after_cleared_is_recorded_resumes_without_clearing_twice(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store)

    class Crashing:
        def __getattr__(self, name):
            return getattr(store, name)

        def mark(self, rollout_id, member, phase, **kw):
            done = store.mark(rollout_id, member, phase, **kw)
            if phase == CLEARED and RUNS[2] in member:
                raise RuntimeError("worker killed")
            return done

    ctx = _ctx(store, airflow)
    ctx.records = Crashing()
    with pytest.raises(RuntimeError):
        execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), ctx)
    assert [c["dag_run_id"] for c in airflow.clears] == RUNS[:3]
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.SUCCEEDED
    cleared = [c["dag_run_id"] for c in airflow.clears]
    assert sorted(cleared) == sorted(RUNS) and len(cleared) == len(set(cleared))
    assert all(t["try_number"] == 2 for t in airflow.tis.values())  # one re-run each
    assert RUNS[2] not in " ".join(out.cleared_now)


def test_crash_between_clearing_and_cleared_checks_airflow_before_clearing(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store)
    member = f"{DAG}/{RUNS[0]}/{TASK}/-1"
    store.mark(run.rollout_id, member, "clearing", try_before=1)
    airflow.clear_task_instances(
        DAG,
        {
            "dry_run": False,
            "only_failed": True,
            "dag_run_id": RUNS[0],
            "task_ids": [TASK],
            "run_on_latest_version": True,
            "note": "x",
        },
    )
    airflow.clears.clear()
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert out.state is RolloutState.SUCCEEDED
    assert RUNS[0] not in [c["dag_run_id"] for c in airflow.clears]


def test_approval_points_wait_and_gates_pause(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store, approval_points=[ApprovalPoint.BEFORE_PROMOTION])
    ctx = _ctx(store, airflow)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), ctx)
    assert out.state is RolloutState.AWAITING_APPROVAL and out.awaiting_approval == "before_promotion"
    assert [c["dag_run_id"] for c in airflow.clears] == [RUNS[0]]
    saved = store.get(run.rollout_id)
    saved.approved_by["before_promotion"] = "alice"
    store.save(saved)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), ctx)
    assert out.state is RolloutState.SUCCEEDED and len(airflow.clears) == 6


def test_stop_after_canary_returns_running(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store)
    out = execute_rollout(
        ExecuteInput(rollout_id=run.rollout_id, stop_after_wave=0, poll_seconds=1), _ctx(store, airflow)
    )
    assert out.state is RolloutState.RUNNING and out.waves_finished == 1 and len(airflow.clears) == 1


def test_waits_while_live_runs_are_queued_then_pauses(store):
    airflow = FakeAirflow(RUNS)
    airflow.queued = ["scheduled__2026-12-01T10:00:00+00:00"]  # a live run, not a member
    run = _rollout(store)
    ctx = _ctx(store, airflow)
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=5, pressure_wait_seconds=30), ctx)
    assert out.state is RolloutState.PAUSED and "queued" in out.reason and airflow.clears == []
    assert ctx.clock.slept == 30
    airflow.queued, airflow.open_slots = [], 0
    out = execute_rollout(
        ExecuteInput(rollout_id=run.rollout_id, resume=True, poll_seconds=5, pressure_wait_seconds=10), ctx
    )
    assert out.state is RolloutState.PAUSED and "pool default_pool is full" in out.reason
    airflow.open_slots = 4
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, resume=True, poll_seconds=1), ctx)
    assert out.state is RolloutState.SUCCEEDED


def test_plan_recovery_finds_failed_members_with_the_fingerprint(store):
    airflow = FakeAirflow(RUNS + ["manual__x"])
    airflow.tis[RUNS[5]]["state"] = "success"  # recovered already: not a member
    occurrences = [FailureEvent(pipeline_id=DAG, run_id=r, task_id=TASK, try_number=1) for r in RUNS[:2]]

    class Incidents:
        def get_incident(self, incident_id):
            return (
                Incident(incident_id="inc-1", event=occurrences[0], fingerprint=FP) if incident_id == "inc-1" else None
            )

        def occurrences(self, incident_id):
            return occurrences

    desk = Desk({"manual__x": "fp-other"})  # failed, but for another reason
    ctx = RecoveryContext(incidents=Incidents(), api=airflow, records=store, desk=desk)
    run = plan_recovery(RecoveryInput(incident_id="inc-1", rollout_id="ro-9"), ctx)
    assert sorted(m.run_id for m in run.targets.values()) == sorted(RUNS[:5])
    assert run.plan.valid and run.state is RolloutState.PLANNED and store.get("ro-9") is not None
    assert run.failed_versions == {DAG: 1} and run.transient is False
    assert run.plan.member_seconds[f"{DAG}/{RUNS[0]}/{TASK}/-1"] == 3  # the success history of RUNS[5]
    with pytest.raises(RecoveryError):
        plan_recovery(RecoveryInput(incident_id="inc-404", rollout_id="ro-10"), ctx)


def test_a_member_another_executor_took_meanwhile_is_watched_not_cleared(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store)
    canary = f"{DAG}/{RUNS[0]}/{TASK}/-1"

    class Racing:  # a second executor of the same rollout marks and clears the canary first
        def __getattr__(self, name):
            return getattr(store, name)

        def mark(self, rollout_id, member, phase, **kw):
            if member == canary and phase == "clearing" and not store.marks(rollout_id).get(member):
                store.mark(rollout_id, member, phase, **kw)
                airflow.clear_task_instances(
                    DAG,
                    {
                        "dry_run": False,
                        "only_failed": True,
                        "dag_run_id": RUNS[0],
                        "task_ids": [TASK],
                        "run_on_latest_version": True,
                        "note": "other",
                    },
                )
            return store.mark(rollout_id, member, phase, **kw)

    ctx = _ctx(store, airflow)
    ctx.records = Racing()
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), ctx)
    assert out.state is RolloutState.SUCCEEDED
    cleared = [c["dag_run_id"] for c in airflow.clears]
    assert cleared.count(RUNS[0]) == 1 and canary not in out.cleared_now
    assert _results(store)[RUNS[0]].result is MemberResult.SUCCEEDED


def test_a_person_stopping_the_rollout_meanwhile_wins_over_the_executor(store):
    airflow = FakeAirflow(RUNS)
    run = _rollout(store, concurrency=1)
    ctx = _ctx(store, airflow)
    work = airflow.work

    def work_then_reject():  # while the canary runs, a person rejects the rollout on its page
        work()
        store.modify(
            run.rollout_id,
            lambda r: r.model_copy(update={"state": RolloutState.ABORTED, "reason": "rejected by alice: wrong fix"}),
        )

    airflow.work = work_then_reject
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), ctx)
    assert out.state is RolloutState.ABORTED and out.reason == "rejected by alice: wrong fix"
    assert [c["dag_run_id"] for c in airflow.clears] == [RUNS[0]]  # nothing cleared after the decision
    assert store.get(run.rollout_id).state is RolloutState.ABORTED
    again = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    assert again.state is RolloutState.ABORTED and len(airflow.clears) == 1


@pytest.mark.parametrize("transient", [False, True])
def test_no_newer_dag_version_than_the_failing_one_pauses_unless_the_cause_was_transient(store, transient):
    airflow = FakeAirflow(RUNS, version=1)  # the fix is not parsed yet: the latest version is the failing one
    run = _rollout(store)
    store.modify(run.rollout_id, lambda r: r.model_copy(update={"failed_versions": {DAG: 1}, "transient": transient}))
    out = execute_rollout(ExecuteInput(rollout_id=run.rollout_id, poll_seconds=1), _ctx(store, airflow))
    if transient:
        assert out.state is RolloutState.SUCCEEDED and len(airflow.clears) == 6
    else:
        assert out.state is RolloutState.PAUSED and "no version newer" in out.reason and airflow.clears == []
