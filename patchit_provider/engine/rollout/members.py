"""Who a recovery rollout re-runs, and how long each re-run takes: from Airflow's task instances.

Members are the task instances of the incident's task that are failed NOW, failed since the
first occurrence, and carry the incident's fingerprint: those the store recorded as occurrences,
plus those the API lists whose failed try classifies to the same fingerprint. Durations are the
task's successful tries (p50/p90 via the planner's `duration_history`). Pure: the adapter lists
the task instances (`GET .../dagRuns/~/taskInstances`, paged) and passes them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from patchit_provider.engine.models import (
    FailureEvent,
    RecoveryMember,
    RolloutMember,
    RolloutSpec,
)

# A recovery's default waves: one canary, then a quarter of the members at a time.
RECOVERY_WAVES: tuple[int | str, ...] = (1, "25%")


def member_of(ti: dict[str, Any]) -> RecoveryMember:
    """A task instance of the REST API (TaskInstanceResponse) as a member."""
    return RecoveryMember(
        dag_id=ti["dag_id"],
        run_id=ti["dag_run_id"],
        task_id=ti["task_id"],
        map_index=int(ti.get("map_index", -1) if ti.get("map_index") is not None else -1),
    )


def task_key(dag_id: str, task_id: str) -> str:
    return f"{dag_id}.{task_id}"


def find_members(
    occurrences: Sequence[FailureEvent],
    failed_tis: Iterable[dict[str, Any]],
    *,
    fingerprint: str | None,
    fingerprint_of: Callable[[RecoveryMember, int], str | None] | None = None,
    since: datetime | None = None,
) -> list[RecoveryMember]:
    """The failed task instances to re-run, in a stable order (run id, map index).

    `failed_tis` are the API's currently failed TIs of the incident's task: an occurrence that
    has since succeeded is not re-run. A TI that is not a stored occurrence is kept only when
    `fingerprint_of` gives the incident's fingerprint for its failed try."""
    known = {(e.pipeline_id, e.run_id, e.task_id, e.map_index) for e in occurrences}
    found: dict[str, RecoveryMember] = {}
    for ti in failed_tis:
        if ti.get("state") != "failed":
            continue
        member = member_of(ti)
        ended = _ended(ti)
        if since is not None and ended is not None and ended < since:
            continue
        key = (member.dag_id, member.run_id, member.task_id, member.map_index)
        if key not in known:
            if fingerprint is None or fingerprint_of is None:
                continue
            if fingerprint_of(member, int(ti.get("try_number") or 0)) != fingerprint:
                continue
        found[member.member_id] = member
    return sorted(found.values(), key=lambda m: (m.dag_id, m.run_id, m.task_id, m.map_index))


def _ended(ti: dict[str, Any]) -> datetime | None:
    value = ti.get("end_date") or ti.get("start_date")
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def duration_history(tis: Iterable[dict[str, Any]]) -> dict[str, list[float]]:
    """Task key -> the durations (seconds) of its successful tries."""
    history: dict[str, list[float]] = {}
    for ti in tis:
        if ti.get("state") == "success" and isinstance(ti.get("duration"), (int, float)) and ti["duration"] >= 0:
            history.setdefault(task_key(ti["dag_id"], ti["task_id"]), []).append(float(ti["duration"]))
    return history


def recovery_spec(
    members: Sequence[RecoveryMember],
    history: dict[str, list[float]],
    *,
    subject: str,
    waves: Sequence[int | str] = RECOVERY_WAVES,
    max_errors: int | str = "10%",
    max_concurrency: int = 2,
    bake_seconds: float = 0,
    approval_points: Sequence[str] = (),
    member_seconds: float | None = 60,
) -> RolloutSpec:
    """The planner's input for a recovery: oldest runs are no more critical than newer ones, so
    every member has criticality 1 and the planner's id order (oldest run first) decides."""
    return RolloutSpec(
        members=[RolloutMember(id=m.member_id, task=task_key(m.dag_id, m.task_id)) for m in members],
        waves=list(waves),
        max_errors=max_errors,
        max_concurrency=max_concurrency,
        bake_seconds=bake_seconds,
        duration_history={k: v for k, v in history.items() if v},
        member_seconds=member_seconds,
        approval_points=list(approval_points),
        subject=subject,
        rationale="Recovery of the runs that failed with this incident's fingerprint: canary first, then waves.",
    )


def fingerprint_of_event(event: FailureEvent, settings: Any) -> str | None:
    """The fingerprint the remediation pipeline would give this failure: the same repository
    discovery, evidence and triage (Remediator.collect_evidence and .triage)."""
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.repo import discover_repo
    from patchit_provider.engine.triage import triage

    root = discover_repo(event.code_path, event.pipeline_id, settings.repo_map)
    return triage(collect_evidence(event, root, settings)).fingerprint
