"""`scan_requirements` on the pipeline repository of conftest and the OSV records of ./osv."""

from __future__ import annotations

from datetime import date

import pytest

from patchit_provider.engine.vulns import scan_requirements

TODAY = date(2026, 12, 2)


@pytest.fixture
def scan(vuln_repo, vuln_osv):
    result = scan_requirements(vuln_repo / "requirements.txt", vuln_osv, repo=vuln_repo, today=TODAY)
    return result, {f.package: f for f in result.findings}


def test_several_advisories_with_different_fixes_give_the_smallest_version_fixing_all(scan):
    _, found = scan
    jinja = found["jinja2"]  # required as `Jinja2[i18n]`, one record names it `jinja2`, the other `Jinja2`
    assert jinja.advisories == ["GHSA-h5c8-rqwp-cp95", "GHSA-h75v-3vvj-5mfj"]
    assert jinja.aliases == ["CVE-2024-22195", "CVE-2024-34064"]
    assert jinja.fixed_version == "3.1.4"  # 3.1.3 fixes the first but is still affected by the second
    assert "3.1.3 (still affected)" in jinja.fix_reason
    assert (jinja.base_score, jinja.severity, jinja.action) == (5.4, "medium", "upgrade")
    assert jinja.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"
    assert jinja.deadline == "2027-03-02"  # medium: 90 days


def test_cvss_v4_vector_scored_and_names_compared_after_normalization(scan):
    _, found = scan
    multipart = found["python-multipart"]  # required as `python_multipart`
    assert (multipart.base_score, multipart.severity, multipart.severity_source) == (8.7, "high", "cvss_v4")
    assert multipart.vector.startswith("CVSS:4.0/")
    assert (multipart.fixed_version, multipart.deadline) == ("0.0.18", "2027-01-01")  # high: 30 days


def test_record_without_any_severity_is_unknown_with_a_null_score(scan):
    _, found = scan
    pyyaml = found["pyyaml"]
    assert (pyyaml.severity, pyyaml.base_score, pyyaml.vector) == ("unknown", None, None)
    assert pyyaml.fixed_version == "5.4" and pyyaml.deadline == "2027-05-31"  # unknown: 180 days


def test_database_severity_only_and_no_fix_is_accept_or_mitigate(scan):
    _, found = scan
    ecdsa = found["ecdsa"]
    assert (ecdsa.severity, ecdsa.base_score, ecdsa.severity_source) == ("high", None, "database")
    assert ecdsa.fixed_version is None and ecdsa.action == "accept_or_mitigate"
    assert ecdsa.deadline == "2027-01-01"


def test_the_other_range_of_a_record_does_not_offer_a_downgrade(scan):
    _, found = scan
    urllib3 = found["urllib3"]  # from the -r include; the record also fixes 1.26.19, below 2.0.7
    assert urllib3.fixed_version == "2.2.2" and urllib3.requirement == "requirements/base.txt:1"
    assert (urllib3.base_score, urllib3.severity) == (4.4, "medium")


def test_withdrawn_malformed_and_other_ecosystems_are_reported_never_matched(scan, vuln_osv):
    result, found = scan
    assert "flask-caching" not in found
    reasons = {s.item.split(" ")[0]: s.reason for s in result.skipped if s.kind != "requirement"}
    assert reasons["PYSEC-2021-13.json"].startswith("withdrawn on 2023-07-25")
    assert "'modified' is a required property" in reasons["GHSA-malformed.json"]
    assert "should be non-empty" in reasons["GHSA-malformed.json"]
    assert reasons["truncated.json"].startswith("unreadable")
    assert any("unknown ecosystem 'Zigistry'" in s.reason for s in result.skipped)
    assert any("ecosystem npm is not PyPI" in s.reason for s in result.skipped)
    assert result.advisories_read == 6
    # nothing lost: every record file was either read or is named in `skipped`
    named = {s.item.split(" ")[0] for s in result.skipped if s.kind != "requirement"}
    used = {f"{a}.json" for f in found.values() for a in f.advisories}
    assert named | used == {p.name for p in vuln_osv.glob("*.json")}


def test_every_requirement_line_is_scanned_or_skipped_with_its_reason(scan):
    result, found = scan
    assert set(found) == {"jinja2", "python-multipart", "pyyaml", "ecdsa", "urllib3"}
    assert result.scanned == 6  # the five above and flask-caching
    skipped = {s.item: s.reason for s in result.skipped if s.kind == "requirement"}
    assert "false for the target interpreter" in skipped["requirements.txt:10"]
    assert skipped["requirements.txt:11"].startswith("editable requirement")
    assert skipped["requirements.txt:12"].startswith("URL requirement")
    assert "not pinned with ==" in skipped["requirements.txt:13"]
    assert "outside the repository" in skipped["requirements.txt:16"]


def test_blast_radius_lists_dag_files_importing_the_package_anywhere(scan):
    _, found = scan
    assert found["jinja2"].dags == ["dags/reports.py"]  # the import inside a task; utils/helpers.py is no DAG
    assert found["pyyaml"].dags == ["dags/ingest.py"]  # `import yaml as y` for PyYAML
    assert found["python-multipart"].dags == ["dags/uploads.py"]  # `import multipart.multipart` in a function
    reports = found["jinja2"].dag_details[0]
    assert (reports.dag_ids, reports.criticality, reports.criticality_from) == (["reports"], 4, "tags")
    ingest = found["pyyaml"].dag_details[0]
    assert (ingest.dag_ids, ingest.criticality, ingest.criticality_from) == (["ingest"], 3, "sla")


def test_deadlines_follow_configured_days(vuln_repo, vuln_osv):
    days = {"critical": 7, "high": 10, "medium": 20, "low": 40}
    found = {
        f.package: f
        for f in scan_requirements(vuln_repo / "requirements.txt", vuln_osv, today=TODAY, deadline_days=days).findings
    }
    assert found["python-multipart"].deadline == "2026-12-12"
    assert found["jinja2"].deadline == "2026-12-22"
    assert found["pyyaml"].deadline == "2027-01-11"


def test_a_constraint_that_excludes_every_fix_means_accept_or_mitigate(vuln_repo, vuln_osv):
    (vuln_repo / "constraints.txt").write_text("jinja2<3.1.4\n")
    jinja = next(
        f
        for f in scan_requirements(vuln_repo / "requirements.txt", vuln_osv, today=TODAY).findings
        if f.package == "jinja2"
    )
    assert jinja.fixed_version is None and jinja.action == "accept_or_mitigate"
    assert "outside the project's constraint <3.1.4" in jinja.fix_reason


def test_the_requirements_file_must_be_inside_the_repository(tmp_path, vuln_osv):
    (tmp_path / "requirements.txt").write_text("jinja2==3.1.2\n")
    (tmp_path / "repo").mkdir()
    with pytest.raises(ValueError, match="not inside the repository"):
        scan_requirements(tmp_path / "requirements.txt", vuln_osv, repo=tmp_path / "repo", today=TODAY)


def test_copies_of_one_flaw_in_two_databases_count_once(tmp_path, vuln_osv):
    """An OSV PyPI export holds both the PYSEC and the GHSA record of a flaw, naming each other."""
    import json
    import shutil

    osv = tmp_path / "osv"
    shutil.copytree(vuln_osv, osv)
    ghsa = json.loads((osv / "PYSEC-2021-142.json").read_text())
    ghsa.update(
        id="GHSA-8q59-q68h-6hv4",
        aliases=["CVE-2020-14343", "PYSEC-2021-142"],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    )
    (osv / "GHSA-8q59-q68h-6hv4.json").write_text(json.dumps(ghsa))
    (tmp_path / "requirements.txt").write_text("PyYAML==5.3.1\n")
    [finding] = scan_requirements(tmp_path / "requirements.txt", osv, today=TODAY).findings
    assert finding.advisories == ["GHSA-8q59-q68h-6hv4"]  # the scored GHSA record represents the flaw
    assert finding.aliases == ["CVE-2020-14343", "PYSEC-2021-142"]
    assert (finding.base_score, finding.severity, finding.deadline) == (9.8, "critical", "2026-12-17")


def test_the_vulns_engine_imports_no_airflow():
    import subprocess
    import sys

    code = (
        "import sys, patchit_provider.engine.vulns; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
