"""pip-audit JSON joined to OSV records by id and aliases; the fix rollout on the rollout planner."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from patchit_provider.engine.vulns import import_pip_audit, plan_fix_rollout
from patchit_provider.engine.vulns.pip_audit import ReportError
from patchit_provider.engine.vulns.requirements import parse_requirements

TODAY = date(2026, 12, 2)

REPORT = {
    "dependencies": [
        # by id
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]},
                # by an alias only: pip-audit may name the PYSEC or CVE id
                {"id": "PYSEC-2024-9999", "fix_versions": ["3.1.4"], "aliases": ["CVE-2024-34064"]},
            ],
        },
        {"name": "pyyaml", "version": "5.3.1", "vulns": [{"id": "GHSA-8q59-q68h-6hv4", "fix_versions": ["5.4"]}]},
        {"name": "ecdsa", "version": "0.19.0", "vulns": [{"id": "CVE-2024-23342", "fix_versions": []}]},
        {"name": "requests", "version": "2.31.0", "vulns": [{"id": "GHSA-9hjg-9r4m-mvj7", "fix_versions": ["2.32.4"]}]},
        {"name": "urllib3", "version": "2.2.2", "vulns": [{"id": "GHSA-34jh-p97f-mpxf", "fix_versions": ["2.2.2"]}]},
        {"name": "certifi", "version": "2024.7.4", "vulns": []},
        {
            "name": "internal-lib",
            "skip_reason": "Dependency not found on PyPI and could not be audited: internal-lib (1.0)",
        },
    ],
    "fixes": [],
}


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(REPORT))
    return path


def test_findings_are_joined_by_id_and_alias_and_scored_from_the_records(report, vuln_osv, vuln_repo):
    result = import_pip_audit(report, vuln_osv, repo=vuln_repo, today=TODAY)
    found = {f.package: f for f in result.findings}
    assert sorted(found) == ["ecdsa", "jinja2", "pyyaml"]
    jinja = found["jinja2"]
    assert jinja.advisories == ["GHSA-h5c8-rqwp-cp95", "GHSA-h75v-3vvj-5mfj"] and jinja.fixed_version == "3.1.4"
    assert (jinja.base_score, jinja.severity, jinja.dags) == (5.4, "medium", ["dags/reports.py"])
    assert found["pyyaml"].advisories == ["PYSEC-2021-142"] and found["pyyaml"].severity == "unknown"
    assert found["ecdsa"].action == "accept_or_mitigate" and found["ecdsa"].severity == "high"
    reasons = {s.item: s.reason for s in result.skipped if s.kind == "report"}
    assert reasons["requests 2.31.0 GHSA-9hjg-9r4m-mvj7"].startswith("no OSV record")
    assert "does not affect 2.2.2" in reasons["urllib3 2.2.2 GHSA-34jh-p97f-mpxf"]
    assert reasons["internal-lib"].startswith("pip-audit skipped it")


def test_the_projects_constraints_bound_the_fix(report, vuln_osv, vuln_repo):
    (vuln_repo / "constraints.txt").write_text("jinja2<3.1.4\n")
    constraints = parse_requirements(vuln_repo / "requirements.txt", vuln_repo)
    found = {f.package: f for f in import_pip_audit(report, vuln_osv, today=TODAY, constraints=constraints).findings}
    assert found["jinja2"].fixed_version is None and found["jinja2"].action == "accept_or_mitigate"


def test_the_older_bare_list_format_is_read_and_garbage_refused(tmp_path, vuln_osv):
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(REPORT["dependencies"][:1]))
    assert [f.package for f in import_pip_audit(bare, vuln_osv, today=TODAY).findings] == ["jinja2"]
    for text in ("{}", "not json", '{"dependencies": [1]}'):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(ReportError):
            import_pip_audit(bad, vuln_osv, today=TODAY)


def test_a_fix_rolls_out_least_critical_first_by_the_deadline_and_no_fix_never_does(
    report, vuln_osv, tmp_path, vuln_write
):
    repo = vuln_write(
        tmp_path / "r",
        {
            "dags/a.py": "from airflow.sdk import DAG\nimport jinja2\nwith DAG('finance', tags=['critical']):\n    pass\n",
            "dags/b.py": "from airflow.sdk import DAG\nimport jinja2\nwith DAG('marketing'):\n    pass\n",
            "dags/c.py": "from airflow.sdk import DAG\nimport jinja2\nwith DAG('ops', tags=['criticality:3']):\n    pass\n",
            "dags/d.py": "from airflow.sdk import DAG\nimport ecdsa\nwith DAG('keys'):\n    pass\n",
        },
    )
    found = {f.package: f for f in import_pip_audit(report, vuln_osv, repo=repo, today=TODAY).findings}
    plan = plan_fix_rollout(found["jinja2"], now=datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert plan.valid, plan.problems
    assert [w.members for w in plan.waves] == [["marketing"], ["ops"], ["finance"]]
    assert plan.deadline == datetime(2027, 3, 2, 23, 59, tzinfo=timezone.utc)
    assert plan_fix_rollout(found["ecdsa"]) is None  # accept or mitigate: never a rollout
