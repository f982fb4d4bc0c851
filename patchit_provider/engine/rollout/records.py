"""Creating a recovery rollout as a stage: `plan_recovery(inp, ctx) -> out` finds the members,
plans them with the deterministic planner and stores the run record (state planned, or
awaiting_approval when the plan asks a person first). The Airflow conf of `patchit_rollout` is
then only `{"rollout_id": ...}`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import (
    FailureEvent,
    Incident,
    RecoveryMember,
    RolloutRun,
    RolloutState,
)
from patchit_provider.engine.rollout.members import (
    RECOVERY_WAVES,
    duration_history,
    find_members,
    member_of,
    recovery_spec,
)
from patchit_provider.engine.rollout.planner import plan_rollout

SINCE_MARGIN = timedelta(minutes=10)


class RecoveryIncidents(Protocol):
    def get_incident(self, incident_id: str) -> Incident | None: ...

    def occurrences(self, incident_id: str) -> list[FailureEvent]: ...


class RecoveryApi(Protocol):
    def list_task_instances(self, dag_id: str, *, task_id: str, state: str) -> list[dict[str, Any]]: ...


class RecoveryRecords(Protocol):
    def create(self, run: RolloutRun) -> RolloutRun: ...


class Fingerprints(Protocol):
    def fingerprint_of(self, member: RecoveryMember, try_number: int) -> str | None: ...


@dataclass
class RecoveryContext:
    incidents: RecoveryIncidents
    api: RecoveryApi
    records: RecoveryRecords
    desk: Fingerprints


class RecoveryInput(BaseModel):
    incident_id: str
    rollout_id: str
    waves: list[int | str] = Field(default_factory=lambda: list(RECOVERY_WAVES))
    max_errors: int | str = "10%"
    max_concurrency: int = Field(default=2, ge=1)
    bake_seconds: float = Field(default=0, ge=0)
    approval_points: list[str] = Field(default_factory=list)
    transient: bool = Field(default=False, description="No fix: re-runs may use the DAG version that failed.")
    now: datetime | None = None


class RecoveryError(InputError, ValueError):
    """The incident cannot be recovered (unknown, not an Airflow task, nothing failed)."""


def plan_recovery(inp: RecoveryInput, ctx: RecoveryContext) -> RolloutRun:
    incident = ctx.incidents.get_incident(inp.incident_id)
    if incident is None:
        raise RecoveryError(f"no incident {inp.incident_id!r}")
    event = incident.event
    if not event.task_id:
        raise RecoveryError(f"incident {inp.incident_id} names no task: nothing to re-run")
    occurrences = ctx.incidents.occurrences(inp.incident_id) or [event]
    # Detection follows the TI's end by the capture's latency: a margin keeps the first one.
    first = min(o.detected_at for o in occurrences) - SINCE_MARGIN
    failed = ctx.api.list_task_instances(event.pipeline_id, task_id=event.task_id, state="failed")
    members = find_members(
        occurrences, failed, fingerprint=incident.fingerprint, fingerprint_of=ctx.desk.fingerprint_of, since=first
    )
    if not members:
        raise RecoveryError(
            f"incident {inp.incident_id}: no failed task instance of {event.pipeline_id}.{event.task_id} to re-run"
        )
    succeeded = ctx.api.list_task_instances(event.pipeline_id, task_id=event.task_id, state="success")
    spec = recovery_spec(
        members,
        duration_history(succeeded),
        subject=inp.incident_id,
        waves=inp.waves,
        max_errors=inp.max_errors,
        max_concurrency=inp.max_concurrency,
        bake_seconds=inp.bake_seconds,
        approval_points=inp.approval_points,
    )
    plan = plan_rollout(spec, now=inp.now).model_copy(update={"plan_id": inp.rollout_id})
    waiting = plan.valid and any(w.approval_before for w in plan.waves[:1])
    failed_versions: dict[str, int] = {}
    chosen = {m.member_id for m in members}
    for ti in failed:
        number = (ti.get("dag_version") or {}).get("version_number")
        if isinstance(number, int) and ti.get("state") == "failed" and member_of(ti).member_id in chosen:
            failed_versions[ti["dag_id"]] = max(number, failed_versions.get(ti["dag_id"], number))
    run = RolloutRun(
        rollout_id=inp.rollout_id,
        subject=inp.incident_id,
        fingerprint=incident.fingerprint,
        plan=plan,
        plan_id=plan.plan_id,
        plan_version=plan.version,
        targets={m.member_id: m for m in members},
        failed_versions=failed_versions,
        transient=inp.transient,
        state=RolloutState.AWAITING_APPROVAL if waiting else RolloutState.PLANNED,
        reason="" if plan.valid else "the plan is not valid: " + "; ".join(plan.problems),
    )
    return ctx.records.create(run)
