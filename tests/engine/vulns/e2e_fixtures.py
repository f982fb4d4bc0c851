"""A real git repository of pipelines, OSV records, a pip-audit report and a local wheel cache
written here (the wheel format is a zip with METADATA, WHEEL and RECORD: no network, no build)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 5.4
V40_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3

MODULE_OK = "def render(x):\n    return f'<{x}>'\n"
MODULE_WITHOUT_RENDER = "def draw(x):\n    return x\n"


def write_wheel(
    folder: Path, name: str, version: str, module: str, *, requires: list[str] = (), extras: list[str] = ()
) -> Path:
    dist = f"{name}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Provides-Extra: {e}" for e in extras] + [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{name}/__init__.py": module,
        f"{dist}/METADATA": "\n".join(meta) + "\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: patchit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join(record + [f"{dist}/RECORD,,"]) + "\n"
    target = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


def wheel_cache(folder: Path, fixed_module: str = MODULE_OK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_wheel(folder, "tinyvuln", "1.0", MODULE_OK, extras=["fast"])
    write_wheel(folder, "tinyvuln", "1.1", fixed_module, requires=["helper>=1.0"], extras=["fast"])
    write_wheel(folder, "helper", "1.0", "")
    write_wheel(folder, "nofix", "2.0", "")
    return folder


REQUIREMENTS = """\
# pipelines
-r base.txt
TinyVuln[fast]==1.0 ; python_version >= "3.8"  # templating
nofix==2.0
pywin32==306 ; sys_platform == "win32"
"""
LOCKED = """\
tinyvuln==1.0 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
"""

REPORTS_DAG = """\
from airflow.sdk import DAG, task

with DAG("reports", tags=["criticality:2"], schedule=None):
    @task
    def render():
        from tinyvuln import render as draw
        return draw(1)

    render()
"""
FINANCE_DAG = """\
import tinyvuln
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

assert callable(tinyvuln.render)

with DAG("finance_close", tags=["critical"], schedule=None):
    EmptyOperator(task_id="noop")
"""
QUIET_DAG = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("quiet", schedule=None):
    EmptyOperator(task_id="noop")
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


def pipeline_repo(root: Path) -> Path:
    (root / "dags").mkdir(parents=True)
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "base.txt").write_text("helper==1.0\n")
    (root / "requirements-locked.txt").write_text(LOCKED)
    (root / "dags" / "reports.py").write_text(REPORTS_DAG)
    (root / "dags" / "finance.py").write_text(FINANCE_DAG)
    (root / "dags" / "quiet.py").write_text(QUIET_DAG)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "pipelines")
    return root


def _record(
    ident: str, package: str, events: list[dict], *, aliases=(), vector: str | None = None, ecosystem="PyPI"
) -> dict:
    record = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-10-01T00:00:00Z",
        "aliases": list(aliases),
        "summary": f"flaw in {package}",
        "affected": [
            {"package": {"ecosystem": ecosystem, "name": package}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ],
        "references": [{"type": "ADVISORY", "url": f"https://github.com/advisories/{ident}"}],
    }
    if vector:
        record["severity"] = [
            {"type": vector[:6].replace("CVSS:3", "CVSS_V3").replace("CVSS:4", "CVSS_V4"), "score": vector}
        ]
    return record


def osv_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = {
        "GHSA-tiny-vuln-0001": _record(
            "GHSA-tiny-vuln-0001",
            "tinyvuln",
            [{"introduced": "0"}, {"fixed": "1.1"}],
            aliases=["CVE-2099-0001", "PYSEC-2099-1"],
            vector=V31_MEDIUM,
        ),
        "GHSA-nofx-nofx-0002": _record("GHSA-nofx-nofx-0002", "nofix", [{"introduced": "0"}], vector=V40_CRITICAL),
    }
    other = _record("GHSA-othr-ecos-0003", "tinyvuln", [{"introduced": "0"}, {"fixed": "9.0"}])
    other["affected"][0]["package"]["ecosystem"] = "NotAnEcosystem"
    records["GHSA-othr-ecos-0003"] = other
    for ident, record in records.items():
        (folder / f"{ident}.json").write_text(json.dumps(record))
    (folder / "GHSA-malformed-0004.json").write_text(
        json.dumps({"id": "GHSA-malformed-0004", "affected": "not a list"})
    )
    (folder / "truncated.json").write_text('{"id": "GHSA-trunc')
    return folder


PIP_AUDIT_REPORT = {
    "dependencies": [
        {
            "name": "TinyVuln",
            "version": "1.0",
            "vulns": [
                {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": ["CVE-2099-0001"], "description": "flaw"}
            ],
        },
        {
            "name": "nofix",
            "version": "2.0",
            "vulns": [{"id": "GHSA-nofx-nofx-0002", "fix_versions": [], "aliases": []}],
        },
        {
            "name": "helper",
            "version": "1.0",
            "vulns": [{"id": "PYSEC-2099-77", "fix_versions": ["2.0"], "aliases": []}],
        },
        {
            "name": "internal-lib",
            "skip_reason": "Dependency not found on PyPI and could not be audited: internal-lib (0.1)",
        },
    ],
    "fixes": [],
}
