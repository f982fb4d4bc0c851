"""Python tracebacks in text: find the last one in a stream, and parse it into a chain.

Python prints a chain cause-first: the exception that finally propagated is the last block,
its causes ("The above exception was the direct cause ...") and contexts ("During handling
...") come before it. `parse_chain` returns the chain outermost-first, so callers take [0].
An exception group (PEP 654) is printed as nested `| `-prefixed blocks: its leaves come first in
the chain (the first leaf drives triage: the group only says that several things failed).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from patchit_provider.engine.models import ErrorInfo, Frame

TB_START = "Traceback (most recent call last):"
GROUP_START = "Exception Group Traceback (most recent call last):"
CHAIN_MARKERS = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
MAX_TB_LINES = 2_000
MAX_MESSAGE_LINES = 30
KEEP_BLOCKS = 3

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
# "pkg.mod.SomeError: message" or a bare "KeyError" as the final line of a block.
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
# A line that starts a new log record: the exception message is over.
# "  +-+---------------- 1 ----------------", "    +---------------- ... ----------------", "  +------"
_GROUP_SEPARATOR = re.compile(r"^\s*\+[-+]*-{4,}(?: (?:\d+|\.\.\.) -+)?\s*$")
_GROUP_LINE = re.compile(r"^(?P<indent>\s*)[|+] ?(?P<text>.*)$")
_SUB_EXCEPTIONS = re.compile(r"\(\d+ sub-exceptions?\)\s*$")
_RECORD_START = re.compile(
    r"^(?:\[?\d{2,4}[-/:]\d\d|\{\"|\[\d{4}-|\d\d:\d\d:\d\d|[A-Z]+\s+-\s|INFO\b|WARNING\b|DEBUG\b)"
)


@dataclass
class ChainedError:
    """One exception of a chain; `relation` tells how it relates to the one printed after it."""

    type: str
    message: str
    frames: list[Frame] = field(default_factory=list)
    relation: str = ""  # "cause", "context" or "" for the outermost

    def to_error_info(self, traceback: str | None) -> ErrorInfo:
        return ErrorInfo(type=self.type, message=self.message, traceback=traceback, frames=self.frames)


class TracebackScanner:
    """Feed lines one by one; keeps the last KEEP_BLOCKS tracebacks (chained blocks joined),
    each bounded to MAX_TB_LINES (the end is kept: it names the outermost error).

    `origin` names where a line came from (an Airflow 2 logger location, a JSON record's
    logger); a line from another origin ends the traceback, so a log record printed right
    after it is not taken for part of the exception message.
    """

    def __init__(self) -> None:
        self.blocks: deque[tuple[int, list[str]]] = deque(maxlen=KEEP_BLOCKS)  # (start line, lines)
        self.count = 0
        self._block: deque[str] | None = None
        self._start = 0
        self._origin = ""
        self._state = "idle"  # idle | frames | message | between
        self._message_lines = 0
        self._group = False

    @property
    def active(self) -> bool:
        return self._block is not None

    def feed(self, line: str, number: int = 0, origin: str = "") -> bool:
        """Return True when the line starts a new (not chained) traceback."""
        start = line.find(TB_START)
        if start >= 0 and line[:start].endswith("Exception Group "):
            start -= len("Exception Group ")
        if start >= 0 and not line[:start].strip(" +|"):
            if self._group and self._block is not None and "|" in line[:start] and origin == self._origin:
                self._block.append(line)  # a member of the exception group being read
                return False
            if self._block is not None and self._state == "between" and origin == self._origin:
                self._block.append(line)
                self._state = "frames"
                return False
            self._finish()
            self._block = deque([line], maxlen=MAX_TB_LINES)
            self._start, self._origin, self._state = number, origin, "frames"
            self._group = GROUP_START in line
            self.count += 1
            return True
        if self._block is None:
            return False
        if origin != self._origin:
            self._finish()
            return False
        stripped = line.strip()
        if stripped in CHAIN_MARKERS:
            self._block.append(line)
            self._state = "between"
        elif self._state == "between":
            if stripped:
                self._finish()
            else:
                self._block.append(line)
        elif self._state == "frames":
            if not stripped or line[0] in " \t|+":
                self._block.append(line)
            elif self._group:  # a group's own exception line is indented: an unindented line ends it
                self._finish()
            elif _EXC_LINE.match(stripped) or ":" in stripped:
                self._block.append(line)
                self._state = "message"
                self._message_lines = 0
            else:
                self._finish()
        elif self._state == "message":
            if not stripped:
                self._block.append(line)
                self._state = "between"  # a chain marker may follow a blank line
            elif _RECORD_START.match(line) or self._message_lines >= MAX_MESSAGE_LINES:
                self._finish()
            else:
                self._block.append(line)
                self._message_lines += 1
        return False

    def close(self) -> list[tuple[int, list[str]]]:
        self._finish()
        return list(self.blocks)

    def _finish(self) -> None:
        if self._block is not None:
            lines = list(self._block)
            while lines and not lines[-1].strip():
                lines.pop()
            if self._state in ("message", "between") or len(lines) > 1:
                self.blocks.append((self._start, lines))
        self._block = None
        self._group = False
        self._state = "idle"


def parse_chain(text_or_lines: str | list[str]) -> list[ChainedError]:
    """Parse a traceback (possibly chained) into exceptions, outermost first."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    blocks: list[tuple[str, list[str]]] = []
    relation = ""
    current: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped in CHAIN_MARKERS:
            blocks.append((relation, current))
            relation = "cause" if stripped == CHAIN_MARKERS[0] else "context"
            current = []
        else:
            current.append(line)
    blocks.append((relation, current))
    chain: list[ChainedError] = []
    for index, (_, block) in enumerate(blocks):
        if any(GROUP_START in line for line in block[:3]):
            parsed = _parse_group(block)
        else:
            single = _parse_block(block)
            parsed = [single] if single is not None else []
        if not parsed:
            continue
        # The marker before block i+1 says how block i relates to it.
        parsed[-1].relation = blocks[index + 1][0] if index + 1 < len(blocks) else ""
        chain.extend(reversed(parsed))
    chain.reverse()
    return chain


def _parse_group(block: list[str]) -> list[ChainedError]:
    """A printed exception group -> its leaves in printed order (depth first), then the group.
    Each leaf carries the frames of the groups around it before its own (innermost last)."""
    segments: list[tuple[int, list[str]]] = []  # (depth, lines without the "| " prefix)
    current: list[str] = []
    depth = 0
    for line in block:
        if _GROUP_SEPARATOR.match(line):
            segments.append((depth, current))
            indent = len(line) - len(line.lstrip())
            depth = indent // 2 + (1 if line.lstrip().startswith("+-+") else 0)
            current = []
            continue
        match = _GROUP_LINE.match(line)
        current.append(match["text"] if match else line)
    segments.append((depth, current))
    leaves: list[ChainedError] = []
    outer_frames: dict[int, list[Frame]] = {}
    top: ChainedError | None = None
    for depth, lines in segments:
        lines = [GROUP_START.replace("Exception Group ", "") if GROUP_START in l else l for l in lines]
        if not any(l.strip() for l in lines):
            continue
        chain = parse_chain(lines)
        if not chain:
            continue
        error = chain[0]
        inherited = [f for d in sorted(outer_frames) if d < depth for f in outer_frames[d]]
        if _SUB_EXCEPTIONS.search(error.message.splitlines()[0] if error.message else ""):
            for d in [d for d in outer_frames if d >= depth]:
                del outer_frames[d]
            outer_frames[depth] = error.frames
            if top is None:
                top = error
            continue
        for member in chain:  # a leaf may itself be chained: its causes follow it
            member.frames = inherited + member.frames
            member.relation = member.relation or "member"
        leaves.extend(chain)
    return [*leaves, top] if top is not None else leaves


def _parse_block(block: list[str]) -> ChainedError | None:
    frames: list[Frame] = []
    exc_index = None
    last_frame_at = -1
    for i, line in enumerate(block):
        match = _FRAME.match(line)
        if match:
            frames.append(
                Frame(path=match["path"], line=int(match["line"]), function=(match["func"] or "").strip() or None)
            )
            last_frame_at = i
            continue
        if frames and i == last_frame_at + 1 and line.startswith("    ") and frames[-1].code is None:
            frames[-1].code = line.strip()
    # The exception line: the first non-indented line after the last frame (or block start).
    for i in range(last_frame_at + 1, len(block)):
        line = block[i]
        if line and not line[0].isspace() and not line.lstrip().startswith(TB_START):
            if _EXC_LINE.match(line.split(":", 1)[0] if ":" in line else line):
                exc_index = i
                break
    if exc_index is None:
        return None
    head = block[exc_index]
    type_name, _, message = head.partition(":")
    rest = [l for l in block[exc_index + 1 :] if l.strip()]
    message = "\n".join([message.strip(), *[l.rstrip() for l in rest]]).strip()
    return ChainedError(type=type_name.strip(), message=message, frames=frames)
