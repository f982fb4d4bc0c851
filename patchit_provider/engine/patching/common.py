"""What every deterministic fixer shares: the Fix it returns, where the culprit is, line edits.

Kept apart from the fixer registry (fixers.py) so that fixers in other modules can use these
without importing the registry that imports them.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from patchit_provider.engine.models import Evidence, FileEdit, Triage
from patchit_provider.engine.patching.edits import occurrences, path_problem


@dataclass(frozen=True)
class Fix:
    name: str
    edits: list[FileEdit]
    rationale: str


Fixer = Callable[[Evidence, Triage, Path], "Fix | None"]


def final_error_line(evidence: Evidence) -> str | None:
    """The last `Type: message` line of the traceback for the event's own exception type.

    The hint lives only in the formatted traceback; taking the last line of the right type
    skips chained exceptions printed before it.
    """
    error = evidence.error
    if error is None or not error.traceback:
        return None
    short = error.type.rsplit(".", 1)[-1]
    pattern = re.compile(rf"^(?:[\w.]+\.)?{re.escape(short)}: (.*)$", re.M)
    found = pattern.findall(error.traceback)
    return f"{short}: {found[-1].strip()}" if found else None


NAME_ERROR = re.compile(r"name '([A-Za-z_]\w*)' is not defined")


def undefined_name(evidence: Evidence) -> str | None:
    """The name of CPython's `NameError: name 'x' is not defined`, when that is the failure."""
    line = final_error_line(evidence)
    found = NAME_ERROR.search(line) if line and line.startswith("NameError:") else None
    return found.group(1) if found else None


def culprit_location(evidence: Evidence, triage: Triage) -> tuple[str, int] | None:
    """Triage's culprit, else the innermost in-repository frame that has a line number."""
    if triage.culprit and triage.culprit.line:
        return triage.culprit.path, triage.culprit.line
    for frame in reversed(evidence.mapped_frames):
        if frame.line:
            return frame.path, frame.line
    return None


def read_text(repo_root: Path, rel: str, suffixes: tuple[str, ...] = (".py",)) -> str | None:
    """The UTF-8 text of a safe repository file with one of `suffixes`, else None."""
    path = repo_root / rel
    if path_problem(repo_root, rel) or not path.is_file() or path.suffix not in suffixes:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def line_edit(rel: str, text: str, lineno: int, new_line: str) -> FileEdit:
    """Replace line `lineno` (1-based) by `new_line`, as a search/replace edit.

    The search text grows by neighbouring lines until it occurs once in the file, so the edit
    stays valid without line numbers.
    """
    lines = text.splitlines(keepends=True)
    index = lineno - 1
    for radius in range(len(lines)):
        start, end = max(0, index - radius), min(len(lines), index + radius + 1)
        search = "".join(lines[start:end])
        if len(occurrences(text, search)) == 1:
            replace = "".join(lines[start:index]) + new_line + "".join(lines[index + 1 : end])
            return FileEdit(path=rel, search=search, replace=replace)
    raise ValueError("the file has no unique window around the line")  # unreachable: the whole file is unique


def region_edit(rel: str, old: str, new: str) -> FileEdit:
    """The edit turning `old` into `new`: the changed lines, grown by neighbours until unique.

    Unchanged leading and trailing lines are left out, so the diff is as small as the change.
    """
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    start, end_a, end_b = head, len(a) - tail, len(b) - tail
    while True:
        search = "".join(a[start:end_a])
        if search and len(occurrences(old, search)) == 1:
            return FileEdit(path=rel, search=search, replace="".join(b[start:end_b]))
        if start == 0 and end_a == len(a):
            raise ValueError("the file has no unique window around the change")
        start, end_a, end_b = max(0, start - 1), min(len(a), end_a + 1), end_b + (end_a < len(a))


def recorded_replacement(triage: Triage) -> tuple[str, str, str | None] | None:
    """(missing, candidate, dbt model path) that triage recorded as the unique close replacement.

    Only triage decides what is close and unique (triage/replacement.py); fixers read its record
    rather than re-deciding, so a patch can never name a replacement the RCA did not.
    """
    for line in triage.evidence_lines:
        found = _REPLACEMENT.match(line)
        if found:
            return found.group(1), found.group(2), found.group(3)
    return None


_REPLACEMENT = re.compile(r"^replacement: (\S+) -> (\S+)(?: \((.+)\))?$")


def hunk_edits(rel: str, old: str, new: str) -> list[FileEdit]:
    """The edits turning `old` into `new`, one per changed hunk (top to bottom), each grown by
    neighbouring lines until unique in the text it applies to.

    A migration may touch an import at the top and a call far below; one region edit would
    carry every line in between, these carry only what changed.
    """
    import difflib

    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    current = list(a)
    delta = 0
    edits: list[FileEdit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start, end = i1 + delta, i2 + delta
        text = "".join(current)
        lo, hi = start, end
        while True:
            search = "".join(current[lo:hi])
            if search and len(occurrences(text, search)) == 1:
                break
            if lo == 0 and hi == len(current):
                raise ValueError("the file has no unique window around the change")
            lo, hi = max(0, lo - 1), min(len(current), hi + 1)
        replacement = b[j1:j2]
        edits.append(
            FileEdit(path=rel, search=search, replace="".join(current[lo:start] + replacement + current[end:hi]))
        )
        current[start:end] = replacement
        delta += (j2 - j1) - (i2 - i1)
    return edits


def name_tokens(text: str, lineno: int, name: str, attribute: bool) -> list[tokenize.TokenInfo]:
    """NAME tokens `name` on line `lineno` that are loads: attributes (`.name`) or bare names.

    Tokens rather than a regex so that strings and comments are never rewritten; a name followed
    by `=` is an assignment target or keyword, not the failing lookup.
    """
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.COMMENT)
        ]
    except (tokenize.TokenError, SyntaxError):
        return []
    hits = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string != name or tok.start[0] != lineno:
            continue
        after_dot = i > 0 and tokens[i - 1].string == "."
        assigned = i + 1 < len(tokens) and tokens[i + 1].string == "="
        if after_dot == attribute and not assigned:
            hits.append(tok)
    return hits
