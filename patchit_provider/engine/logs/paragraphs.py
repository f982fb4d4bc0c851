"""Messages an engine wrapped over several lines, joined back into one.

Finders read one line at a time; a message that a client wraps to its terminal's width (the bq
CLI prints its errors through textwrap at 80 columns), pretty-prints, or continues on indented
lines only matches when its first line happens to carry the distinctive words. A paragraph is
the run of lines between blank lines or new log records, each line's log prefix removed and the
lines joined by single spaces.
"""

from __future__ import annotations

from patchit_provider.engine.logs import formats as fmt
from patchit_provider.engine.logs.pytb import _RECORD_START

MAX_LINES = 12  # a paragraph longer than this is output, not one message
MAX_CHARS = 2000


def paragraphs(text: str, count: int = 60) -> list[str]:
    """The multi-line paragraphs among the last `count` lines of `text`, latest first."""
    found: list[str] = []
    current: list[str] = []
    origin = None

    def close() -> None:
        if 2 <= len(current) <= MAX_LINES:
            found.append(" ".join(current)[:MAX_CHARS])
        current.clear()

    for raw in text.splitlines()[-count:]:
        payload, where = fmt.strip_prefix(raw)
        if not payload.strip():
            close()
            origin = None
            continue
        # a record of another logger, or a raw line that opens a record, starts a paragraph
        if current and (where != origin or (not where and _RECORD_START.match(raw))):
            close()
        current.append(payload.strip())
        origin = where
    close()
    return found[::-1]
