"""The fix as a requirements patch: a PatchProposal the usual policy accepts."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from patchit_provider.engine.models import ErrorSummary, Triage
from patchit_provider.engine.policy import check_policy
from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.engine.vulns import (
    PatchRefused,
    requirements_patch,
    scan_requirements,
)


@pytest.fixture
def findings(vuln_repo, vuln_osv):
    result = scan_requirements(vuln_repo / "requirements.txt", vuln_osv, repo=vuln_repo, today=date(2026, 12, 2))
    return {f.package: f for f in result.findings}


def test_the_pinned_line_is_rewritten_keeping_extras_markers_and_comment(vuln_repo, findings):
    proposal = requirements_patch(findings["jinja2"], vuln_repo / "requirements.txt", vuln_repo)
    assert proposal.producer == "fixer:vuln_upgrade" and proposal.files == ["requirements.txt"]
    assert '-Jinja2[i18n]==3.1.2 ; python_version >= "3.8"  # templating\n' in proposal.diff
    assert '+Jinja2[i18n]==3.1.4 ; python_version >= "3.8"  # templating\n' in proposal.diff
    assert "GHSA-h75v-3vvj-5mfj" in proposal.rationale and "2027-03-02" in proposal.rationale
    subprocess.run(["git", "init", "-q"], cwd=vuln_repo, check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=vuln_repo, input=proposal.diff.encode(), check=True)
    assert "3.1.2" in (vuln_repo / "requirements.txt").read_text()  # the repository itself is untouched


def test_an_included_file_is_patched_where_the_pin_is(vuln_repo, findings):
    proposal = requirements_patch(findings["urllib3"], vuln_repo / "requirements.txt", vuln_repo)
    assert proposal.files == ["requirements/base.txt"]
    assert "+urllib3==2.2.2   # via requests" in proposal.diff


def test_the_patch_passes_the_requirements_policy(vuln_repo, findings):
    triage = Triage(
        category=Category.DEPENDENCY_MISSING,
        remediation=Remediation.PATCH,
        fingerprint="f" * 16,
        summary="vulnerable dependency",
        error=ErrorSummary(type="Vulnerability", message="x"),
        confidence=1.0,
    )
    proposal = requirements_patch(findings["python-multipart"], vuln_repo / "requirements.txt", vuln_repo)
    decision = check_policy(proposal, triage, vuln_repo)
    assert decision.allowed, decision.violations


def test_hashed_pins_are_refused_rather_than_left_with_stale_hashes(vuln_repo, findings):
    with pytest.raises(PatchRefused, match="hashes of 5.4 must be regenerated"):
        requirements_patch(findings["pyyaml"], vuln_repo / "requirements.txt", vuln_repo)


def test_no_fix_means_no_patch(vuln_repo, findings):
    with pytest.raises(PatchRefused, match="accept or mitigate"):
        requirements_patch(findings["ecdsa"], vuln_repo / "requirements.txt", vuln_repo)
