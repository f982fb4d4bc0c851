"""Evidence: the log, the code, the repository; and the Workspace, worked out here once.

With the Airflow REST API at hand (`ctx.task_api`), the failed try's upstream XComs and rendered
template fields are fetched too (engine/evidence_inputs.py) and stored as the incident's
`replay_inputs.json` artifact, which only the incident's readers (the failing DAG's) see:
validation's replay calls the callable with them. They are not part of Evidence, so they never
reach triage, the model or a pull request."""

from __future__ import annotations

from patchit_provider.engine.models import (
    ArtifactNote,
    AuditKind,
    AuditNote,
    EvidenceInput,
    EvidenceOutput,
    Incident,
)
from patchit_provider.engine.stages import workspace
from patchit_provider.engine.stages.base import StageContext


def inputs(incident: Incident, ctx: StageContext) -> EvidenceInput:
    return EvidenceInput(incident_id=incident.incident_id, event=incident.event)


def run(inp: EvidenceInput, ctx: StageContext) -> EvidenceOutput:
    from patchit_provider.engine.evidence import collect_evidence

    event = inp.event
    space = workspace.discover(event.code_path, event.pipeline_id, ctx.settings.repo_map, head=None)
    evidence = collect_evidence(event, workspace.root(space), ctx.settings)
    if evidence.repo is not None and evidence.repo.head:
        space = space.model_copy(update={"head": evidence.repo.head})
    artifacts = [
        ArtifactNote(name="evidence.json", content=evidence.model_dump_json(indent=2), media_type="application/json")
    ]
    if ctx.task_api is not None:
        from patchit_provider.engine.evidence_inputs import ARTIFACT, fetch_replay_inputs

        inputs = fetch_replay_inputs(event, ctx.task_api)
        if inputs is not None:
            artifacts.append(
                ArtifactNote(name=ARTIFACT, content=inputs.model_dump_json(), media_type="application/json")
            )
    return EvidenceOutput(
        evidence=evidence,
        workspace=space,
        artifacts=artifacts,
        audit=[
            AuditNote(
                kind=AuditKind.EVIDENCE_SAVED,
                message=f"log format {evidence.log_format}, {len(evidence.mapped_frames)} frame(s) in the repository",
                data={"repo": evidence.repo.root if evidence.repo else None, "redactions": evidence.redactions},
            )
        ],
    )


def apply(incident: Incident, out: EvidenceOutput) -> None:
    incident.evidence = out.evidence
    incident.workspace = out.workspace
