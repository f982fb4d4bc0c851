"""The incident's Workspace: worked out by the evidence stage, read by every later stage."""

from __future__ import annotations

from pathlib import Path

from patchit_provider.engine.models import Incident, Workspace


def discover(event_code_path: str | None, pipeline_id: str, repo_map: dict[str, str], head: str | None) -> Workspace:
    """The repository (`repo_map`, else the git work tree of the code) and the failing code in it."""
    from patchit_provider.engine.repo import discover_repo, map_path

    root = discover_repo(event_code_path, pipeline_id, repo_map)
    if root is None:
        return Workspace()
    return Workspace(repo_root=str(root), dag_path=map_path(event_code_path or "", root), head=head)


def of(incident: Incident) -> Workspace:
    """The stored Workspace. An incident stored before Workspace existed falls back to the
    repository its evidence recorded, never to a new look-up."""
    if incident.workspace is not None:
        return incident.workspace
    repo = incident.evidence.repo if incident.evidence else None
    return Workspace(repo_root=repo.root, head=repo.head) if repo else Workspace()


def root(workspace: Workspace) -> Path | None:
    return Path(workspace.repo_root) if workspace.repo_root else None
