"""From a pip-audit JSON report and OSV records to stored findings: scores, affected DAGs, a
requirements patch validated in the sandbox against a local wheel cache and published on a branch
of a real git repository, a rollout plan due by the deadline, and an escalation for the finding
with no fix. Malformed records, an unknown ecosystem, hashes, extras, markers and includes are
reported, never lost."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store.vulns import VulnStore
from patchit_provider.engine.validation.sandbox import probe
from patchit_provider.engine.vulns import import_pip_audit, scan_requirements
from patchit_provider.engine.vulns.remediate import new_record, remediate
from patchit_provider.engine.vulns.requirements import parse_requirements

sys.path.insert(0, str(Path(__file__).parent))
from e2e_fixtures import (
    MODULE_WITHOUT_RENDER,
    PIP_AUDIT_REPORT,
    V31_MEDIUM,
    V40_CRITICAL,
    git,
    osv_folder,
    pipeline_repo,
    wheel_cache,
)

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
needs_sandbox = pytest.mark.skipif(bool(probe("/usr/bin/bwrap")), reason="bubblewrap sandbox not available here")


@pytest.fixture
def world(tmp_path):
    repo = pipeline_repo(tmp_path / "pipelines")
    osv = osv_folder(tmp_path / "osv")
    report = tmp_path / "pip-audit.json"
    report.write_text(json.dumps(PIP_AUDIT_REPORT))
    return repo, osv, report


def _scan(repo, osv, report):
    constraints = parse_requirements(repo / "requirements.txt", repo)
    return import_pip_audit(report, osv, repo=repo, today=TODAY, constraints=constraints)


def _settings(wheels: Path | None) -> PatchitSettings:
    return PatchitSettings(vuln_wheel_dir=str(wheels or ""), publish_mode="branch", validation_timeout=240.0)


def test_report_joined_to_osv_scores_dags_and_skips(world):
    repo, osv, report = world
    scan = _scan(repo, osv, report)
    by_name = {f.package: f for f in scan.findings}
    assert set(by_name) == {"tinyvuln", "nofix"}
    tiny, nofix = by_name["tinyvuln"], by_name["nofix"]
    # pip-audit named PYSEC-2099-1; the record found by that alias is the GHSA one, scored from its vector.
    assert tiny.advisories == ["GHSA-tiny-vuln-0001"] and "CVE-2099-0001" in tiny.aliases
    assert (tiny.vector, tiny.base_score, tiny.severity) == (V31_MEDIUM, 5.4, "medium")
    assert tiny.fixed_version == "1.1" and tiny.action == "upgrade" and tiny.deadline == "2027-03-01"
    assert tiny.dags == ["dags/finance.py", "dags/reports.py"]
    crit = {d.path: (d.criticality, d.criticality_from) for d in tiny.dag_details}
    assert crit == {"dags/finance.py": (5, "tags"), "dags/reports.py": (2, "tags")}
    assert (nofix.vector, nofix.base_score, nofix.severity) == (V40_CRITICAL, 9.3, "critical")
    assert nofix.fixed_version is None and nofix.action == "accept_or_mitigate" and nofix.deadline == "2026-12-16"
    reasons = " | ".join(f"{s.item}: {s.reason}" for s in scan.skipped)
    assert "GHSA-malformed-0004" in reasons and "does not validate against the OSV schema" in reasons
    assert "truncated.json: unreadable" in reasons
    assert "unknown ecosystem 'NotAnEcosystem'" in reasons
    assert "PYSEC-2099-77: no OSV record" in reasons  # helper's advisory has no record: said, not dropped
    assert "internal-lib: pip-audit skipped it" in reasons


def test_requirements_with_includes_extras_markers_and_hashes(world):
    repo, osv, _ = world
    scan = scan_requirements(repo / "requirements.txt", osv, repo=repo, today=TODAY)
    assert {f.package for f in scan.findings} == {"tinyvuln", "nofix"}
    assert scan.scanned == 3  # helper (from base.txt), tinyvuln (extras + marker), nofix
    assert any(s.item == "requirements.txt:5" and "win32" in s.reason and "marker" in s.reason for s in scan.skipped)
    locked = scan_requirements(repo / "requirements-locked.txt", osv, repo=repo, today=TODAY)
    record = new_record(locked.findings[0], str(repo), "scan")
    out = remediate(record, repo / "requirements-locked.txt", repo, _settings(None), now=NOW)
    assert out.state == "open" and "--hash" in out.escalation and "regenerated" in out.escalation
    assert git(repo, "branch", "--list", "patchit/*") == ""


def test_finding_without_fix_is_escalated_with_expiry_never_rolled_out(world, tmp_path):
    repo, osv, report = world
    nofix = next(f for f in _scan(repo, osv, report).findings if f.package == "nofix")
    record = new_record(nofix, str(repo), "pip-audit:pip-audit.json")
    assert record.state == "accepted_or_mitigated" and record.expires == "2026-12-16"
    assert "accept the risk or mitigate" in record.escalation and "2026-12-16" in record.escalation
    out = remediate(record, repo / "requirements.txt", repo, _settings(None), now=NOW)
    assert out.rollout_plan is None and out.branch is None and out.state == "accepted_or_mitigated"
    with VulnStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        _, created = store.add(record)
        again, created_again = store.add(new_record(nofix, str(repo), "pip-audit:again.json"))
        assert created and not created_again and again.source == "pip-audit:pip-audit.json"
        assert store.get(record.finding_id).expires == "2026-12-16"


@needs_sandbox
def test_upgrade_validated_in_sandbox_published_and_planned(world, tmp_path):
    repo, osv, report = world
    wheels = wheel_cache(tmp_path / "wheels")
    tiny = next(f for f in _scan(repo, osv, report).findings if f.package == "tinyvuln")
    head = git(repo, "rev-parse", "HEAD")
    with VulnStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        record, _ = store.add(new_record(tiny, str(repo), "pip-audit:pip-audit.json"))
        out = store.save(remediate(record, repo / "requirements.txt", repo, _settings(wheels), now=NOW))
        assert store.get(record.finding_id).state == "rollout_planned"
    checks = {c.name: c for c in out.validation.checks}
    assert out.validation.passed and out.validation.sandboxed, out.validation.checks
    assert "tinyvuln==1.1" in checks["resolve"].output and "helper==1.0" in checks["resolve"].output
    imports = [c.output for c in out.validation.checks if c.name == "import"]
    assert len(imports) == 2 and all(c.passed for c in out.validation.checks if c.name == "import")
    assert any("finance_close" in text for text in imports) and any("reports" in text for text in imports)
    # Published on a branch of the real repository; the checkout is untouched.
    assert out.branch == f"patchit/{record.finding_id}" and out.commit
    changed = git(repo, "show", out.branch + ":requirements.txt")
    assert 'TinyVuln[fast]==1.1 ; python_version >= "3.8"  # templating' in changed and "nofix==2.0" in changed
    assert git(repo, "rev-parse", "HEAD") == head and "==1.0" in (repo / "requirements.txt").read_text()
    # The plan: least critical DAG first, due by the deadline.
    plan = out.rollout_plan
    assert plan.valid and plan.waves[0].members == ["reports"]
    assert plan.waves[-1].members[-1] == "finance_close"
    assert plan.deadline == datetime(2027, 3, 1, 23, 59, tzinfo=timezone.utc)


@needs_sandbox
def test_upgrade_that_breaks_a_dag_import_is_not_validated(world, tmp_path):
    repo, osv, report = world
    wheels = wheel_cache(tmp_path / "wheels", fixed_module=MODULE_WITHOUT_RENDER)
    tiny = next(f for f in _scan(repo, osv, report).findings if f.package == "tinyvuln")
    out = remediate(new_record(tiny, str(repo), "scan"), repo / "requirements.txt", repo, _settings(wheels), now=NOW)
    assert out.state == "open" and out.branch is None and out.rollout_plan is None
    failed = [c for c in out.validation.checks if not c.passed]
    assert failed and all(c.name == "import" for c in failed)
    assert "render" in failed[0].output and "not validated" in out.escalation
    assert git(repo, "branch", "--list", "patchit/*") == ""


@needs_sandbox
def test_upgrade_that_does_not_resolve_is_not_validated(world, tmp_path):
    repo, osv, report = world
    wheels = wheel_cache(tmp_path / "wheels")
    (wheels / "helper-1.0-py3-none-any.whl").unlink()  # 1.1 needs helper>=1.0: unresolvable
    tiny = next(f for f in _scan(repo, osv, report).findings if f.package == "tinyvuln")
    out = remediate(new_record(tiny, str(repo), "scan"), repo / "requirements.txt", repo, _settings(wheels), now=NOW)
    resolve = [c for c in out.validation.checks if c.name == "resolve"]
    assert out.state == "open" and resolve and not resolve[0].passed
    assert "does not resolve" in resolve[0].output and "helper" in resolve[0].output


@needs_sandbox
def test_without_a_wheel_cache_the_patch_is_not_a_validated_fix(world):
    repo, osv, report = world
    tiny = next(f for f in _scan(repo, osv, report).findings if f.package == "tinyvuln")
    out = remediate(new_record(tiny, str(repo), "scan"), repo / "requirements.txt", repo, _settings(None), now=NOW)
    assert out.state == "open" and "vuln_wheel_dir is not set" in out.escalation
