"""The branch `patchit/<fingerprint>`: one commit with the patch on top of HEAD, made in a
temporary worktree, so the user's checkout, index and current branch are never touched."""

from __future__ import annotations

import re
from pathlib import Path

import git

from patchit_provider.engine.git.command import run_git
from patchit_provider.engine.git.worktree import apply_diff, has_commit, scratch_tree
from patchit_provider.engine.models import Incident
from patchit_provider.engine.publishing.errors import PublishError

AUTHOR_NAME, AUTHOR_EMAIL = "PATCHIT", "patchit@localhost"
_IDENTITY = {
    "GIT_AUTHOR_NAME": AUTHOR_NAME,
    "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
    "GIT_COMMITTER_NAME": AUTHOR_NAME,
    "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
}


def branch_name(incident: Incident) -> str:
    fingerprint = incident.fingerprint or (incident.triage.fingerprint if incident.triage else "")
    safe = re.sub(r"[^A-Za-z0-9._-]", "", fingerprint).strip(".-")
    if not safe:
        raise PublishError("publishing needs the incident's fingerprint")
    return f"patchit/{safe}"


def _branch_head(root: Path, branch: str) -> str | None:
    try:
        return run_git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}").strip() or None
    except git.GitCommandError:
        return None


def create_branch(root: Path, branch: str, diff: str, message: str) -> tuple[str, bool]:
    """(commit, created): one commit with the diff on top of HEAD, on a new branch."""
    existing = _branch_head(root, branch)
    if existing:
        return existing, False
    if not has_commit(root):
        raise PublishError(f"{root} is not the top of a git repository with a commit")
    with scratch_tree(root) as tree:
        apply_diff(tree, diff, index=True)
        run_git(tree, "commit", "--no-verify", "--no-gpg-sign", "--quiet", "-m", message, env=_IDENTITY)
        commit = run_git(tree, "rev-parse", "HEAD").strip()
        # Made while the worktree still holds the commit; `branch` never moves the user's HEAD.
        run_git(root, "branch", branch, commit)
    return commit, True
