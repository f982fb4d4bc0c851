"""What a catalog entry says about a failure: a category, how sure, and where that comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeVar

from patchit_provider.engine.taxonomy import Category, Remediation


AF3 = "airflow3_removal"  # Verdict.kind of an API that Airflow 3 removed


@dataclass(frozen=True)
class Verdict:
    """One catalog entry's answer. `source` is the URL or installed file the entry comes from;
    `remediation` overrides the category's default only where the catalog says more."""

    category: Category
    confidence: float
    source: str
    why: str
    remediation: Remediation | None = None
    kind: str = ""  # AF3: a removed Airflow API; called from an installed package it is that package's incompatibility

    def weaker(self, by: float) -> "Verdict":
        return Verdict(
            self.category, round(max(0.05, self.confidence - by), 2), self.source, self.why, self.remediation, self.kind
        )


# A class that only reports that something else failed (AirflowException, DatabaseError, ...):
# no verdict of its own; the cause, a code in its message or the log decides.
WRAPPER = None


@dataclass(frozen=True)
class TextRule:
    """An engine message (regex, case-insensitive, dot matches newlines) -> its verdict."""

    pattern: str
    verdict: Verdict
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.I | re.S))


def text_rule(
    pattern: str,
    category: Category,
    confidence: float,
    source: str,
    why: str,
    remediation: Remediation | None = None,
    kind: str = "",
) -> TextRule:
    """One text rule; the family modules write their lists with it."""
    return TextRule(pattern, Verdict(category, confidence, source, why, remediation, kind))


def class_family(names: str, category: Category, confidence: float, source: str, why: str) -> dict[str, Verdict | None]:
    """One verdict for several exception classes (space-separated names) of a library."""
    return {name: Verdict(category, confidence, source, why) for name in names.split()}


V = TypeVar("V", Verdict, Verdict | None)


def each(names: str, verdict: V) -> dict[str, V]:
    """One verdict for each of several names (space-separated): an engine's codes or classes."""
    return dict.fromkeys(names.split(), verdict)


def wrappers(names: str) -> dict[str, Verdict | None]:
    """Classes that only report that something else failed (see WRAPPER)."""
    return each(names, WRAPPER)
