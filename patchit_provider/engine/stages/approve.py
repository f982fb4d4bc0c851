"""Approve: whether a validated patch waits for a person (`[patchit] approval`), and the record
of a request and of the answer. Only a validated patch can need approval; a validation that
could not sandbox the patch (`approval_reason`), or a category that rests on a model's reading
(stage `read`), needs it whatever the setting."""

from __future__ import annotations

from patchit_provider.engine.models import ApproveInput, ApproveOutput, AuditEvent, AuditKind, Incident, IncidentState
from patchit_provider.engine.stages.base import StageContext
from patchit_provider.engine.triage.model_reading import is_model_reading

PENDING, GRANTED, REJECTED = "pending", "granted", "rejected"
_STATUS = {
    AuditKind.APPROVAL_REQUESTED: PENDING,
    AuditKind.APPROVAL_GRANTED: GRANTED,
    AuditKind.APPROVAL_REJECTED: REJECTED,
}


def inputs(incident: Incident, ctx: StageContext | None = None) -> ApproveInput:
    """Read with getattr: the decision also answers for incident views (the UI's, tests' stand-ins)."""
    validation = getattr(incident, "validation", None)
    triage = getattr(incident, "triage", None)
    return ApproveInput(
        incident_id=getattr(incident, "incident_id", ""),
        state=incident.state,
        has_patch=getattr(incident, "patch", None) is not None,
        confidence=triage.confidence if triage else None,
        approval_reason=validation.approval_reason if validation is not None else None,
        read_by_model=is_model_reading(triage),
    )


def run(inp: ApproveInput, ctx: StageContext) -> ApproveOutput:
    settings = ctx.settings
    if inp.state is not IncidentState.VALIDATED or not inp.has_patch:
        return ApproveOutput(required=False)
    if inp.approval_reason:
        return ApproveOutput(required=True, reason=inp.approval_reason)  # e.g. validated without a sandbox
    if inp.read_by_model:  # log text may have steered the reading: a person confirms what it led to
        return ApproveOutput(
            required=True, reason="the failure's category rests on a model's reading of the log, not on a catalog"
        )
    if settings.approval == "below_confidence":
        required = (inp.confidence or 0.0) < settings.approval_confidence
    else:
        required = settings.approval == "always"
    return ApproveOutput(required=required, reason=f"approval policy '{settings.approval}'" if required else "")


def status(trail: list[AuditEvent]) -> str | None:
    """None (never asked), 'pending', 'granted' or 'rejected': the latest approval event decides."""
    latest = [_STATUS[event.kind] for event in trail if event.kind in _STATUS]
    return latest[-1] if latest else None
