"""The rollout of a fix, planned on the rollout contract (`RolloutSpec` -> `plan_rollout`) and
executed by the same executor as recoveries (engine/rollout/execute.py, `patchit_rollout`).

Members are the affected DAGs (their ids, else their files), least critical first by the
planner's own rule; a canary of one, then half, then the rest; the finding's deadline is the
plan's deadline. A finding without a fixed version has no rollout: it is accepted or mitigated
(engine/vulns/incident.py).

The deployment model. PATCHIT publishes the validated requirements patch on a branch
(`patchit/<finding id>`) and never merges or installs anything itself: the platform team's own
deployment makes the upgraded requirements what the member DAGs run with. The plan of an
upgrade (`UPGRADE_APPROVAL`) therefore asks a person before the first wave: approving it says
"the upgrade is deployed where the canary runs". From then on each wave records the upgrade
as deployed to its DAGs and gates on each one's NEXT run: by default PATCHIT triggers that run
(`deploy = "trigger"`: one run per DAG and wave, a deterministic run id, so nothing is run twice),
or, for DAGs that must not run off schedule, waits for the next scheduled run after the
deployment (`deploy = "next_run"`). The run must end `success` within the wave's time-out (from
the plan's durations); a failure or a time-out counts against the error budget (0 by default:
the first one halts the rollout, later waves never start, and the finding is escalated with why).
The gate cannot hold back the scheduled runs of later waves' DAGs when the deployment reached
them too (one shared environment): it then tells, before their own runs do, that the upgrade
breaks a DAG.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any, Protocol

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import (
    RolloutPlan,
    RolloutRun,
    RolloutState,
    UpgradeTarget,
    VulnFinding,
    VulnRecord,
)
from patchit_provider.engine.rollout import plan_rollout

DEFAULT_WAVES: list[Any] = [1, "50%", "100%"]
# One member = the patched DAG's next run; without its duration history (the Airflow adapter
# passes `duration_history`), an hour is assumed and said in the plan's assumptions.
DEFAULT_MEMBER_SECONDS = 3600
# The approval before the first wave is the deployment: a person says the upgrade is deployed.
UPGRADE_APPROVAL = ["before_first_wave"]


class UpgradeNotReady(InputError, ValueError):
    """The finding has no valid plan or no published patch: there is nothing to roll out."""


def fix_rollout_spec(finding: VulnFinding, **overrides: Any) -> dict[str, Any] | None:
    """The rollout spec (JSON form) of a finding's upgrade, or None when there is nothing to roll out."""
    if finding.action != "upgrade" or not finding.dag_details:
        return None
    members: dict[str, int] = {}
    for dag in finding.dag_details:
        for member in dag.dag_ids or [dag.path]:
            members[member] = max(members.get(member, 0), dag.criticality)
    end_of_deadline = datetime.combine(
        datetime.fromisoformat(finding.deadline).date(), time(23, 59), tzinfo=timezone.utc
    )
    spec: dict[str, Any] = {
        "members": [{"id": m, "criticality": c} for m, c in sorted(members.items())],
        "waves": DEFAULT_WAVES,
        "max_errors": 0,
        "max_concurrency": 1,
        "bake_seconds": 0,
        "member_seconds": DEFAULT_MEMBER_SECONDS,
        "assumptions": [f"a member takes {DEFAULT_MEMBER_SECONDS} s (its next run) unless a duration history is given"],
        "deadline": end_of_deadline.isoformat(),
        "subject": f"{finding.package}=={finding.fixed_version}",
        "rationale": f"upgrade {finding.package} {finding.version} -> {finding.fixed_version} ({', '.join(finding.advisories)})",
    }
    return spec | overrides


def plan_fix_rollout(finding: VulnFinding, *, now: datetime | None = None, **overrides: Any) -> RolloutPlan | None:
    spec = fix_rollout_spec(finding, **overrides)
    return None if spec is None else plan_rollout(spec, now=now)


def upgrade_run(record: VulnRecord, rollout_id: str, *, deploy: str = "trigger") -> RolloutRun:
    """The run record of a finding's upgrade rollout: its members are the plan's DAG ids, its
    `upgrade` the published branch and commit; awaiting approval when the plan asks first."""
    finding, plan = record.finding, record.rollout_plan
    if finding.action != "upgrade" or finding.fixed_version is None:
        raise UpgradeNotReady(f"finding {record.finding_id} has no fixed version: it is accepted or mitigated")
    if plan is None or not plan.valid or not plan.waves:
        raise UpgradeNotReady(f"finding {record.finding_id} has no valid rollout plan")
    if not (record.branch or record.commit):
        raise UpgradeNotReady(f"finding {record.finding_id}: the requirements patch is not published")
    if deploy not in ("trigger", "next_run"):
        raise UpgradeNotReady(f"unknown deploy mode {deploy!r}: trigger or next_run")
    plan = plan.model_copy(update={"plan_id": rollout_id})
    waiting = plan.waves[0].approval_before
    return RolloutRun(
        rollout_id=rollout_id,
        kind="upgrade",
        subject=record.finding_id,
        plan=plan,
        plan_id=rollout_id,
        plan_version=plan.version,
        upgrade=UpgradeTarget(
            finding_id=record.finding_id,
            package=finding.package,
            from_version=finding.version,
            to_version=finding.fixed_version,
            branch=record.branch,
            commit=record.commit,
            deploy="next_run" if deploy == "next_run" else "trigger",
        ),
        state=RolloutState.AWAITING_APPROVAL if waiting else RolloutState.PLANNED,
    )


class RunRecords(Protocol):
    def get(self, rollout_id: str) -> RolloutRun | None: ...

    def create(self, run: RolloutRun) -> RolloutRun: ...


class FindingRecords(Protocol):
    def save(self, record: VulnRecord) -> VulnRecord: ...


def start_upgrade_rollout(
    record: VulnRecord, vulns: FindingRecords, runs: RunRecords, rollout_id: str, *, deploy: str = "trigger"
) -> tuple[VulnRecord, RolloutRun, bool]:
    """(record, run, created): store the upgrade's run and link the finding to it; a finding
    that already has its run keeps it (idempotent)."""
    if record.rollout_id:
        existing = runs.get(record.rollout_id)
        if existing is not None:
            return record, existing, False
    run = runs.create(upgrade_run(record, rollout_id, deploy=deploy))
    return vulns.save(record.model_copy(update={"rollout_id": run.rollout_id})), run, True
