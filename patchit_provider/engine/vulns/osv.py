"""OSV records from a folder (one JSON file per advisory), validated against the OSV schema.

The schema is the OSV project's own `validation/schema.json`, shipped in `data/` (source and
license noted there) and checked with `jsonschema`. A record that does not validate is refused
whole, with the reason; a withdrawn record is ignored; an `affected` entry of another ecosystem
is skipped with the reason (a record of an ecosystem newer than the shipped schema is not
refused for that alone: only its entries of that ecosystem are skipped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from packaging.utils import canonicalize_name

from patchit_provider.engine.models import Advisory, VulnSkip
from patchit_provider.engine.vulns.severity import VectorError, score_vector
from patchit_provider.engine.vulns.versions import RangeError, check_entry, fixed_events

MAX_RECORD_BYTES = 4 << 20
MAX_RECORDS = 200_000
PYPI = "PyPI"


@lru_cache(maxsize=1)
def schema_validator() -> Draft202012Validator:
    text = resources.files("patchit_provider.engine.vulns").joinpath("data/osv-schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    # `format` stays an annotation (Draft 2020-12's default): whether jsonschema asserts "uri" or
    # "date-time" depends on optional packages, and a record must be judged the same everywhere;
    # the schema's own patterns check the timestamps.
    return Draft202012Validator(schema)


@dataclass
class Record:
    """A validated OSV record and its PyPI entries, by normalized package name."""

    advisory_by_package: dict[str, Advisory]
    entries: dict[str, list[dict[str, Any]]]
    raw: dict[str, Any]


@dataclass
class OsvDatabase:
    records: list[Record] = field(default_factory=list)
    skipped: list[VulnSkip] = field(default_factory=list)
    by_package: dict[str, list[Record]] = field(default_factory=dict)
    by_id: dict[str, Record] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        self.records.append(record)
        for name in record.entries:
            self.by_package.setdefault(name, []).append(record)
        for ident in [record.raw["id"], *(record.raw.get("aliases") or [])]:
            self.by_id.setdefault(ident.upper(), record)


def _path(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(record)"


def _ecosystem_error(error: Any) -> bool:
    """An `affected[i].package.ecosystem` the shipped schema does not list."""
    parts = list(error.absolute_path)
    return (
        len(parts) == 4
        and parts[0] == "affected"
        and parts[2:] == ["package", "ecosystem"]
        and error.validator == "pattern"
    )


def _severity(items: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    v3 = v4 = None
    for item in items or []:
        if item["type"] == "CVSS_V3":
            score = score_vector(item["score"])
            v3 = score if v3 is None or score.base_score > v3.base_score else v3
        elif item["type"] == "CVSS_V4":
            score = score_vector(item["score"])
            v4 = score if v4 is None or score.base_score > v4.base_score else v4
    return v3, v4


def parse_record(raw: Any, source: str) -> tuple[Record | None, list[VulnSkip]]:
    """(record, skips) for one decoded JSON document; a refused or withdrawn record gives None."""
    if not isinstance(raw, dict):
        return None, [VulnSkip(item=source, reason="not a JSON object", kind="refused")]
    errors = sorted(schema_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    unknown_ecosystem = {e.absolute_path[1] for e in errors if _ecosystem_error(e)}
    real = [e for e in errors if not _ecosystem_error(e)]
    ident = raw.get("id") if isinstance(raw.get("id"), str) else source
    if real:
        reasons = "; ".join(f"{_path(e)}: {e.message[:200]}" for e in real[:5])
        return None, [
            VulnSkip(
                item=f"{source} ({ident})",
                reason=f"does not validate against the OSV schema: {reasons}",
                kind="refused",
            )
        ]
    if raw.get("withdrawn"):
        return None, [
            VulnSkip(item=f"{source} ({ident})", reason=f"withdrawn on {raw['withdrawn']}: ignored", kind="record")
        ]
    skips: list[VulnSkip] = []
    try:
        top_v3, top_v4 = _severity(raw.get("severity"))
    except VectorError as exc:
        return None, [VulnSkip(item=f"{source} ({ident})", reason=str(exc), kind="refused")]
    entries: dict[str, list[dict[str, Any]]] = {}
    for index, entry in enumerate(raw.get("affected") or []):
        package = entry.get("package") or {}
        ecosystem = package.get("ecosystem", "")
        label = f"{source} ({ident}) affected[{index}] {ecosystem}:{package.get('name', '?')}"
        if index in unknown_ecosystem:
            skips.append(
                VulnSkip(
                    item=label,
                    reason=f"unknown ecosystem {ecosystem!r} (not in the OSV schema): skipped",
                    kind="record",
                )
            )
            continue
        if ecosystem.split(":", 1)[0] != PYPI:
            skips.append(VulnSkip(item=label, reason=f"ecosystem {ecosystem} is not PyPI: skipped", kind="record"))
            continue
        if not entry.get("versions") and not any(r.get("type") == "ECOSYSTEM" for r in entry.get("ranges") or []):
            skips.append(
                VulnSkip(
                    item=label,
                    reason="no ECOSYSTEM range and no versions list: no PyPI version can be matched",
                    kind="record",
                )
            )
            continue
        try:
            check_entry(entry)
        except RangeError as exc:
            return None, [VulnSkip(item=label, reason=f"range cannot be evaluated: {exc}", kind="refused")]
        entries.setdefault(canonicalize_name(package["name"]), []).append(entry)
    if not entries:
        skips.append(
            VulnSkip(
                item=f"{source} ({ident})", reason="no PyPI package in `affected`: nothing to match", kind="record"
            )
        )
        return None, skips
    advisories: dict[str, Advisory] = {}
    for name, group in entries.items():
        try:
            v3, v4 = top_v3, top_v4
            for entry in group:
                e3, e4 = _severity(entry.get("severity"))
                v3, v4 = v3 or e3, v4 or e4
        except VectorError as exc:
            return None, [VulnSkip(item=f"{source} ({ident})", reason=str(exc), kind="refused")]
        database = raw.get("database_specific") or {}
        advisories[name] = Advisory(
            id=raw["id"],
            aliases=list(raw.get("aliases") or []),
            package=name,
            summary=raw.get("summary", "")[:500],
            cvss_v3=v3,
            cvss_v4=v4,
            database_severity=database.get("severity") if isinstance(database.get("severity"), str) else None,
            fixed=[str(v) for v in fixed_events(group)],
            references=[r["url"] for r in raw.get("references") or []][:20],
            source=source,
        )
    return Record(advisory_by_package=advisories, entries=entries, raw=raw), skips


def load_osv_dir(folder: Path) -> OsvDatabase:
    """Every `*.json` under `folder` (recursively, sorted), each validated on its own."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"OSV folder not found: {folder}")
    db = OsvDatabase()
    for count, path in enumerate(sorted(folder.rglob("*.json"))):
        rel = path.relative_to(folder).as_posix()
        if count >= MAX_RECORDS:
            db.skipped.append(
                VulnSkip(item=rel, reason=f"more than {MAX_RECORDS} records: the rest are not read", kind="refused")
            )
            break
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise ValueError(f"larger than {MAX_RECORD_BYTES >> 20} MiB")
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            db.skipped.append(VulnSkip(item=rel, reason=f"unreadable: {exc}", kind="refused"))
            continue
        record, skips = parse_record(raw, rel)
        db.skipped.extend(skips)
        if record is not None:
            db.add(record)
    return db
