"""Receive: store the (redacted) event; a repeated event returns the incident it already opened."""

from __future__ import annotations

from patchit_provider.engine.constants import task_label
from patchit_provider.engine.models import AuditKind, AuditNote, FailureEvent, ReceiveInput, ReceiveOutput
from patchit_provider.engine.stages.base import StageContext


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
    return ReceiveOutput(incident=incident, created=created, audit=audit)
