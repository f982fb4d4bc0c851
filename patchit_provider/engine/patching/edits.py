"""Search/replace edits applied to a repository, refusing anything ambiguous.

An edit names text, not line numbers, so it survives unrelated changes to the file; the price is
that its text must identify exactly one place. We accept an exact unique match, then a unique
match that differs only in indentation or trailing whitespace (what LLMs and copy-paste get wrong),
and nothing looser: a guessed location is worse than no patch.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import FileEdit


class EditError(InputError, ValueError):
    """An edit that cannot be applied unambiguously (or names a path outside the repository)."""


def path_problem(root: Path, rel: str) -> str | None:
    """Why `rel` is not a safe repository-relative file path, or None when it is.

    Shared with the policy: absolute paths, `..`, backslashes and symlinks anywhere on the way
    would let a patch write outside the repository or through a link.
    """
    if not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel or (len(rel) > 1 and rel[1] == ":"):
        return f"{rel!r} is not a repository-relative POSIX path"
    parts = PurePosixPath(rel).parts
    if any(part in ("..", ".") for part in parts) or rel != PurePosixPath(rel).as_posix():
        return f"{rel!r} is not a normalized path inside the repository"
    current = Path(root)
    for part in parts:
        current = current / part
        if current.is_symlink():
            return f"{rel!r} goes through a symlink"
    return None


def _read(root: Path, rel: str) -> str:
    problem = path_problem(root, rel)
    if problem:
        raise EditError(problem)
    path = Path(root) / rel
    if not path.is_file():
        raise EditError(f"{rel}: no such file in the repository")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"{rel}: not a UTF-8 text file") from exc


def occurrences(text: str, needle: str) -> list[int]:
    found: list[int] = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _tolerant_replace(text: str, edit: FileEdit) -> str:
    """Match whole lines ignoring indentation and trailing whitespace; re-indent the replacement."""
    lines = text.splitlines(keepends=True)
    wanted = [line.strip() for line in edit.search.strip("\n").splitlines()]
    if not any(wanted):
        raise EditError(f"{edit.path}: the search text is blank")
    size = len(wanted)
    starts = [i for i in range(len(lines) - size + 1) if [l.strip() for l in lines[i : i + size]] == wanted]
    if len(starts) != 1:
        where = "does not occur" if not starts else f"occurs {len(starts)} times"
        raise EditError(f"{edit.path}: the search text {where} (exactly one match is required)")
    start = starts[0]
    search_lines = edit.search.strip("\n").splitlines()
    found_indent, search_indent = _indent(lines[start]), _indent(search_lines[0])
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    replaced = []
    for line in edit.replace.strip("\n").splitlines() if edit.replace.strip("\n") else []:
        body = line[len(search_indent) :] if line.startswith(search_indent) else line.lstrip()
        replaced.append((found_indent + body if line.strip() else "") + newline)
    last = lines[start + size - 1]
    if replaced and not last.endswith(("\n", "\r")):
        replaced[-1] = replaced[-1].rstrip("\r\n")
    return "".join(lines[:start] + replaced + lines[start + size :])


def apply_edit(text: str, edit: FileEdit) -> str:
    """Apply one edit to `text`: exact unique match, else whitespace-tolerant unique match."""
    if not edit.search:
        raise EditError(f"{edit.path}: empty search text")
    exact = occurrences(text, edit.search)
    if len(exact) == 1:
        return text[: exact[0]] + edit.replace + text[exact[0] + len(edit.search) :]
    if len(exact) > 1:
        raise EditError(f"{edit.path}: the search text occurs {len(exact)} times (exactly one match is required)")
    return _tolerant_replace(text, edit)


def apply_edits(root: Path, edits: list[FileEdit]) -> dict[str, str]:
    """New contents of every edited file (repository-relative path -> text); nothing is written.

    Edits to the same file apply in order, each to the result of the previous one.
    """
    if not edits:
        raise EditError("no edits")
    contents: dict[str, str] = {}
    for edit in edits:
        if edit.path not in contents:
            contents[edit.path] = _read(root, edit.path)
        contents[edit.path] = apply_edit(contents[edit.path], edit)
    return contents
