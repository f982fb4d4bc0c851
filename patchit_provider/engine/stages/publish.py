"""Publish: a branch `patchit/<fingerprint>` (and a mock or GitHub PR) for a validated patch.

The same cause again (a grouped incident) comments on the open incident's GitHub pull request
instead of opening a second one. `publish_mode = none` publishes nothing. The approval check is
the orchestrator's, before this stage runs: a refusal leaves the incident as it was.
"""

from __future__ import annotations

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import (
    ArtifactNote,
    AuditKind,
    AuditNote,
    Incident,
    IncidentState,
    Publication,
    PublicationKind,
    PublishInput,
    PublishOutput,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.stages import workspace
from patchit_provider.engine.stages.base import StageContext


def inputs(incident: Incident, ctx: StageContext) -> PublishInput | None:
    if incident.state is IncidentState.GROUPED:
        return _comment_input(incident, ctx)
    if incident.state is not IncidentState.VALIDATED or incident.patch is None:
        return None
    if ctx.settings.publish_mode == "none":
        return None
    space = workspace.of(incident)
    if space.repo_root is None:
        raise StagePreconditionError("publishing needs the pipeline repository")
    return PublishInput(incident=incident, patch=incident.patch, workspace=space, mode=ctx.settings.publish_mode)


def _comment_input(incident: Incident, ctx: StageContext) -> PublishInput | None:
    """Only GitHub needs work for the same cause again: local branches count the occurrence on the open incident."""
    primary = ctx.store.get_incident(incident.grouped_into) if incident.grouped_into else None
    if (
        primary is None
        or primary.patch is None
        or primary.publication is None
        or primary.publication.kind is not PublicationKind.GITHUB
        or ctx.github is None
    ):
        return None
    space = workspace.of(primary)
    if space.repo_root is None:
        return None
    return PublishInput(incident=incident, patch=primary.patch, workspace=space, mode="github", comment_only=True)


def run(inp: PublishInput, ctx: StageContext) -> PublishOutput:
    from patchit_provider.engine.publishing import publish

    repo = workspace.root(inp.workspace)
    assert repo is not None  # inputs() refuses a workspace without a repository
    publication = publish(inp.patch, inp.incident, repo, inp.mode, github=ctx.github)  # type: ignore[arg-type]
    if inp.comment_only:
        return PublishOutput(publication=publication, audit=_audit(publication))
    return PublishOutput(
        publication=publication,
        state=IncidentState.PUBLISHED,
        audit=_audit(publication),
        artifacts=[ArtifactNote(name="pr.md", content=publication.description_md, media_type="text/markdown")],
        moment=Moment.PUBLISHED,
    )


def apply(incident: Incident, out: PublishOutput) -> None:
    if out.state is IncidentState.PUBLISHED:
        incident.publication = out.publication


def _audit(publication: Publication) -> list[AuditNote]:
    if publication.reused:
        return [
            AuditNote(
                kind=AuditKind.PR_COMMENTED,
                message=f"{publication.url or publication.branch}: the same cause again, commented on the open pull request",
                data={"url": publication.url, "number": publication.pr_number},
            )
        ]
    notes = [
        AuditNote(
            kind=AuditKind.BRANCH_CREATED,
            message=f"branch {publication.branch}",
            data={"branch": publication.branch, "commit": publication.commit, "repo": publication.repo_root},
        )
    ]
    if publication.url or publication.pr_number is not None:
        notes.append(
            AuditNote(
                kind=AuditKind.PR_CREATED,
                message=publication.url or f"PR #{publication.pr_number}",
                data={"url": publication.url, "number": publication.pr_number},
            )
        )
    return notes
