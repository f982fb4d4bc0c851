"""The text of each patched file before and after the patch, rebuilt from the diff itself.

Rules that read *what* a patch adds compare the whole file before and after (an AST, a SQL tree,
a list of shell commands), so a change is judged in its context and a rename inside an existing
call is not mistaken for a new call. The "after" text comes from the diff that validation will
apply, not from the producer's edits, so the policy judges exactly what would run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from unidiff import PatchedFile

MAX_READ_BYTES = 2_000_000


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str | None  # None: the file could not be read (binary, too large, unreadable)
    after: str | None  # None: the hunks do not apply to `before` (then `git apply` fails too)
    added: list[str]
    removed: list[str]
    patched: PatchedFile


def _read(root: Path, rel: str) -> str | None:
    path = root / rel
    if not path.is_file():
        return ""
    try:
        if path.stat().st_size > MAX_READ_BYTES:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _apply(before: str, patched: PatchedFile) -> str | None:
    lines = before.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    for hunk in patched:
        start = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
        if start < cursor or start > len(lines):
            return None
        out.extend(lines[cursor:start])
        cursor = start
        for line in hunk:
            if line.is_context or line.is_removed:
                if cursor >= len(lines) or lines[cursor].rstrip("\r\n") != line.value.rstrip("\r\n"):
                    return None
                if line.is_context:
                    out.append(lines[cursor])
                cursor += 1
            elif line.is_added:
                out.append(line.value)
    out.extend(lines[cursor:])
    return "".join(out)


def file_change(root: Path, patched: PatchedFile) -> FileChange:
    path = patched.path
    before = "" if patched.is_added_file else _read(root, path)
    after = _apply(before, patched) if before is not None else None
    added = [line.value for hunk in patched for line in hunk if line.is_added]
    removed = [line.value for hunk in patched for line in hunk if line.is_removed]
    return FileChange(path=path, before=before, after=after, added=added, removed=removed, patched=patched)


def check_command_paths(check_command: str | None, root: Path) -> set[str]:
    """Repository files and folders the configured check command names (`bash scripts/check.sh`,
    `python run.py data/in.csv`, `pytest tests/x`): a patch that edits them edits the judge."""
    if not check_command:
        return set()
    try:
        tokens = shlex.split(check_command, comments=True)
    except ValueError:
        tokens = check_command.split()
    root = Path(root).resolve()
    named: set[str] = set()
    for token in tokens:
        token = token.split("=", 1)[1] if token.startswith("-") and "=" in token else token
        if not token or token.startswith("-") or "\x00" in token:
            continue
        candidate = Path(token) if Path(token).is_absolute() else root / token
        try:
            resolved = candidate.resolve()
            rel = resolved.relative_to(root)
        except (OSError, ValueError):
            continue
        if str(rel) != "." and resolved.exists():
            named.add(PurePosixPath(*rel.parts).as_posix())
    return named


def runs_pytest(check_command: str | None) -> bool:
    if not check_command:
        return False
    return any(word in check_command for word in ("pytest", "py.test", "tox", "nox"))
