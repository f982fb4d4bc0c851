"""Template helpers. Everything here returns plain data or text; escaping is left to Jinja's
autoescape, so no helper builds HTML from untrusted strings (no `Markup`, no `|safe`), with one
exception: `markdown`, the RCA as HTML, built by markdown-it (raw HTML off, images off) and then
cleaned by nh3 (Ammonia) with an allow-list of tags, no attributes but links' absolute
http(s)/mailto `href`, and `rel="noopener noreferrer nofollow"` on every link."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from patchit_provider.engine.models import Evidence, Frame, IncidentState
from patchit_provider.engine.repo import is_foreign

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


# -- the RCA: Markdown (untrusted: templates fed with log text, or a model's answer) -> safe HTML --

_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable(["table", "strikethrough"])
    .disable(["image"])  # no image is ever fetched from wherever a text points
)
RCA_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol li strong em code pre blockquote a table thead tbody tr th td hr br del s".split()
)
RCA_LINK_REL = "noopener noreferrer nofollow"
RCA_URL_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_MARKDOWN_CHARS = 400_000


def _omit_sections(tokens: list, titles: frozenset[str]) -> list:
    """The tokens without the sections (a heading and what follows it, up to the next heading of
    the same or a higher level) whose heading text is one of `titles`."""
    kept, skip_level = [], 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            if skip_level and level <= skip_level:
                skip_level = 0
            if not skip_level and tokens[i + 1].content.strip() in titles:
                skip_level = level
        if not skip_level:
            kept.append(token)
    return kept


def markdown(text: str | None, omit: tuple[str, ...] = (), heading_offset: int = 2) -> Markup:
    """Markdown as sanitized HTML. Headings move down `heading_offset` levels (the RCA's `#`
    sits under the page's `h2`); sections titled in `omit` are left out."""
    if not text:
        return Markup("")
    tokens = _MARKDOWN.parse(text[:MAX_MARKDOWN_CHARS])
    if omit:
        tokens = _omit_sections(tokens, frozenset(omit))
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + heading_offset)}"
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    clean = nh3.clean(
        html,
        tags=set(RCA_TAGS),
        attributes={"*": set(), "a": {"href"}},  # "*": not even Ammonia's default title / lang
        url_schemes=set(RCA_URL_SCHEMES),
        url_relative="deny",  # an RCA links out, absolutely, or not at all
        link_rel=RCA_LINK_REL,
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - built by markdown-it without raw HTML, cleaned by nh3 just above


# -- one traceback: the repository's frames shown, library and Airflow frames folded ---------------

_FRAME_LINE = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+')


def _own_frame(path: str, mapped: list[Frame]) -> bool:
    """A frame in a file of the failing repository (one the evidence mapped into it); without a
    repository to map to, any frame outside installed packages and the standard library."""
    norm = path.replace("\\", "/")
    if mapped:
        return any(norm == f.path or norm.endswith("/" + f.path) for f in mapped)
    return not is_foreign(norm)


def traceback_blocks(traceback: str | None, evidence: Evidence | None = None) -> list[dict]:
    """The traceback as blocks for the template: {"kind": "text" | "own" | "lib", "lines": [...]}.
    A frame is its `File ...` line and the source/caret lines under it; consecutive frames of
    one kind form one block (the "lib" ones are folded on the page)."""
    if not traceback:
        return []
    mapped = list(evidence.mapped_frames) if evidence else []
    blocks: list[dict] = []
    kind = None
    for raw in traceback.splitlines():
        match = _FRAME_LINE.match(raw)
        if match:
            kind = "own" if _own_frame(match["path"], mapped) else "lib"
            if not blocks or blocks[-1]["kind"] != kind:
                blocks.append({"kind": kind, "lines": [], "frames": 0})
            blocks[-1]["frames"] += 1
        elif kind is None or not raw.startswith("    "):  # not a frame's source line: the text between
            kind = None
            if not blocks or blocks[-1]["kind"] != "text":
                blocks.append({"kind": "text", "lines": [], "frames": 0})
        blocks[-1]["lines"].append(raw)
    return blocks


def without_traceback(excerpt: str | None, traceback: str | None) -> list[str]:
    """The log excerpt's lines with the traceback's own lines left out (it is shown once, above):
    each run of left-out lines becomes one marker line, None."""
    if not excerpt:
        return []
    shown = {line.strip() for line in (traceback or "").splitlines() if line.strip()}
    out: list = []
    for line in excerpt.splitlines():
        if line.strip() in shown or (not line.strip() and out and out[-1] is None):
            if not out or out[-1] is not None:
                out.append(None)
        else:
            out.append(line)
    return out


# A check's status -> (mark, tone, word): a check that could not run (a replay that was not
# possible) has its own word and colour, never the passed tick.
CHECK_MARK = {"passed": ("✓", "ok", "passed"), "failed": ("✗", "bad", "failed"), "not_run": ("–", "warn", "not run")}


def check_mark(check: Any) -> tuple[str, str, str]:
    """(mark, tone, word) of a CheckResult (records without a status: from `passed`)."""
    status = getattr(check, "status", None) or ("passed" if getattr(check, "passed", False) else "failed")
    return CHECK_MARK.get(status, CHECK_MARK["failed"])


FILTERS = {
    "check_mark": check_mark,
    "markdown": markdown,
    "traceback_blocks": traceback_blocks,
    "without_traceback": without_traceback,
    "diff_lines": diff_lines,
    "duration": duration,
    "when": when,
    "value_of": value_of,
    "bars": bars,
    "safe_link": safe_link,
}
