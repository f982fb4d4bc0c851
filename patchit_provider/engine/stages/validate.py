"""Validate: every candidate in a throwaway worktree (and the sandbox); keep the passing one
that changes the fewest lines."""

from __future__ import annotations

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import (
    ArtifactNote,
    AuditKind,
    AuditNote,
    Incident,
    IncidentState,
    Outcome,
    PatchProposal,
    ValidateInput,
    ValidateOutput,
    ValidationResult,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.stages import workspace
from patchit_provider.engine.stages.base import StageContext


def inputs(incident: Incident, ctx: StageContext) -> ValidateInput | None:
    if incident.state is not IncidentState.PATCH_PROPOSED or incident.patch is None:
        return None
    space = workspace.of(incident)
    if space.repo_root is None or incident.triage is None:
        raise StagePreconditionError("validation needs the repository and a triage")
    from patchit_provider.engine.evidence_inputs import ARTIFACT, parse_artifact

    stored = ctx.store.get_artifact(incident.incident_id, ARTIFACT)
    return ValidateInput(
        incident_id=incident.incident_id,
        event=incident.event,
        triage=incident.triage,
        workspace=space,
        candidates=incident.candidates or [incident.patch],
        replay_inputs=parse_artifact(stored.content if stored else None),
    )


def run(inp: ValidateInput, ctx: StageContext) -> ValidateOutput:
    from patchit_provider.engine.validation import validate

    repo = workspace.root(inp.workspace)
    assert repo is not None  # inputs() refuses a workspace without a repository
    audit: list[AuditNote] = []
    results: list[tuple[PatchProposal, ValidationResult]] = []
    for number, proposal in enumerate(inp.candidates, 1):
        result = validate(proposal, inp.event, inp.triage, repo, ctx.settings, inp.replay_inputs)
        results.append((proposal, result))
        audit.extend(_audit(proposal, result, number))
    passing = [pair for pair in results if pair[1].passed]
    patch, validation = min(passing, key=lambda pair: changed_lines(pair[0])) if passing else results[0]
    return ValidateOutput(
        patch=patch,
        validation=validation,
        state=IncidentState.VALIDATED if passing else IncidentState.REJECTED,
        outcome=Outcome.PATCH_VALIDATED if passing else Outcome.PATCH_REJECTED,
        audit=audit,
        artifacts=[ArtifactNote(name="patch.diff", content=patch.diff, media_type="text/x-diff")] if passing else [],
        moment=Moment.PATCH_VALIDATED if passing else Moment.REJECTED,
        moment_detail=f"not replayed: {validation.not_replayed}" if passing and validation.not_replayed else "",
        write_rca=True,
    )


def apply(incident: Incident, out: ValidateOutput) -> None:
    incident.patch, incident.validation = out.patch, out.validation


def _audit(proposal: PatchProposal, result: ValidationResult, number: int) -> list[AuditNote]:
    notes = []
    if result.policy is not None and not result.policy.allowed:
        notes.append(
            AuditNote(
                kind=AuditKind.POLICY_REJECTED, message="; ".join(result.policy.violations), data={"candidate": number}
            )
        )
    notes.append(
        AuditNote(
            kind=AuditKind.VALIDATION_FINISHED,
            message=("passed" if result.passed else "failed")
            + f" ({result.replay})"
            + (f"; not replayed: {result.not_replayed}" if result.not_replayed and result.passed else ""),
            data={
                "passed": result.passed,
                "replay": result.replay,
                "producer": proposal.producer,
                "candidate": number,
                "checks": {check.name: check.passed for check in result.checks},
            },
        )
    )
    return notes


def changed_lines(proposal: PatchProposal) -> int:
    from patchit_provider.engine.patching import diff_stats

    _, _, added, removed = diff_stats(proposal.diff)
    return added + removed
