"""Turn any log source into a stream of clean, length-capped text lines.

Logs come from files of any size, stdin, or strings already in memory; none of them is read
whole. Bytes are decoded with errors='replace' (binary garbage must not crash the reader), ANSI
escapes and control characters are removed, and an over-long line is cut at MAX_LINE_CHARS while
the rest of it is skipped in chunks, so even a 1 GB file without a newline stays bounded.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Union

# An Airflow 3 `error_detail` record is one JSON line of a few KB (up to ~50 frames a stack).
MAX_LINE_CHARS = 65_536
_CHUNK = 1 << 18

_ANSI_CTRL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]"
)
_QUOTE = re.compile(r"^(?:> ?)+")
_CTRL_BYTES = bytes(range(0, 9)) + bytes(range(11, 32)) + b"\x7f"  # all but \t and \n; includes ESC

LogSource = Union[str, "os.PathLike[str]", BinaryIO, bytes]


def clean_line(line: str) -> str:
    """Remove ANSI escapes, control characters and the line ending (tabs are kept)."""
    line = line.rstrip("\r\n")
    if "\x1b" in line or not line.isprintable():
        line = _ANSI_CTRL.sub("", line)
    return _unwrap(line)


_LIST_TB = ("['Traceback (most recent call last):", '["Traceback (most recent call last):')


def _unwrap(line: str) -> str:
    """Remove what a poster or a program wrapped around an output line: a quote marker ("> ...")
    or the repr of a list of lines (`print(proc.stdout.readlines())`: "['Traceback ...", "', '  File ...")."""
    first = line[:1]
    if first == ">":  # an output quoted in an e-mail or a Markdown comment ("> Traceback ...")
        return _QUOTE.sub("", line, count=1)
    if line in ("']", '"]'):  # the list's end
        return ""
    if first in "'\"" and line[1:3] == ", " and line[3:4] in "'\"":
        return line[4:].rstrip("]'\"")
    if "['T" in line or '["T' in line:
        for marker in _LIST_TB:
            if marker in line:
                return line[line.index(marker) + 2 :]
    return line


@dataclass
class LineStats:
    """What the reader had to cut, reported as notes rather than hidden."""

    lines: int = 0
    bytes: int = 0
    truncated_lines: int = 0


def _iter_binary(stream: BinaryIO | io.BufferedIOBase, stats: LineStats) -> Iterator[str]:
    """Read 256 KB chunks and split them (much faster than readline); an over-long line keeps its
    first MAX_LINE_CHARS bytes and the rest is dropped chunk by chunk until its newline."""
    pending = b""
    skipping = False
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        stats.bytes += len(chunk)
        if skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk, skipping = chunk[newline + 1 :], False
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
        else:
            pending = data[cut + 1 :]
            complete = data[:cut]
            lines = complete.decode("utf-8", errors="replace").split("\n")
            stats.lines += len(lines)
            if len(complete.translate(None, _CTRL_BYTES)) == len(complete):  # common: no control bytes
                for line in lines:
                    if len(line) > MAX_LINE_CHARS:
                        stats.truncated_lines += 1
                        line = line[:MAX_LINE_CHARS]
                    yield line if line[:1] not in ">'\"" and "['T" not in line and '["T' not in line else _unwrap(line)
            else:
                for line in lines:
                    yield _capped(line, stats, count=False)
        if len(pending) > MAX_LINE_CHARS:
            yield _capped(pending[:MAX_LINE_CHARS].decode("utf-8", errors="replace"), stats, cut_off=True)
            pending, skipping = b"", True
    if pending:
        yield _capped(pending.decode("utf-8", errors="replace"), stats)


def _capped(line: str, stats: LineStats, cut_off: bool = False, count: bool = True) -> str:
    stats.lines += count
    if cut_off or len(line) > MAX_LINE_CHARS:
        stats.truncated_lines += 1
        line = line[:MAX_LINE_CHARS]
    return clean_line(line)


def _iter_text(text: str, stats: LineStats) -> Iterator[str]:
    for line in io.StringIO(text):
        stats.bytes += len(line)
        yield _capped(line, stats)


def iter_lines(source: LogSource, stats: LineStats | None = None) -> Iterator[str]:
    """Yield clean lines of a path, a binary stream, bytes or a text string.

    A `str` is a path only if it names an existing file and holds no newline; otherwise it is
    log text. Pass a `Path` to be explicit.
    """
    stats = stats if stats is not None else LineStats()
    if isinstance(source, bytes):
        yield from _iter_binary(io.BytesIO(source), stats)
    elif isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and len(source) < 4096 and _is_file(source)
    ):
        with open(source, "rb") as handle:
            yield from _iter_binary(handle, stats)
    elif isinstance(source, str):
        yield from _iter_text(source, stats)
    elif isinstance(wrapped := getattr(source, "buffer", None), io.BufferedIOBase):
        yield from _iter_binary(wrapped, stats)  # sys.stdin and other text wrappers
    else:
        yield from _iter_binary(source, stats)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False
