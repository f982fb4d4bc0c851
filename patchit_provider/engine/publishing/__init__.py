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

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import git

from patchit_provider.engine.models import Incident, PatchProposal, Publication, PublicationKind, utcnow
from patchit_provider.engine.patching.gitcmd import run_git
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.publishing.description import render_description, title_of
from patchit_provider.engine.validation.workspace import apply_diff, has_commit, scratch_tree

if TYPE_CHECKING:  # github_client imports PublishError from here
    from patchit_provider.engine.publishing.github_client import GitHubTarget

__all__ = ["PublishError", "publish"]

AUTHOR_NAME, AUTHOR_EMAIL = "PATCHIT", "patchit@localhost"
_IDENTITY = {
    "GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
    "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
}
MOCK_PR_DIR = Path(".mock_github") / "prs"


class PublishError(RuntimeError):
    pass


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


def _mock_pr(root: Path, branch: str, commit: str, title: str, body: str, proposal: PatchProposal, incident: Incident) -> tuple[int, Path]:
    """Write (or find) the mock PR of `branch`: (number, path of its .md)."""
    prs = root / MOCK_PR_DIR
    prs.mkdir(parents=True, exist_ok=True)
    numbers = []
    for path in prs.glob("*.json"):
        if not path.stem.isdigit():
            continue
        numbers.append(int(path.stem))
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("head") == branch:
                return int(path.stem), path.with_suffix(".md")
        except (OSError, ValueError):
            continue
    number = max(numbers, default=0) + 1
    try:
        base = run_git(root, "symbolic-ref", "--short", "-q", "HEAD").strip()
    except git.GitCommandError:
        base = run_git(root, "rev-parse", "HEAD").strip()
    record = {
        "number": number, "title": title, "state": "open", "head": branch, "base": base, "commit": commit,
        "author": AUTHOR_NAME, "labels": ["patchit"], "files": proposal.files, "producer": proposal.producer,
        "incident_id": incident.incident_id, "fingerprint": incident.fingerprint, "created_at": utcnow().isoformat(),
        "body": body,
    }
    (prs / f"{number}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    (prs / f"{number}.md").write_text(body, encoding="utf-8")
    return number, prs / f"{number}.md"


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
    root = Path(repo_root).resolve()
    branch = branch_name(incident)
    title = title_of(proposal, incident)
    body = render_description(proposal, incident)
    message = redact(f"{title}\n\n{proposal.rationale}".strip() + "\n")[0]
    commit, created = create_branch(root, branch, proposal.diff, message)
    if mode == "branch":
        return Publication(
            kind=PublicationKind.LOCAL_BRANCH, branch=branch, commit=commit, description_md=body, repo_root=str(root),
            reused=not created,
        )
    number, page = _mock_pr(root, branch, commit, title, body, proposal, incident)
    return Publication(
        kind=PublicationKind.MOCK_PR, branch=branch, commit=commit, pr_number=number, url=page.as_uri(),
        description_md=body, repo_root=str(root), reused=not created,
    )
