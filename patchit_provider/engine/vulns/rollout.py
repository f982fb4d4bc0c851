"""The rollout of a fix, planned on the rollout contract (`RolloutSpec` -> `plan_rollout`).

Members are the affected DAGs (their ids, else their files), least critical first by the
planner's own rule; a canary of one, then half, then the rest; the finding's deadline is the
plan's deadline. A finding without a fixed version has no rollout: it is accepted or mitigated.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from patchit_provider.engine.models import RolloutPlan, VulnFinding
from patchit_provider.engine.rollout import plan_rollout

DEFAULT_WAVES: list[Any] = [1, "50%", "100%"]
# One member = the patched DAG's next run; without its duration history (the Airflow adapter
# passes `duration_history`), an hour is assumed and said in the plan's assumptions.
DEFAULT_MEMBER_SECONDS = 3600


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
