"""Is a version affected by an OSV `affected` entry, and which version fixes a set of advisories.

PEP 440 through `packaging.version`, never string comparison. ECOSYSTEM ranges are evaluated as
the OSV specification describes: events sorted by version, `introduced` opens, `fixed` closes at
that version, `last_affected` closes after it, and with `limit` events the version must also be
below one of the limits; the `versions` list counts too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from patchit_provider.engine.errors import InputError

ZERO = Version("0")


class RangeError(InputError, ValueError):
    """An event version that PEP 440 cannot read."""


def _version(text: str) -> Version:
    if text == "0":
        return ZERO
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise RangeError(f"not a PEP 440 version: {text!r}") from exc


def check_entry(entry: dict[str, Any]) -> None:
    """RangeError when an ECOSYSTEM event or listed version is not PEP 440 (checked on load)."""
    for rng in entry.get("ranges") or []:
        if rng.get("type") == "ECOSYSTEM":
            for event in rng["events"]:
                for value in event.values():
                    _version(value)


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    order = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}
    parsed = sorted(
        ((_version(v), order[k], k) for e in events for k, v in e.items() if k in order),
        key=lambda item: (item[0], item[1]),
    )
    limits = [v for v, _, k in parsed if k == "limit"]
    if limits and not any(version < limit for limit in limits):
        return False
    affected = False
    for at, _, kind in parsed:
        if kind == "introduced" and version >= at:
            affected = True
        elif kind == "fixed" and version >= at or kind == "last_affected" and version > at:
            affected = False
    return affected


def entry_affects(version: Version, entry: dict[str, Any]) -> bool:
    """True when `version` is in one of the entry's ECOSYSTEM ranges or its `versions` list."""
    for listed in entry.get("versions") or []:
        try:
            if Version(listed) == version:
                return True
        except InvalidVersion:
            continue  # a listed non-PEP 440 version cannot equal a PEP 440 one
    return any(_in_range(version, rng["events"]) for rng in entry.get("ranges") or [] if rng.get("type") == "ECOSYSTEM")


def fixed_events(entries: Iterable[dict[str, Any]]) -> list[Version]:
    found = {
        _version(e["fixed"])
        for entry in entries
        for rng in entry.get("ranges") or []
        if rng.get("type") == "ECOSYSTEM"
        for e in rng["events"]
        if "fixed" in e
    }
    return sorted(found)


def smallest_fix(
    installed: Version, entries: list[dict[str, Any]], constraints: SpecifierSet
) -> tuple[Version | None, str]:
    """The smallest `fixed` version above `installed` that no entry affects and `constraints` allow,
    with a sentence saying why (or why there is none)."""
    candidates = [v for v in fixed_events(entries) if v > installed]
    if not candidates:
        return None, "no applying advisory names a fixed version above the installed one"
    refused: list[str] = []
    for candidate in candidates:
        if any(entry_affects(candidate, entry) for entry in entries):
            refused.append(f"{candidate} (still affected)")
            continue
        if str(constraints) and not constraints.contains(candidate, prereleases=True):
            refused.append(f"{candidate} (outside the project's constraint {constraints})")
            continue
        return candidate, "smallest fixed version affected by no applying advisory" + (
            f"; skipped {', '.join(refused)}" if refused else ""
        )
    return None, "every fixed version is refused: " + ", ".join(refused)
