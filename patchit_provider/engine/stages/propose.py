"""Propose: deterministic fixers first; the LLM only when none applies and one is configured.

A triage that does not call for a patch (retry, escalate) closes the incident here, as does a
patch that cannot be made; either way the audit trail says why.
"""

from __future__ import annotations

from pathlib import Path

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import (
    ArtifactNote,
    AuditKind,
    AuditNote,
    Incident,
    IncidentState,
    Outcome,
    PatchProposal,
    ProposeInput,
    ProposeOutput,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.stages import workspace
from patchit_provider.engine.stages.base import StageContext
from patchit_provider.engine.taxonomy import Remediation


def inputs(incident: Incident, ctx: StageContext) -> ProposeInput | None:
    if incident.state is IncidentState.GROUPED:
        return None
    if incident.triage is None or incident.evidence is None:
        raise StagePreconditionError("proposing a patch needs a triage: run the triage stage first")
    return ProposeInput(
        incident_id=incident.incident_id,
        evidence=incident.evidence,
        triage=incident.triage,
        workspace=workspace.of(incident),
    )


def run(inp: ProposeInput, ctx: StageContext) -> ProposeOutput:
    if inp.triage.remediation is not Remediation.PATCH:
        return _close_without_patch(inp)
    repo = workspace.root(inp.workspace)
    audit: list[AuditNote] = []
    proposals = _proposals(inp, repo, ctx, audit) if repo else []
    if not proposals:
        reason = "no repository found for this pipeline" if repo is None else "no safe patch could be made"
        audit.append(AuditNote(kind=AuditKind.PATCH_SKIPPED, message=reason))
        # no automatic fix: a person must look
        return ProposeOutput(
            state=IncidentState.NO_PATCH,
            outcome=Outcome.NO_PATCH,
            audit=audit,
            moment=Moment.ESCALATED,
            moment_detail=reason,
        )
    for number, proposal in enumerate(proposals, 1):
        audit.append(
            AuditNote(
                kind=AuditKind.PATCH_PROPOSED,
                message=proposal.rationale or f"patch from {proposal.producer}",
                data={"producer": proposal.producer, "files": proposal.files, "candidate": number},
            )
        )
    artifacts = [
        ArtifactNote(name=candidate_name(number, len(proposals)), content=proposal.diff, media_type="text/x-diff")
        for number, proposal in enumerate(proposals, 1)
    ]
    return ProposeOutput(candidates=proposals, state=IncidentState.PATCH_PROPOSED, audit=audit, artifacts=artifacts)


def apply(incident: Incident, out: ProposeOutput) -> None:
    if out.candidates:
        incident.candidates = out.candidates
        incident.patch = out.candidates[0]


def _proposals(inp: ProposeInput, repo: Path, ctx: StageContext, audit: list[AuditNote]) -> list[PatchProposal]:
    from patchit_provider.engine.patching import propose_patches

    fixed = propose_patches(inp.evidence, inp.triage, repo)
    if fixed or ctx.proposer is None:
        return fixed
    from patchit_provider.engine.llm.base import LLMError
    from patchit_provider.engine.redaction import redact

    try:
        return ctx.proposer(inp.evidence, inp.triage, repo)
    except LLMError as exc:
        audit.append(AuditNote(kind=AuditKind.LLM_FAILED, message=redact(f"{type(exc).__name__}: {exc}")[0]))
        return []


def _close_without_patch(inp: ProposeInput) -> ProposeOutput:
    triage = inp.triage
    retry = triage.remediation is Remediation.RETRY
    kind = AuditKind.REMEDIATION_RETRY_ADVISED if retry else AuditKind.REMEDIATION_ESCALATED
    return ProposeOutput(
        state=IncidentState.NO_PATCH if retry else IncidentState.ESCALATED,
        outcome=Outcome.NO_PATCH,
        audit=[
            AuditNote(
                kind=kind,
                message=triage.next_step or f"{triage.category.value}: {triage.remediation.value}",
                data={"category": triage.category.value},
            )
        ],
        moment=Moment.RETRY_ADVISED if retry else Moment.ESCALATED,
    )


def candidate_name(number: int, total: int) -> str:
    return "patch.diff" if total == 1 else f"candidate-{number}.diff"
