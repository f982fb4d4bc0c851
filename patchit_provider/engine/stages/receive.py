"""Receive: store the (redacted) event; a repeated event returns the incident it already opened.

A run that asks again for a failure whose incident already belongs to another remediation run
is a re-analysis (a person triggered the remediation DAG by hand): it is audited as such,
with who asked (the run's triggering user) and why (the run's `reason`), before the stages
append their second evidence, triage and outcome to the same timeline; the incident then
follows the new run (its approval step, its links).
"""

from __future__ import annotations

from patchit_provider.engine.constants import task_label
from patchit_provider.engine.models import (
    AuditKind,
    AuditNote,
    FailureEvent,
    Incident,
    ReceiveInput,
    ReceiveOutput,
    Requester,
)
from patchit_provider.engine.stages.base import StageContext

UNKNOWN_USER = "unknown"


def redact_event(event: FailureEvent) -> FailureEvent:
    """Redact the free-text parts of an event; ids stay as they are so idempotency holds."""
    from patchit_provider.engine.redaction import redact, redact_obj

    return event.model_copy(
        update={
            "log_text": redact(event.log_text)[0] if event.log_text else event.log_text,
            "error": redact_obj(event.error)[0] if event.error else None,
            "metadata": redact_obj(event.metadata)[0],
        }
    )


def is_reanalysis(incident: Incident, requester: Requester | None) -> bool:
    """A run other than the one that already took the incident on (a retry of that run's
    receive task, or a cleared and re-run run, is the same run)."""
    return bool(
        requester is not None
        and requester.run_id
        and incident.remediation_run_id
        and requester.run_id != incident.remediation_run_id
    )


def reanalysis_note(event: FailureEvent, requester: Requester) -> AuditNote:
    from patchit_provider.engine.redaction import redact

    user = requester.user or UNKNOWN_USER
    reason = redact(requester.reason)[0] if requester.reason else ""
    message = f"re-analysis of {task_label(event.pipeline_id, event.task_id)} asked by {user} in run {requester.run_id}"
    return AuditNote(
        kind=AuditKind.REANALYSIS_REQUESTED,
        message=message + (f": {reason}" if reason else " (no reason given)"),
        actor=user,
        data={"run_id": requester.run_id, "user": user, "reason": reason},
    )


def run(inp: ReceiveInput, ctx: StageContext) -> ReceiveOutput:
    """The store decides atomically whether this call opened the incident."""
    event = inp.event
    incident, created = ctx.store.create_incident(redact_event(event))
    audit = []
    if created:
        audit.append(
            AuditNote(
                kind=AuditKind.EVENT_RECEIVED,
                message=f"{event.platform.value} failure of {task_label(event.pipeline_id, event.task_id)} in run {event.run_id}",
                data={"event_id": event.event_id, "try_number": event.try_number},
            )
        )
    elif inp.requester is not None and is_reanalysis(incident, inp.requester):
        audit.append(reanalysis_note(event, inp.requester))
        # The incident follows the run that analyses it now (its approval step, its links).
        incident.remediation_run_id = inp.requester.run_id
        incident = ctx.store.save_incident(incident)
    return ReceiveOutput(incident=incident, created=created, audit=audit)
