"""A header-only peek at the input files an error names (CSV, JSON, Parquet): the first lines or
the column names show a renamed column, a changed delimiter or an HTML error page at once.

Never the whole file: at most PEEK_BYTES are read, at most PEEK_LINES kept, each line cut; the
caller redacts. A missing file (FileNotFoundError) is not peeked: there is nothing to show.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from patchit_provider.engine.models import ErrorInfo, Frame, InputPeek
from patchit_provider.engine.repo import map_path

PEEK_BYTES = 4_096
PEEK_LINES = 3
MAX_LINE_CHARS = 400
MAX_FILES = 3
_DATA_PATH = re.compile(
    r"""(?P<path>(?:[A-Za-z]:)?[\w./\\~-]*[\w-]\.(?:csv|tsv|jsonl|ndjson|json|parquet|pq|txt))\b""", re.I
)
_MISSING = re.compile(r"FileNotFoundError|No such file or directory")


def named_paths(error: ErrorInfo, mapped: list[Frame]) -> list[str]:
    """Data file paths in the message, then in the code of the innermost frames."""
    texts = [error.message[:4_000]] + [f.code for f in reversed(mapped) if f.code]
    texts += [f.code for f in reversed(error.frames) if f.code]
    found = [m["path"] for text in texts for m in _DATA_PATH.finditer(text or "")]
    return list(dict.fromkeys(found))


def peek_inputs(
    error: ErrorInfo | None, mapped: list[Frame], root: Path | None, notes: list[str], *, repo_only: bool = False
) -> list[InputPeek]:
    """Heads of the input files `error` names that exist locally (as written, or in the repo);
    `repo_only` (events from the ingest API): only files inside the repository."""
    if error is None or _MISSING.search(f"{error.type}: {error.message[:300]}"):
        return []
    peeks: list[InputPeek] = []
    for name in named_paths(error, mapped):
        path = _locate(name, root, repo_only)
        if path is None:
            continue
        peek = peek_file(path, notes)
        if peek is not None:
            shown = map_path(str(path), root) if root else None
            peeks.append(peek.model_copy(update={"path": shown or name}))
        if len(peeks) >= MAX_FILES:
            break
    return peeks


def _locate(name: str, root: Path | None, repo_only: bool = False) -> Path | None:
    candidates = [] if repo_only else [Path(name).expanduser()]
    if root is not None:
        relative = map_path(name, root)
        if relative:
            candidates.insert(0, root / relative)
        elif not Path(name).is_absolute():
            candidates.append(root / name)
    if repo_only:
        real_root = root.resolve() if root is not None else None
        candidates = [c for c in candidates if real_root is not None and real_root in c.resolve().parents]
    return next((c for c in candidates if _is_file(c)), None)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def peek_file(path: Path, notes: list[str]) -> InputPeek | None:
    """First bytes of `path` as header lines (and column names for CSV / JSON / Parquet)."""
    suffix = path.suffix.lower().lstrip(".")
    try:
        size = path.stat().st_size
        if suffix in ("parquet", "pq"):
            return _parquet(path, size, notes)
        with open(path, "rb") as handle:
            head = handle.read(PEEK_BYTES)
    except OSError as exc:
        notes.append(f"cannot peek at {path.name}: {exc.strerror or exc}")
        return None
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(head) == PEEK_BYTES and lines and not text.endswith("\n"):
        lines = lines[:-1] or [lines[0]]  # the last line was cut by the byte bound
    lines = [l[:MAX_LINE_CHARS] + (" ...[cut]" if len(l) > MAX_LINE_CHARS else "") for l in lines[:PEEK_LINES]]
    kind = {"tsv": "csv", "ndjson": "jsonl"}.get(suffix, suffix if suffix in ("csv", "json", "jsonl") else "text")
    columns: list[str] = []
    if kind == "csv" and lines:
        dialect = "excel-tab" if suffix == "tsv" or "\t" in lines[0] else "excel"
        columns = next(csv.reader(io.StringIO(lines[0]), dialect=dialect), [])[:200]
    elif kind in ("json", "jsonl") and lines:
        columns = re.findall(r'"([^"\\]{1,100})"\s*:', lines[0])[:200]
    return InputPeek(path=str(path), kind=kind, header=lines, columns=columns, size=size)


def _parquet(path: Path, size: int, notes: list[str]) -> InputPeek | None:
    """Column names from the Parquet footer (schema only, no row group read), when pyarrow is
    importable; else nothing (quietly: pyarrow is optional)."""
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # a corrupt footer is itself the clue
        return InputPeek(
            path=str(path),
            kind="parquet",
            header=[f"unreadable footer: {type(exc).__name__}: {str(exc)[:200]}"],
            size=size,
        )
    return InputPeek(
        path=str(path),
        kind="parquet",
        columns=[str(n) for n in schema.names[:200]],
        header=[f"{f.name}: {f.type}" for f in list(schema)[: PEEK_LINES * 10]],
        size=size,
    )
