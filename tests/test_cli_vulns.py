"""`patchit vulns scan` / `import-pip-audit` as ../shared/cli-contract.md defines them, run as a
user would: the console script on a repository and a folder of OSV records
(tests/engine/vulns/osv, whose README says where each record comes from)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PATCHIT = [sys.executable, "-m", "patchit_provider.cli"]
OSV = Path(__file__).parent / "engine" / "vulns" / "osv"
CONTRACT_KEYS = [
    "package",
    "version",
    "advisories",
    "aliases",
    "vector",
    "base_score",
    "severity",
    "fixed_version",
    "action",
    "deadline",
    "dags",
]

FILES = {
    "requirements.txt": (
        "-r requirements/base.txt\n"
        "Jinja2[i18n]==3.1.2 ; python_version >= '3.8'  # templating\n"
        "python_multipart==0.0.9\n"
        "PyYAML==5.3.1 \\\n    --hash=sha256:b8eac752c5e14d3eca0e6dd9199cd627518cb5ec06add0de9d32baeee6fe645d\n"
        "ecdsa==0.19.0\nflask-caching==1.10.1\npandas>=2.0\n"
    ),
    "requirements/base.txt": "urllib3==2.0.7\n",
    "dags/reports.py": "from airflow.sdk import DAG, task\n\nwith DAG('reports', tags=['criticality:4']):\n"
    "    @task\n    def render():\n        from jinja2 import Template\n        return Template('x').render()\n",
    "dags/ingest.py": "import yaml\nfrom airflow.sdk import dag\n\n@dag(schedule=None)\ndef ingest():\n    yaml.safe_load('a: 1')\n\ningest()\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PATCHIT, *args], capture_output=True, timeout=120, check=False, env={**os.environ, **(env or {})}
    )


def _scan(repo: Path, *extra: str, env: dict[str, str] | None = None) -> dict:
    proc = _run(
        "vulns",
        "scan",
        "--requirements",
        str(repo / "requirements.txt"),
        "--osv",
        str(OSV),
        "--repo",
        str(repo),
        "--today",
        "2026-12-02",
        "--json",
        *extra,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().count("\n") == 1  # exactly one JSON object
    return json.loads(proc.stdout)


def test_scan_follows_the_contract(repo: Path):
    out = _scan(repo)
    assert list(out)[:2] == ["findings", "skipped"]
    found = {f["package"]: f for f in out["findings"]}
    for finding in found.values():
        assert list(finding)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert {k: found["jinja2"][k] for k in CONTRACT_KEYS} == {
        "package": "jinja2",
        "version": "3.1.2",
        "advisories": ["GHSA-h5c8-rqwp-cp95", "GHSA-h75v-3vvj-5mfj"],
        "aliases": ["CVE-2024-22195", "CVE-2024-34064"],
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
        "base_score": 5.4,
        "severity": "medium",
        "fixed_version": "3.1.4",
        "action": "upgrade",
        "deadline": "2027-03-02",
        "dags": ["dags/reports.py"],
    }
    multipart = found["python-multipart"]
    assert (multipart["base_score"], multipart["severity"], multipart["deadline"]) == (8.7, "high", "2027-01-01")
    assert multipart["vector"] == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"
    assert (found["pyyaml"]["severity"], found["pyyaml"]["base_score"], found["pyyaml"]["dags"]) == (
        "unknown",
        None,
        ["dags/ingest.py"],
    )
    ecdsa = found["ecdsa"]
    assert (ecdsa["severity"], ecdsa["base_score"], ecdsa["fixed_version"], ecdsa["action"]) == (
        "high",
        None,
        None,
        "accept_or_mitigate",
    )
    assert found["urllib3"]["fixed_version"] == "2.2.2"
    assert "flask-caching" not in found  # its only record is withdrawn
    reasons = " | ".join(s["reason"] for s in out["skipped"])
    for said in ("withdrawn", "does not validate against the OSV schema", "unknown ecosystem", "not pinned with =="):
        assert said in reasons


def test_patch_and_rollout_extras(repo: Path):
    found = {f["package"]: f for f in _scan(repo, "--patch", "--rollout")["findings"]}
    assert "+Jinja2[i18n]==3.1.4 ; python_version >= '3.8'  # templating" in found["jinja2"]["patch"]["diff"]
    assert found["jinja2"]["rollout"]["valid"] and found["jinja2"]["rollout"]["waves"][0]["members"] == ["reports"]
    assert found["pyyaml"]["patch"] is None and "must be regenerated" in found["pyyaml"]["patch_refused"]
    assert found["ecdsa"]["patch"] is None and found["ecdsa"]["rollout"] is None


def test_deadlines_and_criticality_are_configurable(repo: Path):
    env = {"PATCHIT_VULN_DEADLINE_MEDIUM_DAYS": "10", "PATCHIT_VULN_DAG_CRITICALITY": '{"reports": 9}'}
    found = {f["package"]: f for f in _scan(repo, env=env)["findings"]}
    assert found["jinja2"]["deadline"] == "2026-12-12"
    assert found["jinja2"]["dag_details"][0]["criticality"] == 9


def test_import_pip_audit(repo: Path, tmp_path: Path):
    report = tmp_path / "audit.json"
    report.write_text(
        json.dumps(
            {
                "dependencies": [
                    {
                        "name": "jinja2",
                        "version": "3.1.2",
                        "vulns": [{"id": "CVE-2024-34064", "fix_versions": ["3.1.4"]}],
                    },
                    {
                        "name": "requests",
                        "version": "2.31.0",
                        "vulns": [{"id": "GHSA-9hjg-9r4m-mvj7", "fix_versions": ["2.32.4"]}],
                    },
                ],
                "fixes": [],
            }
        )
    )
    proc = _run(
        "vulns",
        "import-pip-audit",
        str(report),
        "--osv",
        str(OSV),
        "--repo",
        str(repo),
        "--requirements",
        str(repo / "requirements.txt"),
        "--today",
        "2026-12-02",
        "--patch",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [jinja] = out["findings"]
    assert (jinja["advisories"], jinja["fixed_version"], jinja["dags"]) == (
        ["GHSA-h75v-3vvj-5mfj"],
        "3.1.4",
        ["dags/reports.py"],
    )
    assert "+Jinja2[i18n]==3.1.4" in jinja["patch"]["diff"]
    assert any(s["item"] == "requests 2.31.0 GHSA-9hjg-9r4m-mvj7" for s in out["skipped"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--requirements", "missing.txt", "--osv", str(OSV)], "--requirements is not a file"),
        (["--requirements", "requirements.txt", "--osv", "nope"], "--osv is not a directory"),
        (["--requirements", "requirements.txt", "--osv", str(OSV), "--today", "02/12/2026"], "--today is not a date"),
    ],
)
def test_bad_input_is_a_clear_error(repo: Path, args, message):
    args = [str(repo / a) if a.endswith(".txt") else a for a in args]
    proc = _run("vulns", "scan", *args)
    assert proc.returncode == 2 and message in proc.stderr.decode()


def test_text_output_names_everything(repo: Path):
    proc = _run(
        "vulns",
        "scan",
        "--requirements",
        str(repo / "requirements.txt"),
        "--osv",
        str(OSV),
        "--repo",
        str(repo),
        "--today",
        "2026-12-02",
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert (
        "jinja2 3.1.2: medium (CVSS 5.4) GHSA-h5c8-rqwp-cp95, GHSA-h75v-3vvj-5mfj; upgrade to 3.1.4 by 2027-03-02"
        in text
    )
    assert "ecdsa 0.19.0: high (no CVSS score) GHSA-wj6h-64fc-37mp; no fix: accept or mitigate by 2027-01-01" in text
    assert "skipped PYSEC-2021-13.json (PYSEC-2021-13): withdrawn" in text


def test_markers_follow_the_target_interpreter(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("Jinja2==3.1.2 ; python_version < '3.9'\n")
    base = ["vulns", "scan", "--requirements", str(tmp_path / "requirements.txt"), "--osv", str(OSV), "--json"]
    old = json.loads(_run(*base, "--python", "3.8").stdout)
    new = json.loads(_run(*base, "--python", "3.12.1").stdout)
    assert [f["package"] for f in old["findings"]] == ["jinja2"]
    assert new["findings"] == [] and any("Python 3.12.1" in s["reason"] for s in new["skipped"])
