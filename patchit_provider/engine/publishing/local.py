"""Publishing without a forge: the local branch, and optionally the original PATCHIT's mock PR
files `.mock_github/prs/<number>.json` and `.md` (untracked, for demos and tools that read them)."""

from __future__ import annotations

import json
from pathlib import Path

import git

from patchit_provider.engine.git.command import run_git
from patchit_provider.engine.models import Incident, PatchProposal, Publication, PublicationKind, utcnow
from patchit_provider.engine.publishing.branch import AUTHOR_NAME, branch_name, create_branch
from patchit_provider.engine.publishing.description import render_description, title_of
from patchit_provider.engine.redaction import redact

MOCK_PR_DIR = Path(".mock_github") / "prs"


def _mock_pr(
    root: Path, branch: str, commit: str, title: str, body: str, proposal: PatchProposal, incident: Incident
) -> tuple[int, Path]:
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
        "number": number,
        "title": title,
        "state": "open",
        "head": branch,
        "base": base,
        "commit": commit,
        "author": AUTHOR_NAME,
        "labels": ["patchit"],
        "files": proposal.files,
        "producer": proposal.producer,
        "incident_id": incident.incident_id,
        "fingerprint": incident.fingerprint,
        "created_at": utcnow().isoformat(),
        "body": body,
    }
    (prs / f"{number}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    (prs / f"{number}.md").write_text(body, encoding="utf-8")
    return number, prs / f"{number}.md"


def publish_local(proposal: PatchProposal, incident: Incident, repo_root: Path, mode: str) -> Publication:
    """`branch` or `mock_pr`."""
    root = Path(repo_root).resolve()
    branch = branch_name(incident)
    title = title_of(proposal, incident)
    body = render_description(proposal, incident)
    message = redact(f"{title}\n\n{proposal.rationale}".strip() + "\n")[0]
    commit, created = create_branch(root, branch, proposal.diff, message)
    if mode == "branch":
        return Publication(
            kind=PublicationKind.LOCAL_BRANCH,
            branch=branch,
            commit=commit,
            description_md=body,
            repo_root=str(root),
            reused=not created,
        )
    number, page = _mock_pr(root, branch, commit, title, body, proposal, incident)
    return Publication(
        kind=PublicationKind.MOCK_PR,
        branch=branch,
        commit=commit,
        pr_number=number,
        url=page.as_uri(),
        description_md=body,
        repo_root=str(root),
        reused=not created,
    )
