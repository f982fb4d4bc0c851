"""Triage: category, fingerprint and root cause from the evidence (engine.triage, a pure function).

After the incident is saved, `finish` groups it with an open incident of the same fingerprint
(the store decides atomically); only an incident that stays on its own gets an RCA and 'opened'.
"""

from __future__ import annotations

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import (
    AuditKind,
    AuditNote,
    Incident,
    IncidentState,
    TriageInput,
    TriageOutput,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.stages.base import StageContext


def inputs(incident: Incident, ctx: StageContext) -> TriageInput:
    if incident.evidence is None:
        raise StagePreconditionError("triage needs evidence: run the evidence stage first")
    return TriageInput(incident_id=incident.incident_id, evidence=incident.evidence)


def run(inp: TriageInput, ctx: StageContext) -> TriageOutput:
    from patchit_provider.engine.triage import triage

    result = triage(inp.evidence)
    return TriageOutput(
        triage=result,
        state=IncidentState.TRIAGED,
        audit=[
            AuditNote(
                kind=AuditKind.TRIAGE_COMPLETED,
                message=result.summary,
                data={
                    "category": result.category.value,
                    "remediation": result.remediation.value,
                    "fingerprint": result.fingerprint,
                    "confidence": result.confidence,
                    "culprit": result.culprit.model_dump() if result.culprit else None,
                },
            )
        ],
    )


def apply(incident: Incident, out: TriageOutput) -> None:
    incident.triage = out.triage
    incident.fingerprint = out.triage.fingerprint


def finish(saved: Incident, out: TriageOutput, ctx: StageContext) -> Incident:
    primary = ctx.store.group_by_fingerprint(saved)
    if primary is None:
        ctx.write_rca(saved)
        ctx.notify(saved, Moment.OPENED)
        return saved
    event = saved.event
    ctx.audit(
        primary.incident_id,
        AuditKind.OCCURRENCE_ADDED,
        f"again in run {event.run_id}" + (f" (try {event.try_number})" if event.try_number else ""),
        event_id=event.event_id,
        incident_id=saved.incident_id,
        occurrences=primary.occurrences,
    )
    ctx.audit(
        saved.incident_id,
        AuditKind.INCIDENT_GROUPED,
        f"same fingerprint as open incident {primary.incident_id}",
        grouped_into=primary.incident_id,
    )
    grouped = ctx.store.get_incident(saved.incident_id)
    return grouped if grouped is not None else saved
