"""Upgrade rollouts on the recovery executor: a member is a DAG; a wave deploys the upgrade to
its DAGs and gates on each one's next run. Against a fake Airflow that speaks the REST API's
DAG-run shapes (POST dagRuns with 409 on a repeated run id, GET dagRuns/{id}, GET dagRuns with
run_after_gte) and the real rollout store on SQLite; a fake scheduler advances runs when the
executor sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from patchit_provider.engine.models import (
    MemberResult,
    RolloutPlan,
    RolloutState,
    VulnDag,
    VulnFinding,
    VulnRecord,
)
from patchit_provider.engine.rollout.execute import (
    ExecuteInput,
    RolloutContext,
    RolloutStage,
    execute_rollout,
    upgrade_run_id,
)
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store.rollouts import CLEARED, open_rollouts
from patchit_provider.engine.vulns.rollout import (
    UPGRADE_APPROVAL,
    UpgradeNotReady,
    plan_fix_rollout,
    start_upgrade_rollout,
    upgrade_run,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
# criticality: reports (1) < sales_daily (2) < billing (3) < finance_close (5)
DAGS = {"reports": 1, "sales_daily": 2, "billing": 3, "finance_close": 5}


class FakeAirflow:
    """DAG runs by (dag_id, run_id). `outcome(dag_id)` is how a run ends: "success", "failed" or
    None (never ends). Each sleep of the clock is one scheduler pass: queued -> running -> end."""

    def __init__(self, outcome=lambda dag_id: "success") -> None:
        self.outcome = outcome
        self.runs: dict[tuple[str, str], dict[str, Any]] = {}
        self.created: list[tuple[str, str]] = []  # runs really created by POST dagRuns, in order
        self.duplicates: list[tuple[str, str]] = []  # POSTs answered 409
        self.clock: Clock | None = None

    # -- RolloutApi (the upgrade part) --
    def trigger_dag_run(self, dag_id, run_id, conf, note=None):
        assert set(conf) == {"patchit_rollout_id"} and note and len(note) <= 1000
        if (dag_id, run_id) in self.runs:
            self.duplicates.append((dag_id, run_id))
            return "duplicate"
        self._add(dag_id, run_id, "queued")
        self.created.append((dag_id, run_id))
        return "created"

    def get_dag_run(self, dag_id, run_id):
        run = self.runs.get((dag_id, run_id))
        return dict(run) if run else None

    def dag_runs_after(self, dag_id, after):
        since = datetime.fromisoformat(after)
        found = [r for (d, _), r in self.runs.items() if d == dag_id and r["run_after"] >= since]
        return [dict(r) for r in sorted(found, key=lambda r: r["run_after"])]

    # never called for upgrades (no task instances, no pools)
    def clear_task_instances(self, dag_id, body):
        raise AssertionError("an upgrade clears nothing")

    def get_task_instance(self, *a, **kw):
        raise AssertionError("an upgrade reads no task instance")

    # -- the fake scheduler --
    def _add(self, dag_id: str, run_id: str, state: str, run_after: datetime | None = None) -> None:
        self.runs[(dag_id, run_id)] = {
            "dag_id": dag_id,
            "dag_run_id": run_id,
            "state": state,
            "run_after": run_after or (self.clock.now() if self.clock else T0),
            "bundle_version": "abc123",
            "dag_versions": [{"version_number": 3}],
        }

    def schedule(self, dag_id: str, run_after: datetime) -> str:
        run_id = f"scheduled__{run_after.isoformat()}"
        self._add(dag_id, run_id, "queued", run_after)
        return run_id

    def work(self) -> None:
        now = self.clock.now() if self.clock else T0
        for (dag_id, _), run in self.runs.items():
            if run["run_after"] > now:
                continue
            if run["state"] == "queued":
                run["state"] = "running"
            elif run["state"] == "running" and self.outcome(dag_id) is not None:
                run["state"] = self.outcome(dag_id)


class Clock:
    def __init__(self, airflow: FakeAirflow) -> None:
        self.t = T0
        self.airflow = airflow
        airflow.clock = self

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.t += timedelta(seconds=seconds)
        self.airflow.work()


class Desk:
    def __init__(self) -> None:
        self.escalations: list[tuple[str, str, dict]] = []

    def fingerprint_of(self, member, try_number):
        raise AssertionError("an upgrade has no fingerprint")

    def escalate(self, subject, message, data):
        self.escalations.append((subject, message, data))

    def hand_off(self, member, try_number):
        raise AssertionError("an upgrade hands nothing off")


def finding(dags=DAGS) -> VulnFinding:
    return VulnFinding(
        package="tinyvuln",
        version="1.0",
        advisories=["GHSA-tiny-vuln-0001"],
        fixed_version="1.1",
        action="upgrade",
        deadline="2027-03-01",
        dag_details=[VulnDag(path=f"dags/{d}.py", dag_ids=[d], criticality=c) for d, c in dags.items()],
    )


def record(*, approval=(), dags=DAGS, **plan_overrides) -> VulnRecord:
    found = finding(dags)
    plan = plan_fix_rollout(found, now=T0, approval_points=list(approval), **plan_overrides)
    assert plan is not None and plan.valid, plan.problems if plan else None
    return VulnRecord(
        finding_id="vf-0123456789abcdef",
        finding=found,
        state="rollout_planned",
        branch="patchit/vf-0123456789abcdef",
        commit="0123456789abcdef0123",
        rollout_plan=plan,
    )


@pytest.fixture()
def store(tmp_path):
    with open_rollouts(f"sqlite:///{tmp_path / 'patchit.db'}") as s:
        yield s


def _start(store, rec: VulnRecord, rid="ro-00000000aa01", deploy="trigger"):
    return store.create(upgrade_run(rec, rid, deploy=deploy))


def _ctx(store, airflow, desk=None, clock=None):
    return RolloutContext(
        store=None,
        settings=PatchitSettings(),
        api=airflow,
        records=store,
        desk=desk or Desk(),
        clock=clock or Clock(airflow),
    )


def _results(store, rid="ro-00000000aa01"):
    return {r.member: r for w in store.get(rid).waves for r in w.results}


def _execute(store, rid, ctx, **kw):
    return execute_rollout(ExecuteInput(rollout_id=rid, poll_seconds=60, **kw), ctx)


def test_the_rollout_pipeline_registers_its_stages_in_the_framework():
    from patchit_provider.engine.stages import pipeline
    from patchit_provider.engine.stages.rollout import ROLLOUT

    assert pipeline("rollout") is ROLLOUT
    assert ROLLOUT.keys() == [RolloutStage.PLAN, RolloutStage.APPROVE, RolloutStage.EXECUTE_WAVE, RolloutStage.GATE]


def test_the_canary_dags_next_run_succeeds_then_the_rest_follow_least_critical_first(store):
    airflow = FakeAirflow()
    run = _start(store, record())
    assert [w.members for w in run.plan.waves] == [["reports"], ["sales_daily", "billing"], ["finance_close"]]
    out = _execute(store, run.rollout_id, _ctx(store, airflow))
    assert out.state is RolloutState.SUCCEEDED, out.reason
    # one run per DAG, in wave order: nothing started in a wave before the canary's run succeeded
    assert airflow.created == [
        ("reports", upgrade_run_id(run.rollout_id, 0)),
        ("sales_daily", upgrade_run_id(run.rollout_id, 1)),
        ("billing", upgrade_run_id(run.rollout_id, 1)),
        ("finance_close", upgrade_run_id(run.rollout_id, 2)),
    ]
    results = _results(store)
    assert all(r.result is MemberResult.SUCCEEDED and r.action == "trigger" for r in results.values())
    assert results["reports"].run_id == upgrade_run_id(run.rollout_id, 0)
    assert results["reports"].bundle_version == "abc123" and results["reports"].dag_version == 3
    saved = store.get(run.rollout_id)
    canary_end = saved.waves[0].finished_at
    assert all(r.deployed_at >= canary_end for w in saved.waves[1:] for r in w.results)
    assert sorted(out.cleared_now) == sorted(DAGS)


def test_a_failed_canary_halts_the_rollout_and_escalates_later_waves_never_start(store):
    airflow = FakeAirflow(outcome=lambda dag: "failed" if dag == "reports" else "success")
    desk = Desk()
    run = _start(store, record())
    out = _execute(store, run.rollout_id, _ctx(store, airflow, desk))
    assert out.state is RolloutState.ESCALATED and "error budget exceeded" in out.reason and "reports" in out.reason
    assert [dag for dag, _ in airflow.created] == ["reports"]  # no other DAG was run
    assert _results(store)["reports"].result is MemberResult.FAILED
    saved = store.get(run.rollout_id)
    assert [w.index for w in saved.waves] == [0] and saved.failures == 1
    [(subject, message, data)] = desk.escalations
    assert subject == "vf-0123456789abcdef" and data["kind"] == "upgrade" and data["member"] == "reports"
    assert "after the upgrade" in message


def test_failures_within_the_budget_continue_and_the_one_beyond_halts(store):
    airflow = FakeAirflow(outcome=lambda dag: "failed" if dag in ("sales_daily", "finance_close") else "success")
    run = _start(store, record(max_errors=1))
    out = _execute(store, run.rollout_id, _ctx(store, airflow))
    # sales_daily's failure is within the budget of 1; finance_close's second failure exceeds it
    assert out.state is RolloutState.ESCALATED and out.failures == 2
    assert [dag for dag, _ in airflow.created] == ["reports", "sales_daily", "billing", "finance_close"]
    results = _results(store)
    assert results["billing"].result is MemberResult.SUCCEEDED
    assert results["finance_close"].result is MemberResult.FAILED


def test_a_dag_whose_run_never_ends_times_out_against_the_budget(store):
    airflow = FakeAirflow(outcome=lambda dag: None)  # the run stays running
    run = _start(store, record())
    timeout = run.plan.waves[0].seconds * 2  # the plan's estimate x wave_timeout_factor
    assert timeout == 7200
    clock = Clock(airflow)
    out = _execute(store, run.rollout_id, _ctx(store, airflow, clock=clock))
    assert out.state is RolloutState.ESCALATED
    canary = _results(store)["reports"]
    assert canary.result is MemberResult.INCONCLUSIVE and "timed out" in canary.reason and "7200 s" in canary.reason
    assert canary.state == "running" and (clock.t - T0).total_seconds() == pytest.approx(timeout, abs=60)
    assert [dag for dag, _ in airflow.created] == ["reports"]


def test_a_resumed_task_never_triggers_a_member_twice(store):
    """The rollout task is killed twice mid-wave: once after a run was triggered but before the
    journal said so, once after the journal said so. The retried task resumes from the records."""
    airflow = FakeAirflow()
    run = _start(store, record())
    ctx = _ctx(store, airflow)

    class Killed(Exception):
        pass

    class Crashing:
        def __init__(self, member: str, *, before: bool) -> None:
            self.member, self.before = member, before

        def __getattr__(self, name):
            return getattr(store, name)

        def mark(self, rollout_id, member, phase, **kw):
            if phase == CLEARED and member == self.member and self.before:
                raise Killed("worker killed after the trigger, before 'deployed' was journaled")
            done = store.mark(rollout_id, member, phase, **kw)
            if phase == CLEARED and member == self.member:
                raise Killed("worker killed after 'deployed' was journaled")
            return done

    ctx.records = Crashing("sales_daily", before=True)
    with pytest.raises(Killed):
        _execute(store, run.rollout_id, ctx)
    ctx.records = Crashing("billing", before=False)
    with pytest.raises(Killed):
        _execute(store, run.rollout_id, ctx)
    ctx.records = store
    out = _execute(store, run.rollout_id, ctx, resume=True)
    assert out.state is RolloutState.SUCCEEDED, out.reason
    started = [dag for dag, _ in airflow.created]
    assert sorted(started) == sorted(DAGS) and len(started) == len(set(started))  # one run each
    assert airflow.duplicates == [("sales_daily", upgrade_run_id(run.rollout_id, 1))]  # Airflow's 409, no 2nd run
    assert "billing" not in out.cleared_now and "reports" not in out.cleared_now
    assert all(r.result is MemberResult.SUCCEEDED for r in _results(store).values())


def test_next_run_mode_triggers_nothing_and_judges_the_first_run_after_the_deployment(store):
    airflow = FakeAirflow(outcome=lambda dag: "failed")
    clock = Clock(airflow)
    dags = {"reports": 1, "billing": 3}
    run = _start(store, record(dags=dags), deploy="next_run")
    # a run of reports scheduled before the deployment failed: it is not the upgrade's run
    airflow.schedule("reports", T0 - timedelta(hours=1))
    airflow.outcome = lambda dag: "success"
    airflow.runs[("reports", f"scheduled__{(T0 - timedelta(hours=1)).isoformat()}")]["state"] = "failed"
    nxt = airflow.schedule("reports", T0 + timedelta(minutes=30))
    later = airflow.schedule("billing", T0 + timedelta(hours=1, minutes=30))
    out = _execute(store, run.rollout_id, _ctx(store, airflow, clock=clock))
    assert out.state is RolloutState.SUCCEEDED, out.reason
    assert airflow.created == []  # nothing triggered
    results = _results(store)
    assert results["reports"].run_id == nxt and results["reports"].action == "next_run"
    assert results["billing"].run_id == later and results["billing"].result is MemberResult.SUCCEEDED


def test_the_first_wave_waits_for_the_deployment_approval(store):
    airflow = FakeAirflow()
    run = _start(store, record(approval=UPGRADE_APPROVAL))
    assert run.state is RolloutState.AWAITING_APPROVAL
    ctx = _ctx(store, airflow)
    out = _execute(store, run.rollout_id, ctx)
    assert out.state is RolloutState.AWAITING_APPROVAL and out.awaiting_approval == "before_first_wave"
    assert airflow.created == []
    store.modify(run.rollout_id, lambda r: r.model_copy(update={"approved_by": {"before_first_wave": "alice"}}))
    assert _execute(store, run.rollout_id, ctx).state is RolloutState.SUCCEEDED
    assert len(airflow.created) == len(DAGS)


def test_an_upgrade_needs_a_valid_plan_and_a_published_patch(store):
    unpublished = record().model_copy(update={"branch": None, "commit": None})
    with pytest.raises(UpgradeNotReady, match="not published"):
        upgrade_run(unpublished, "ro-00000000aa02")
    invalid = record().model_copy(update={"rollout_plan": RolloutPlan(valid=False, problems=["x"])})
    with pytest.raises(UpgradeNotReady, match="no valid rollout plan"):
        upgrade_run(invalid, "ro-00000000aa03")


def test_starting_a_findings_rollout_links_it_once(store):
    saved: list[VulnRecord] = []

    class Findings:
        def save(self, rec):
            saved.append(rec)
            return rec

    rec, run, created = start_upgrade_rollout(record(), Findings(), store, "ro-00000000aa04")
    assert created and rec.rollout_id == run.rollout_id == "ro-00000000aa04" and run.kind == "upgrade"
    assert run.upgrade.branch == "patchit/vf-0123456789abcdef" and run.subject == rec.finding_id
    again, same, created_again = start_upgrade_rollout(rec, Findings(), store, "ro-00000000aa05")
    assert not created_again and same.rollout_id == "ro-00000000aa04" and store.get("ro-00000000aa05") is None
