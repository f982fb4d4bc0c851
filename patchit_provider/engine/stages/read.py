"""Read: a model's reading of a failure the catalogs left `unknown`, when one is configured.

Runs only for an `unknown` triage, with a reader (the `patchit_llm` connection) and
`triage_model_reading` on. The reading is checked by triage.model_reading before it replaces
the triage; a failed or refused reading leaves the triage `unknown` and says why in the audit
trail. It never fails the remediation: the catalogs' answer stands without it.
"""

from __future__ import annotations

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import AuditKind, AuditNote, Incident, IncidentState, ReadInput, ReadOutput
from patchit_provider.engine.stages.base import StageContext
from patchit_provider.engine.taxonomy import Category


def inputs(incident: Incident, ctx: StageContext) -> ReadInput | None:
    if incident.state is IncidentState.GROUPED:
        return None
    if incident.triage is None or incident.evidence is None:
        raise StagePreconditionError("reading a failure needs a triage: run the triage stage first")
    if incident.triage.category is not Category.UNKNOWN or ctx.reader is None or not ctx.settings.triage_model_reading:
        return None
    return ReadInput(incident_id=incident.incident_id, evidence=incident.evidence, triage=incident.triage)


def run(inp: ReadInput, ctx: StageContext) -> ReadOutput:
    from patchit_provider.engine.llm.base import LLMError
    from patchit_provider.engine.redaction import redact

    if ctx.reader is None:
        raise StagePreconditionError("no model reader is configured")
    try:
        read = ctx.reader(inp.evidence, inp.triage)
    except LLMError as exc:
        message = redact(f"triage reading: {type(exc).__name__}: {exc}")[0]
        return ReadOutput(audit=[AuditNote(kind=AuditKind.LLM_FAILED, message=message)])
    if read is None:
        note = AuditNote(kind=AuditKind.TRIAGE_READ, message="the model could not name a cause either")
        return ReadOutput(audit=[note])
    data = {
        "category": read.category.value,
        "remediation": read.remediation.value,
        "decided_by": read.decided_by,
        "quote": read.evidence_lines[0] if read.evidence_lines else "",
    }
    note = AuditNote(kind=AuditKind.TRIAGE_READ, message=read.summary, data=data)
    return ReadOutput(triage=read, audit=[note], write_rca=True)


def apply(incident: Incident, out: ReadOutput) -> None:
    if out.triage is not None:
        incident.triage = out.triage  # the fingerprint stays the catalogs' (grouping)
