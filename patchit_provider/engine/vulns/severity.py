"""Severity computed from CVSS vectors with the `cvss` library, and the deadlines that follow.

The band is FIRST's qualitative scale (the same for v3.x and v4.0); a record's own label
(`database_specific.severity`) is used only when no applying advisory has a vector.
"""

from __future__ import annotations

from datetime import date, timedelta

from cvss import CVSS3, CVSS4, CVSSError

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import Advisory, CvssScore

DATABASE_LABELS = {"LOW": "low", "MODERATE": "medium", "MEDIUM": "medium", "HIGH": "high", "CRITICAL": "critical"}
RANK = {"unknown": 0, "none": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
DEFAULT_DEADLINE_DAYS = {"critical": 15, "high": 30, "medium": 90, "low": 180}


class VectorError(InputError, ValueError):
    """A vector the CVSS specification does not allow."""


def score_vector(vector: str) -> CvssScore:
    """The base score of a CVSS v3.0/v3.1/v4.0 vector; VectorError when it is not valid."""
    try:
        if vector.startswith("CVSS:4.0/"):
            return CvssScore(version="4.0", vector=vector, base_score=float(CVSS4(vector).base_score))
        if vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            return CvssScore(version=vector[5:8], vector=vector, base_score=float(CVSS3(vector).base_score))
    except CVSSError as exc:
        raise VectorError(f"invalid CVSS vector {vector!r}: {exc}") from exc
    raise VectorError(f"not a CVSS v3 or v4 vector: {vector!r}")


def band(score: float) -> str:
    """CVSS qualitative severity rating scale."""
    if score == 0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def advisory_score(advisory: Advisory) -> CvssScore | None:
    """v4.0 when the record has one, else v3.x (the contract's rule)."""
    return advisory.cvss_v4 or advisory.cvss_v3


def overall(advisories: list[Advisory]) -> tuple[CvssScore | None, str, str]:
    """(highest score, severity band, source) over the applying advisories."""
    scored = [s for s in map(advisory_score, advisories) if s is not None]
    if scored:
        best = max(scored, key=lambda s: s.base_score)
        return best, band(best.base_score), "cvss_v4" if best.version == "4.0" else "cvss_v3"
    labels = [
        DATABASE_LABELS[a.database_severity.upper()]
        for a in advisories
        if a.database_severity and a.database_severity.upper() in DATABASE_LABELS
    ]
    if labels:
        return None, max(labels, key=RANK.__getitem__), "database"
    return None, "unknown", "none"


def deadline(severity: str, today: date, days: dict[str, int] | None = None) -> date:
    """`today` plus the days allowed for the band: low, none and unknown share the low allowance."""
    table = DEFAULT_DEADLINE_DAYS | (days or {})
    key = severity if severity in ("critical", "high", "medium") else "low"
    return today + timedelta(days=table[key])
