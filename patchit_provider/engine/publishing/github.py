"""Publishing on GitHub: branch `patchit/<fingerprint>`, one commit, a draft PR, labels.

Everything goes through the REST API (no clone, no push): the commit is built with the Git Data
API from the files as `apply_edits` makes them, so GitHub gets exactly the content that was
validated, in one commit on top of the base branch, whatever the number of files.

One PR per fingerprint: when an open PR for the branch exists, a new occurrence adds a comment
to it instead of opening a second one. An existing branch is moved only when its head is a
PATCHIT commit (a person's work on that branch is never overwritten).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from patchit_provider.engine.constants import task_label
from patchit_provider.engine.models import Incident, PatchProposal, Publication, PublicationKind
from patchit_provider.engine.patching import EditError, apply_edits
from patchit_provider.engine.publishing.branch import AUTHOR_EMAIL, AUTHOR_NAME, branch_name
from patchit_provider.engine.publishing.description import render_description, title_of
from patchit_provider.engine.publishing.errors import PublishError
from patchit_provider.engine.publishing.github_client import GitHubClient, GitHubError, GitHubTarget
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.report import md_escape

__all__ = ["MAX_BODY_CHARS", "bound_body", "publish_github"]

MAX_BODY_CHARS = 65_536  # GitHub refuses longer PR and comment bodies
_TRUNCATED = "\n\n_Truncated to GitHub's size limit: the full description is in PATCHIT's incident record._\n"


def publish_github(proposal: PatchProposal, incident: Incident, repo_root: Path, target: GitHubTarget) -> Publication:
    """Open (or update) the draft PR of `incident`'s fingerprint on `target`."""
    root = Path(repo_root).resolve()
    branch = branch_name(incident)
    body = bound_body(render_description(proposal, incident))
    try:
        contents = apply_edits(root, proposal.edits)
    except EditError as exc:
        raise PublishError(f"the validated edits no longer apply to {root}: {exc}") from exc
    with GitHubClient(target) as gh:
        base = target.base_branch or gh.call("GET", gh.repo_path())["default_branch"]
        pr = find_open_pr(gh, branch, base)
        reused = pr is not None
        commit: str | None
        if pr is None:
            commit = _commit(gh, base, root, contents, _message(proposal, incident))
            _set_branch(gh, branch, commit)
            pr, created = _open_pr(gh, branch, base, redact(title_of(proposal, incident))[0], body)
            if created:
                gh.call(
                    "POST",
                    gh.repo_path(f"/issues/{pr['number']}/labels"),
                    json_body={"labels": labels_of(target, incident)},
                )
        else:
            commit = (pr.get("head") or {}).get("sha")
            gh.call(
                "POST",
                gh.repo_path(f"/issues/{pr['number']}/comments"),
                json_body={"body": occurrence_comment(incident, target)},
            )
    return Publication(
        kind=PublicationKind.GITHUB,
        branch=branch,
        commit=commit,
        url=pr.get("html_url"),
        pr_number=pr["number"],
        description_md=body,
        repo_root=str(root),
        reused=reused,
    )


def find_open_pr(gh: GitHubClient, branch: str, base: str) -> dict[str, Any] | None:
    """The open PR of `owner:branch` into `base`, else any open PR of the branch (someone may
    have retargeted it: a second PR would fight it for the branch), across every page."""
    head = f"{gh.target.owner}:{branch}"
    found = [
        pr
        for pr in gh.paginate(gh.repo_path("/pulls"), {"head": head, "state": "open"})
        if (pr.get("head") or {}).get("ref") == branch
    ]
    return next((pr for pr in found if (pr.get("base") or {}).get("ref") == base), found[0] if found else None)


def labels_of(target: GitHubTarget, incident: Incident) -> list[str]:
    labels = list(target.labels) + ([incident.triage.category.value] if incident.triage else [])
    return list(dict.fromkeys(label for label in labels if label))


def occurrence_comment(incident: Incident, target: GitHubTarget) -> str:
    event = incident.event
    task = task_label(event.pipeline_id, event.task_id)
    where = md_escape(incident.incident_id)
    if target.incident_url:
        where = f"[{where}]({target.incident_url.replace('{incident_id}', quote(incident.incident_id, safe=''))})"
    text = (
        f"PATCHIT saw this failure again: {md_escape(task)}, run {md_escape(event.run_id)}, "
        f"at {event.detected_at.isoformat(timespec='seconds')} (incident {where}). "
        "This pull request still holds the validated fix."
    )
    return bound_body(redact(text)[0])


def bound_body(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """`text` cut at a line to fit `limit`, closing a code fence the cut left open."""
    if len(text) <= limit:
        return text
    room = limit - len(_TRUNCATED) - 200  # 200: a closing fence, however long
    cut = text[:room].rsplit("\n", 1)[0]
    fence = _open_fence(cut)
    return cut + (f"\n{fence}" if fence else "") + _TRUNCATED


def _open_fence(text: str) -> str:
    """The backtick fence still open at the end of `text` ('' when none): md_fence's blocks
    open with a run of 3+ backticks and an info string and close with the same bare run."""
    fence = ""
    for line in text.split("\n"):
        run = line[: len(line) - len(line.lstrip("`"))]
        if not fence and len(run) >= 3:
            fence = run
        elif fence and line.strip() == fence:
            fence = ""
    return fence


def _message(proposal: PatchProposal, incident: Incident) -> str:
    return redact(f"{title_of(proposal, incident)}\n\n{proposal.rationale}".strip() + "\n")[0]


def _commit(gh: GitHubClient, base: str, root: Path, contents: dict[str, str], message: str) -> str:
    """One commit on top of `base` holding every changed file; returns its sha."""
    base_sha = gh.call("GET", gh.repo_path(f"/git/ref/heads/{quote(base)}"))["object"]["sha"]
    base_tree = gh.call("GET", gh.repo_path(f"/git/commits/{base_sha}"))["tree"]["sha"]
    entries = [
        {
            "path": path,
            "mode": "100755" if os.access(root / path, os.X_OK) else "100644",
            "type": "blob",
            "content": text,
        }
        for path, text in sorted(contents.items())
    ]
    tree = gh.call("POST", gh.repo_path("/git/trees"), json_body={"base_tree": base_tree, "tree": entries})["sha"]
    author = {"name": AUTHOR_NAME, "email": AUTHOR_EMAIL}
    body = {"message": message, "tree": tree, "parents": [base_sha], "author": author, "committer": author}
    sha: str = gh.call("POST", gh.repo_path("/git/commits"), json_body=body)["sha"]
    return sha


def _set_branch(gh: GitHubClient, branch: str, commit: str) -> None:
    """Create refs/heads/<branch>; an existing branch is moved only if PATCHIT made its head."""
    try:
        gh.call("POST", gh.repo_path("/git/refs"), json_body={"ref": f"refs/heads/{branch}", "sha": commit})
        return
    except GitHubError as exc:
        if exc.status != 422 or not exc.mentions("already exists"):
            raise
    ref = f"/git/refs/heads/{quote(branch)}"
    head = gh.call("GET", gh.repo_path(f"/git/ref/heads/{quote(branch)}"))["object"]["sha"]
    author = gh.call("GET", gh.repo_path(f"/git/commits/{head}")).get("author") or {}
    if (author.get("name"), author.get("email")) != (AUTHOR_NAME, AUTHOR_EMAIL):
        raise PublishError(
            f"branch {branch} already exists on {gh.target.repository} and its head {head[:12]} was not made by "
            f"PATCHIT ({author.get('name')} <{author.get('email')}>); not overwriting it - delete or rename the branch"
        )
    gh.call("PATCH", gh.repo_path(ref), json_body={"sha": commit, "force": True})


def _open_pr(gh: GitHubClient, branch: str, base: str, title: str, body: str) -> tuple[dict[str, Any], bool]:
    """(PR, created): the new draft PR, or the one another run opened for the branch meanwhile."""
    request = {"title": title, "head": branch, "base": base, "body": body, "draft": True}
    try:
        return gh.call("POST", gh.repo_path("/pulls"), json_body=request), True
    except GitHubError as exc:
        if exc.status != 422 or not exc.mentions("already exists"):
            raise
    pr = find_open_pr(gh, branch, base)
    if pr is None:
        raise PublishError(f"GitHub says a pull request for {branch} already exists, but none is open")
    return pr, False
