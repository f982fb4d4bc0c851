"""Publishing the fixer's patch of a real failure as a branch and as a mock PR."""

import ast
import json

import git
import pytest

from patchit_provider.engine.models import CheckResult, Incident, PublicationKind, ValidationResult
from patchit_provider.engine.patching import propose_patch
from patchit_provider.engine.publishing import PublishError, publish


@pytest.fixture
def patch_incident(patch_nameerror):
    case = patch_nameerror
    proposal = propose_patch(case.evidence, case.triage, case.root)
    validation = ValidationResult(
        passed=True,
        replay="reproduced_and_fixed",
        checks=[
            CheckResult(name="policy", passed=True, output="allowed"),
            CheckResult(name="replay", passed=True, output="unpatched: NameError reproduced | patched: ok"),
        ],
    )
    incident = Incident(
        incident_id="inc-0123456789ab",
        event=case.event,
        fingerprint=case.triage.fingerprint,
        evidence=case.evidence,
        triage=case.triage,
        patch=proposal,
        validation=validation,
    )
    return case, proposal, incident


def _run_compute_total(source: str, prices):
    """Call compute_total as defined in `source`, without importing the rest of the DAG file."""
    tree = ast.parse(source)
    func = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "compute_total")
    namespace: dict = {}
    exec(compile(ast.Module(body=[func], type_ignores=[]), "orders.py", "exec"), namespace)
    return namespace["compute_total"](prices)


def test_branch_holds_one_commit_that_fixes_the_failure(patch_incident, patch_snapshot):
    case, proposal, incident = patch_incident
    before = patch_snapshot(case.root)
    publication = publish(proposal, incident, case.root, "branch")
    branch = f"patchit/{case.triage.fingerprint}"
    assert publication.kind is PublicationKind.LOCAL_BRANCH and publication.branch == branch

    repo = git.Repo(case.root)
    commits = list(repo.iter_commits(f"main..{branch}"))
    assert [c.hexsha for c in commits] == [publication.commit]
    commit = commits[0]
    assert commit.parents[0].hexsha == before["head"]
    assert (commit.author.name, commit.author.email) == ("PATCHIT", "patchit@localhost")
    assert (commit.committer.name, commit.committer.email) == ("PATCHIT", "patchit@localhost")
    assert repo.git.diff("main", branch, "--name-only").split() == ["dags/orders.py"]
    assert repo.git.diff("main", branch) + "\n" == proposal.diff

    with pytest.raises(NameError):
        _run_compute_total(repo.git.show("main:dags/orders.py"), [1, 2, 3])
    assert _run_compute_total(repo.git.show(f"{branch}:dags/orders.py"), [1, 2, 3]) == 12

    after = patch_snapshot(case.root)
    assert after.pop("branches") == sorted(before.pop("branches") + [branch])
    assert after == before  # checkout, index, HEAD, status, worktree list and files as they were

    again = publish(proposal, incident, case.root, "branch")
    assert again.commit == publication.commit
    assert list(repo.iter_commits(f"main..{branch}")) == commits
    assert [b.name for b in repo.branches].count(branch) == 1


def test_description(patch_incident):
    case, proposal, incident = patch_incident
    triage = case.triage.model_copy(update={"evidence_lines": ["```", "NameError: name 'totl' is not defined"]})
    incident = incident.model_copy(update={"triage": triage})
    body = publish(proposal, incident, case.root, "branch").description_md
    assert body.startswith("# PATCHIT: fix NameError in dags/orders.py\n")
    assert "## Root cause" in body and "code.error" in body
    assert "````text\n```\nNameError: name 'totl' is not defined\n````" in body  # a fence the log cannot close
    assert "```diff\ndiff --git a/dags/orders.py b/dags/orders.py\n" in body
    assert "| replay | passed | unpatched: NameError reproduced \\| patched: ok |" in body
    assert "fixer:did_you_mean" in body  # no needless Markdown escapes (report.md_escape)


def test_mock_pr_files(patch_incident, patch_snapshot):
    case, proposal, incident = patch_incident
    before = patch_snapshot(case.root)
    publication = publish(proposal, incident, case.root, "mock_pr")
    assert publication.kind is PublicationKind.MOCK_PR and publication.pr_number == 1
    prs = case.root / ".mock_github" / "prs"
    record = json.loads((prs / "1.json").read_text())
    assert record["head"] == publication.branch and record["base"] == "main" and record["commit"] == publication.commit
    assert record["body"] == (prs / "1.md").read_text() == publication.description_md
    assert publish(proposal, incident, case.root, "mock_pr").pr_number == 1  # no second PR

    other = incident.model_copy(update={"fingerprint": "0011223344556677"})
    assert publish(proposal, other, case.root, "mock_pr").pr_number == 2
    repo = git.Repo(case.root)
    assert repo.head.commit.hexsha == before["head"] and repo.active_branch.name == "main"
    assert repo.git.status("--porcelain") == "?? .mock_github/"  # untracked files, committed nowhere


def test_publish_needs_a_git_repository(patch_incident, tmp_path):
    case, proposal, incident = patch_incident
    with pytest.raises(PublishError):
        publish(proposal, incident, tmp_path, "branch")
    with pytest.raises(PublishError):
        publish(proposal, incident, case.root, "github")
