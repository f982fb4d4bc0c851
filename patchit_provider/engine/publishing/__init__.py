"""Publishing a validated patch: a local branch `patchit/<fingerprint>`, optionally a mock PR.

The branch holds exactly one commit on top of the repository's HEAD, made in a temporary
worktree: the user's checkout, index and current branch are never touched, only a new branch
appears. Publishing the same fingerprint again returns the existing branch (and PR) instead of
making a second one.

`mock_pr` (opt-in, `publish_mode = mock_pr`) also writes the original PATCHIT's mock PR files,
`.mock_github/prs/<number>.json` and `.md`, into the repository's work tree: plain untracked
files, committed nowhere, for demos and for tools that read them instead of a real forge.

`github` (`publish_mode = github`) publishes through GitHub's REST API instead, with the target
(repository, token, base branch, labels) from the `patchit_github` connection: see `github.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from patchit_provider.engine.models import Incident, PatchProposal, Publication
from patchit_provider.engine.publishing.branch import AUTHOR_EMAIL, AUTHOR_NAME, branch_name, create_branch
from patchit_provider.engine.publishing.errors import PublishError
from patchit_provider.engine.publishing.local import MOCK_PR_DIR, publish_local

if TYPE_CHECKING:
    from patchit_provider.engine.publishing.github_client import GitHubTarget

__all__ = ["AUTHOR_EMAIL", "AUTHOR_NAME", "MOCK_PR_DIR", "PublishError", "branch_name", "create_branch", "publish"]


def publish(
    proposal: PatchProposal, incident: Incident, repo_root: Path, mode: str, *, github: GitHubTarget | None = None
) -> Publication:
    """Publish a validated proposal as `mode` ('branch', 'mock_pr' or 'github', which needs
    `github`; 'none' is the caller's)."""
    if mode == "github":
        if github is None:
            raise PublishError("publish_mode 'github' needs a GitHub target (the patchit_github connection)")
        from patchit_provider.engine.publishing.github import publish_github

        return publish_github(proposal, incident, repo_root, github)
    if mode not in ("branch", "mock_pr"):
        raise PublishError(f"unknown publish mode {mode!r} (branch, mock_pr, github)")
    return publish_local(proposal, incident, repo_root, mode)
