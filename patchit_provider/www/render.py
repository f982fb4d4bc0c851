"""Template helpers. Everything here returns plain data or text; escaping is left to Jinja's
autoescape, so no helper ever builds HTML from untrusted strings (no `Markup`, no `|safe`)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from patchit_provider.engine.models import IncidentState

STATE_TONE = {
    IncidentState.RECEIVED.value: "run",
    IncidentState.TRIAGED.value: "run",
    IncidentState.PATCH_PROPOSED.value: "run",
    IncidentState.VALIDATED.value: "ok",
    IncidentState.PUBLISHED.value: "ok",
    IncidentState.ESCALATED.value: "warn",
    IncidentState.NO_PATCH.value: "muted",
    IncidentState.REJECTED.value: "bad",
    IncidentState.FAILED.value: "bad",
}


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, text) per line of a unified diff: the template colours, Jinja escapes."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---", "diff ", "index ")):
            kind = "d-file"
        elif line.startswith("@@"):
            kind = "d-hunk"
        elif line.startswith("+"):
            kind = "d-add"
        elif line.startswith("-"):
            kind = "d-del"
        else:
            kind = "d-ctx"
        out.append((kind, line))
    return out


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def value_of(item) -> str:
    return "" if item is None else str(getattr(item, "value", item))


def query(params: dict, **changes) -> str:
    """The current filters with some changed, as a query string (empty values dropped)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def bars(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """(label, count, percent of the largest) for CSS bar charts."""
    top = max(counts.values(), default=0)
    return [(label, n, (100.0 * n / top) if top else 0.0) for label, n in counts.items()]


def safe_link(url: str | None) -> str | None:
    """Only http(s) links become hrefs: a `javascript:` URL from a PR record stays text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


FILTERS = {
    "diff_lines": diff_lines,
    "duration": duration,
    "when": when,
    "value_of": value_of,
    "bars": bars,
    "safe_link": safe_link,
}
