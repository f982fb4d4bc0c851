"""Evidence: the log, the code, the repository; and the Workspace, worked out here once.

With the Airflow REST API at hand (`ctx.task_api`), the failed try's upstream XComs and rendered
template fields are fetched too (engine/evidence_inputs.py) and stored as the incident's
`replay_inputs.json` artifact, which only the incident's readers (the failing DAG's) see:
validation's replay calls the callable with them. They are not part of Evidence, so they never
reach triage, the model or a pull request."""

from __future__ import annotations

from typing import Callable

from patchit_provider.engine.models import (
    ArtifactNote,
    AuditKind,
    AuditNote,
    EvidenceInput,
    EvidenceOutput,
    FailureEvent,
    Incident,
    ReplayInputs,
)
from patchit_provider.engine.stages import workspace
from patchit_provider.engine.stages.base import StageContext


def inputs(incident: Incident, ctx: StageContext) -> EvidenceInput:
    return EvidenceInput(incident_id=incident.incident_id, event=incident.event)


def run(inp: EvidenceInput, ctx: StageContext) -> EvidenceOutput:
    from patchit_provider.engine.evidence import collect_evidence

    event = inp.event
    space = workspace.discover(event.code_path, event.pipeline_id, ctx.settings.repo_map, head=None)
    fetching = _fetch_in_background(event, ctx)  # the REST calls overlap the log, git and blame work
    evidence = collect_evidence(event, workspace.root(space), ctx.settings)
    if evidence.repo is not None and evidence.repo.head:
        space = space.model_copy(update={"head": evidence.repo.head})
    artifacts = [
        ArtifactNote(name="evidence.json", content=evidence.model_dump_json(indent=2), media_type="application/json")
    ]
    inputs = fetching() if fetching else None
    if inputs is not None:
        from patchit_provider.engine.evidence_inputs import ARTIFACT

        artifacts.append(ArtifactNote(name=ARTIFACT, content=inputs.model_dump_json(), media_type="application/json"))
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


def _fetch_in_background(event: FailureEvent, ctx: StageContext) -> Callable[[], ReplayInputs | None] | None:
    """Start fetching the failed try's inputs in a thread; the returned callable waits for them
    (fetch_replay_inputs never raises and bounds its own time)."""
    api = ctx.task_api
    if api is None:
        return None
    from concurrent.futures import ThreadPoolExecutor

    from patchit_provider.engine.evidence_inputs import fetch_replay_inputs

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patchit-replay-inputs")
    future = pool.submit(fetch_replay_inputs, event, api)
    pool.shutdown(wait=False)
    return future.result


def apply(incident: Incident, out: EvidenceOutput) -> None:
    incident.evidence = out.evidence
    incident.workspace = out.workspace
