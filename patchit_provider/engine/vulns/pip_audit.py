"""pip-audit JSON reports (`pip-audit -f json`) joined to OSV records.

pip-audit's JSON is `{"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions",
"aliases"?, "description"?}]} | {"name", "skip_reason"}], "fixes": [...]}` (older releases print
the bare list). It carries no severity: each vulnerability is joined to an OSV record by its id or
one of its aliases, and the finding is then computed from the records like a scan's (score, fixed
version, deadline). A vulnerability with no record, or whose record does not apply to the
reported version, is reported as skipped, never dropped.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import VulnFinding, VulnScan, VulnSkip
from patchit_provider.engine.vulns import blast
from patchit_provider.engine.vulns.osv import OsvDatabase, Record, load_osv_dir
from patchit_provider.engine.vulns.requirements import Requirements
from patchit_provider.engine.vulns.scan import finding_for
from patchit_provider.engine.vulns.versions import entry_affects

MAX_REPORT_BYTES = 32 << 20


class ReportError(InputError, ValueError):
    """The report is not pip-audit JSON."""


def read_report(path: Path) -> list[dict[str, Any]]:
    path = Path(path)
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise ReportError(f"{path} is larger than {MAX_REPORT_BYTES >> 20} MiB")
    try:
        data = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{path} is not JSON: {exc}") from exc
    deps = data.get("dependencies") if isinstance(data, dict) else data
    if not isinstance(deps, list) or not all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in deps):
        raise ReportError(f"{path} is not a pip-audit JSON report (no `dependencies` list of objects with a name)")
    return deps


def _join(db: OsvDatabase, vuln: dict[str, Any]) -> Record | None:
    for ident in [vuln.get("id"), *(vuln.get("aliases") or [])]:
        if isinstance(ident, str) and ident.upper() in db.by_id:
            return db.by_id[ident.upper()]
    return None


def import_pip_audit(
    report: Path,
    osv_dir: Path,
    *,
    repo: Path | None = None,
    today: date,
    deadline_days: dict[str, int] | None = None,
    dag_criticality: dict[str, int] | None = None,
    constraints: Requirements | None = None,
) -> VulnScan:
    return audit_findings(
        read_report(report),
        load_osv_dir(osv_dir),
        report_name=Path(report).name,
        repo=repo,
        today=today,
        deadline_days=deadline_days,
        dag_criticality=dag_criticality,
        constraints=constraints,
    )


def audit_findings(
    deps: list[dict[str, Any]],
    db: OsvDatabase,
    *,
    report_name: str,
    repo: Path | None = None,
    today: date,
    deadline_days: dict[str, int] | None = None,
    dag_criticality: dict[str, int] | None = None,
    constraints: Requirements | None = None,
) -> VulnScan:
    """The findings of a decoded report's `dependencies` (the ingest API's entry point)."""
    files = blast.dag_files(repo) if repo is not None else []
    skipped: list[VulnSkip] = list(db.skipped)
    findings: list[VulnFinding] = []
    for dep in deps:
        name = canonicalize_name(dep["name"])
        if "skip_reason" in dep:
            skipped.append(
                VulnSkip(item=dep["name"], reason=f"pip-audit skipped it: {dep['skip_reason']}", kind="report")
            )
            continue
        try:
            version = Version(str(dep.get("version")))
        except InvalidVersion:
            skipped.append(
                VulnSkip(item=dep["name"], reason=f"version {dep.get('version')!r} is not PEP 440", kind="report")
            )
            continue
        records: dict[str, Record] = {}
        for vuln in dep.get("vulns") or []:
            label = f"{dep['name']} {version} {vuln.get('id')}"
            record = _join(db, vuln)
            if record is None:
                skipped.append(
                    VulnSkip(
                        item=label,
                        reason="no OSV record with this id or alias: severity and fix unknown",
                        kind="report",
                    )
                )
            elif name not in record.entries:
                skipped.append(
                    VulnSkip(
                        item=label, reason=f"OSV record {record.raw['id']} names no PyPI package {name}", kind="report"
                    )
                )
            elif not any(entry_affects(version, e) for e in record.entries[name]):
                skipped.append(
                    VulnSkip(
                        item=label, reason=f"OSV record {record.raw['id']} does not affect {version}", kind="report"
                    )
                )
            else:
                records[record.raw["id"]] = record
        if not records:
            continue
        others = constraints.constraints.get(name) if constraints else None
        finding = finding_for(
            name,
            version,
            [records[k] for k in sorted(records)],
            others or SpecifierSet(),
            today,
            deadline_days,
            requirement=f"pip-audit:{report_name}",
        )
        finding.dag_details = blast.importers(files, name, dag_criticality)
        finding.dags = [d.path for d in finding.dag_details]
        findings.append(finding)
    return VulnScan(findings=findings, skipped=skipped, scanned=len(deps), advisories_read=len(db.records))
