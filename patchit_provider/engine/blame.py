"""Who changed the failing lines, and when: `git blame --porcelain` of the culprit line and a few
around it. A recent change of the very lines that fail is the single best clue to a cause.

Bounded: a few lines only, one git call under a timeout; never raises (None plus a note).
"""

from __future__ import annotations

from datetime import datetime, timezone

import git

from patchit_provider.engine.models import BlameLine

AROUND = 2
GIT_TIMEOUT = 5.0
MAX_OUTPUT_CHARS = 64_000


def blame_lines(repo: git.Repo, path: str, line: int, notes: list[str], around: int = AROUND) -> list[BlameLine]:
    """Blame of lines line-around .. line+around of `path` (repository-relative) at HEAD+work tree."""
    start = max(1, line - around)
    try:
        out = repo.git.blame(
            "--porcelain",
            "-w",
            "-L",
            f"{start},+{line + around - start + 1}",
            "--",
            path,
            kill_after_timeout=GIT_TIMEOUT,
        )
    except git.GitCommandError as exc:
        first = (str(exc).splitlines() or [""])[0]
        if "has only" in str(exc) and line > 1:  # the file is shorter than the window: blame what exists
            return blame_lines(repo, path, line, notes, around=0) if around else []
        notes.append(f"git blame of {path}:{line} failed: {first[:200]}")
        return []
    return parse_porcelain(out[:MAX_OUTPUT_CHARS])


def parse_porcelain(text: str) -> list[BlameLine]:
    """`git blame --porcelain` output -> one BlameLine per line. A commit's headers (author,
    time, summary) are printed only at its first line; later lines repeat just the sha."""
    commits: dict[str, dict[str, str]] = {}
    lines: list[BlameLine] = []
    current: dict[str, str] | None = None
    sha, final = "", 0
    for raw in text.splitlines():
        if raw.startswith("\t"):
            if current is not None:
                lines.append(_line(sha, final, current, raw[1:]))
            current = None
            continue
        parts = raw.split(" ")
        if current is None and len(parts) >= 3 and len(parts[0]) == 40 and parts[1].isdigit():
            sha, final = parts[0], int(parts[2])
            current = commits.setdefault(sha, {})
        elif current is not None:
            key, _, value = raw.partition(" ")
            current.setdefault(key, value)
    return lines


def _line(sha: str, number: int, info: dict[str, str], code: str) -> BlameLine:
    date = ""
    if info.get("author-time", "").isdigit():
        date = datetime.fromtimestamp(int(info["author-time"]), tz=timezone.utc).isoformat()
    uncommitted = sha == "0" * 40
    return BlameLine(
        line=number,
        commit=sha[:12],
        author="(not committed yet)" if uncommitted else info.get("author", "")[:120],
        date=date,
        summary="" if uncommitted else info.get("summary", "")[:200],
        code=code[:300],
    )
