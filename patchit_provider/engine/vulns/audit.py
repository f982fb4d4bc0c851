"""pip-audit run on a repository's requirements, and its findings recorded in the store.

`run_pip_audit` runs the `pip-audit` executable the environment already has (PATCHIT never
installs it) on a pinned requirements file, `--no-deps --disable-pip` (the pins are audited as
written: nothing is installed or resolved), OSV as the service, `--osv-url` when an internal OSV
mirror is configured, with a timeout. `record_audit` joins a report's dependencies to the OSV
records of a folder (pip-audit carries no severity) and stores each finding (idempotent by id),
opens (and notifies) the accept-or-mitigate incident of each finding without a fix when given the
incident store (engine/vulns/incident.py), and marks findings whose package the audit now reports
at another version `fixed`; the ingest API and the PipAuditOperator both end here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name

from patchit_provider.engine.errors import ExternalError
from patchit_provider.engine.models import VulnRecord, VulnScan
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.stages.base import IncidentStore, Notifier
from patchit_provider.engine.vulns.incident import escalate_no_fix
from patchit_provider.engine.vulns.osv import load_osv_dir
from patchit_provider.engine.vulns.pip_audit import audit_findings
from patchit_provider.engine.vulns.remediate import new_record
from patchit_provider.engine.vulns.requirements import parse_requirements
from patchit_provider.engine.vulns.severity import DEFAULT_DEADLINE_DAYS

MAX_OUTPUT = 32 << 20
MAX_FINDINGS = 10_000


class PipAuditMissing(ExternalError):
    """pip-audit is not installed where the audit runs."""


def pip_audit_command(
    executable: str, requirements: Path, *, osv_url: str | None = None, timeout: float = 60.0
) -> list[str]:
    command = [
        executable,
        "-r",
        str(requirements),
        "-f",
        "json",
        "--progress-spinner",
        "off",
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        "osv",
        "--timeout",
        str(int(timeout)),
    ]
    return command + (["--osv-url", osv_url] if osv_url else [])


def run_pip_audit(
    requirements: Path, *, executable: str = "pip-audit", osv_url: str | None = None, timeout: float = 600.0
) -> list[dict[str, Any]]:
    """The `dependencies` of pip-audit's JSON report (exit 1 means: vulnerabilities found)."""
    found = shutil.which(executable)
    if found is None:
        raise PipAuditMissing(
            f"pip-audit is not installed ({executable!r} is not on PATH); PATCHIT never installs it at run time"
        )
    command = pip_audit_command(found, requirements, osv_url=osv_url, timeout=min(timeout, 120.0))
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, cwd=Path(requirements).parent, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ExternalError(f"pip-audit did not finish within {timeout:.0f} s") from exc
    if done.returncode not in (0, 1):
        raise ExternalError(
            f"pip-audit failed (exit status {done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}"
        )
    try:
        data = json.loads(done.stdout[:MAX_OUTPUT].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExternalError(f"pip-audit printed no JSON report: {exc}") from exc
    deps = data.get("dependencies") if isinstance(data, dict) else data
    if not isinstance(deps, list) or not all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in deps):
        raise ExternalError("pip-audit's output is not a JSON report with a `dependencies` list")
    return deps


class Findings(Protocol):
    """What the audit needs of engine.store.vulns.VulnStore."""

    def add(self, record: VulnRecord) -> tuple[VulnRecord, bool]: ...

    def save(self, record: VulnRecord) -> VulnRecord: ...

    def list(self, *, state: str | None = None, repo: str | None = None, limit: int = 1000) -> list[VulnRecord]: ...


def record_audit(
    store: Findings,
    deps: list[dict[str, Any]],
    repo: Path,
    requirements: Path | None,
    settings: PatchitSettings,
    source: str,
    *,
    today: date,
    incidents: IncidentStore | None = None,
    notifier: Notifier | None = None,
) -> tuple[VulnScan, list[tuple[VulnRecord, bool]]]:
    """(the scan, [(stored record, created)]): findings of a report, joined to `settings.osv_dir`;
    with `incidents`, each finding without a fix gets its incident (once) and the record names it."""
    constraints = parse_requirements(requirements, repo) if requirements else None
    days = {k: getattr(settings, f"vuln_deadline_{k}_days") for k in DEFAULT_DEADLINE_DAYS}
    scan = audit_findings(
        deps,
        load_osv_dir(Path(settings.osv_dir)),
        report_name=source,
        repo=repo,
        today=today,
        deadline_days=days,
        dag_criticality=settings.vuln_dag_criticality,
        constraints=constraints,
    )
    stored = [store.add(new_record(finding, str(repo), source)) for finding in scan.findings]
    if incidents is not None:
        stored = [
            (store.save(escalate_no_fix(r, incidents, notifier)), created)
            if r.state == "accepted_or_mitigated" and r.incident_id is None
            else (r, created)
            for r, created in stored
        ]
    mark_fixed(store, deps, str(repo), today)
    return scan, stored


def mark_fixed(store: Findings, deps: list[dict[str, Any]], repo: str, today: date) -> list[VulnRecord]:
    """Findings of `repo` whose package the audit now reports at another version: `fixed` (a new
    version still affected is a finding of its own)."""
    audited: dict[str, str] = {
        canonicalize_name(d["name"]): str(d.get("version")) for d in deps if "skip_reason" not in d and d.get("version")
    }
    fixed = []
    for record in store.list(repo=repo, limit=MAX_FINDINGS):
        now = audited.get(record.finding.package)
        if record.state != "fixed" and now is not None and now != record.finding.version:
            record.state = "fixed"
            record.escalation = f"fixed: the audit of {today.isoformat()} found {record.finding.package} {now}"
            fixed.append(store.save(record))
    return fixed
