"""`patchit vulns scan`: pinned requirements x OSV records -> findings (../shared/cli-contract.md).

Per pinned package: the advisories that apply to its version, the highest CVSS base score among
them, the smallest version that fixes them all and that the project's other constraints allow
(none: accept or mitigate before an expiry date, never an upgrade), the DAG files that import
it and the deadline. Offline: no network, nothing executed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from patchit_provider.engine.models import Advisory, VulnFinding, VulnScan, VulnSkip
from patchit_provider.engine.vulns import blast
from patchit_provider.engine.vulns.osv import OsvDatabase, Record, load_osv_dir
from patchit_provider.engine.vulns.requirements import Requirements, parse_requirements
from patchit_provider.engine.vulns.severity import deadline, overall
from patchit_provider.engine.vulns.versions import entry_affects, smallest_fix


def applying(db: OsvDatabase, name: str, version: Version) -> list[Record]:
    """Records whose PyPI entries for `name` affect `version`, in id order."""
    hits = {id(r): r for r in db.by_package.get(name, []) if any(entry_affects(version, e) for e in r.entries[name])}
    return sorted(hits.values(), key=lambda r: r.raw["id"])


def _representatives(records: list[Record], name: str) -> list[Advisory]:
    """One advisory per vulnerability: records that name each other (or a common alias), as an
    OSV export's GHSA and PYSEC copies of one flaw do, count once. The representative is the one
    with a CVSS vector, then a GHSA id, then the first id; the others' ids become aliases."""
    groups: list[tuple[set[str], list[Advisory]]] = []
    for record in records:
        advisory = record.advisory_by_package[name]
        names = {advisory.id.upper(), *(a.upper() for a in advisory.aliases)}
        joined = [g for g in groups if g[0] & names]
        for g in joined:
            groups.remove(g)
            names |= g[0]
        groups.append((names, [a for g in joined for a in g[1]] + [advisory]))
    chosen = []
    for _, members in groups:
        best = min(members, key=lambda a: (a.cvss_v4 is None and a.cvss_v3 is None, not a.id.startswith("GHSA-"), a.id))
        others = [a for a in members if a is not best]
        merged = best.model_copy(
            update={
                "aliases": sorted(
                    {*best.aliases, *(a.id for a in others), *(x for a in others for x in a.aliases)} - {best.id}
                ),
                "database_severity": best.database_severity
                or next((a.database_severity for a in others if a.database_severity), None),
            }
        )
        chosen.append(merged)
    return sorted(chosen, key=lambda a: a.id)


def finding_for(
    name: str,
    version: Version,
    records: list[Record],
    constraints: SpecifierSet,
    today: date,
    deadline_days: dict[str, int] | None = None,
    requirement: str = "",
) -> VulnFinding:
    """One finding from the applying records (at least one)."""
    advisories = _representatives(records, name)
    best, severity, source = overall(advisories)
    entries = [e for r in records for e in r.entries[name]]
    fixed, why = smallest_fix(version, entries, constraints)
    aliases = sorted({a for adv in advisories for a in adv.aliases} - {adv.id for adv in advisories})
    scores = [s for adv in advisories for s in (adv.cvss_v4, adv.cvss_v3) if s is not None]
    return VulnFinding(
        package=name,
        version=str(version),
        advisories=[a.id for a in advisories],
        aliases=aliases,
        vector=best.vector if best else None,
        base_score=best.base_score if best else None,
        severity=severity,
        fixed_version=str(fixed) if fixed else None,
        action="upgrade" if fixed else "accept_or_mitigate",
        deadline=deadline(severity, today, deadline_days).isoformat(),
        severity_source=source,
        scores=scores,
        requirement=requirement,
        fix_reason=why,
        links=[f"https://osv.dev/vulnerability/{a.id}" for a in advisories],
    )


def scan_pins(
    reqs: Requirements,
    db: OsvDatabase,
    *,
    repo: Path | None = None,
    today: date,
    deadline_days: dict[str, int] | None = None,
    dag_criticality: dict[str, int] | None = None,
) -> VulnScan:
    files = blast.dag_files(repo) if repo is not None else []
    findings: list[VulnFinding] = []
    for pin in reqs.pins:
        records = applying(db, pin.name, pin.version)
        if not records:
            continue
        finding = finding_for(
            pin.name, pin.version, records, reqs.other_constraints(pin), today, deadline_days, f"{pin.file}:{pin.line}"
        )
        dags = blast.importers(files, pin.name, dag_criticality)
        finding.dag_details = dags
        finding.dags = [d.path for d in dags]
        findings.append(finding)
    skipped = list(reqs.skipped) + list(db.skipped)
    return VulnScan(findings=findings, skipped=skipped, scanned=len(reqs.pins), advisories_read=len(db.records))


def scan_requirements(
    requirements: Path,
    osv_dir: Path,
    *,
    repo: Path | None = None,
    today: date,
    deadline_days: dict[str, int] | None = None,
    dag_criticality: dict[str, int] | None = None,
    environment: dict[str, str] | None = None,
) -> VulnScan:
    """Scan a requirements file (and its includes) against a folder of OSV records.

    Includes are followed inside `repo`, or inside the requirements file's folder without one."""
    requirements = Path(requirements).resolve()
    root = Path(repo).resolve() if repo is not None else requirements.parent
    if not requirements.is_relative_to(root):
        raise ValueError(f"the requirements file {requirements} is not inside the repository {root}")
    reqs = parse_requirements(requirements, root, environment)
    db = load_osv_dir(osv_dir)
    return scan_pins(reqs, db, repo=repo, today=today, deadline_days=deadline_days, dag_criticality=dag_criticality)


__all__ = ["VulnSkip", "applying", "finding_for", "scan_pins", "scan_requirements"]
