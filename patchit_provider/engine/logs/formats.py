"""Per-format knowledge: line prefixes, Airflow 3 records, dbt and JVM (Spark) error blocks.

Each helper works on one line at a time so the reader stays a single streaming pass; only
lines that can matter (errors, tracebacks) are parsed further.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any, Callable

from patchit_provider.engine.models import ErrorInfo, Frame

AIRFLOW3 = "airflow3_json"
AIRFLOW2 = "airflow2_text"
DBT = "dbt"
SPARK = "spark_driver"
PYTHON = "python_traceback"
TEXT = "text"

MAX_BLOCK_LINES = 400

_AIRFLOW2_PREFIX = re.compile(r"^\[\d{4}-\d\d-\d\d[T ][^\]]{4,40}\] \{[^}\s]{1,120}\} [A-Z]+ - ")
_DBT_PREFIX = re.compile(r"^(?:\d\d:\d\d:\d\d\.\d+ \[[a-z ]{4,6}\] \[[^\]]*\]: |\d\d:\d\d:\d\d  )")
_SPARK_LINE = re.compile(
    r"^(?:\d\d/\d\d/\d\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d{3}) (?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) "
)
_DBT_MARK = re.compile(
    r"Running with dbt=|^\d\d:\d\d:\d\d(?:\.\d+)? \[[a-z ]{4,6}\] \[|\bdbt(?:-core)?=\d|Finished running \d+ "
)
_SPARK_MARK = re.compile(r"org\.apache\.spark|SparkContext|pyspark|py4j")

# dbt's error kinds as its console heads them (dbt_common.exceptions: DbtRuntimeError.type + " Error")
DBT_ERROR_KINDS = r"(?:Database|Compilation|Runtime|Parsing|Dependency|Internal|Validation|Env var) Error"
DBT_ERROR = re.compile(
    rf"^\s*(?P<kind>{DBT_ERROR_KINDS}|Failure)"
    r"(?: in (?:(?P<resource>\w+) )?(?P<name>[\w.]+|\[[^\]\n]+\]) \((?P<path>[^)]+)\))?\s*$"
)
JAVA_EXC = re.compile(
    r'^(?:Exception in thread "[^"]*" |Caused by: )?(?P<type>(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Failure))'
    r"(?::\s?(?P<msg>.*))?$"
)


def sniff(line: str) -> str | None:
    """A format that this line proves (only the first lines of a log are sniffed)."""
    if line.startswith("{") and '"event"' in line and '"timestamp"' in line:
        return AIRFLOW3
    if _AIRFLOW2_PREFIX.match(line):
        return AIRFLOW2
    if _DBT_MARK.search(line):
        return DBT
    if _SPARK_LINE.match(line) or _SPARK_MARK.search(line):
        return SPARK
    return None


# The file that defines the pipeline, as Airflow logs it before running a task: the culprit when
# no frame points into the repository (a template rendered by Airflow's own code).
_PIPELINE_FILE = re.compile(r'Filling up the DagBag from ([^"\s]+)|"dag_file": ?"([^"]+)"|\bdag_file=(\S+)')


def pipeline_file(line: str) -> str | None:
    """The DAG file an Airflow 2/3 line names ("Filling up the DagBag from ...", `dag_file`)."""
    match = _PIPELINE_FILE.search(line)
    return next((g for g in match.groups() if g), None) if match else None


# Wrappers around a process's own lines: docker compose ("airflow-worker-1  | "), the container
# runtime's CRI log format ("2024-01-01T10:00:00.123Z stderr F "), Airflow 3's task log view
# ("[2025-05-01, 10:00:00 UTC] ERROR - ").
_COMPOSE = re.compile(r"^[A-Za-z][\w.-]{0,60}?\s+\| ")
_CRI = re.compile(
    r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d) (?:(?:stdout|stderr) [FP] )?"
)  # also GitHub Actions' timestamps
_LEVEL_ONLY = re.compile(r"^\[\d{4}-\d\d-\d\d[T ,][^\]]{4,40}\] (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) - ")


def strip_prefix(line: str) -> tuple[str, str]:
    """(payload, origin): an Airflow 2 or dbt line prefix removed so a traceback line shows;
    origin is the logger location of an Airflow 2 line ("{subprocess.py:93} INFO"), else "".
    A docker compose or CRI wrapper is removed first."""
    if " | " in line[:66] and line[:1].isalpha():
        match = _COMPOSE.match(line)
        if match:
            line = line[match.end() :]
    elif line[:2] == "20" and line[10:11] == "T":
        match = _CRI.match(line)
        if match:
            line = line[match.end() :]
    if line[:1] == "[":
        if "] {" not in line[:48]:
            match = _LEVEL_ONLY.match(line)
            if match:
                return line[match.end() :], ""  # "[ts] {file.py:93} INFO - payload", parsed without a regex (hot path)
        brace = line.find("] {", 20, 48)
        close = line.find("} ", brace, brace + 130) if brace > 0 else -1
        dash = line.find(" - ", close, close + 12) if close > 0 else -1
        if dash > 0 and line[close + 2 : dash].isupper():
            payload = line[dash + 3 :]
            if payload[2:3] == ":" and payload[:1].isdigit():  # dbt run by a BashOperator / Cosmos: its own prefix too
                match = _DBT_PREFIX.match(payload)
                if match:
                    payload = payload[match.end() :]
            return payload, line[brace + 2 : dash]
    elif line[2:3] == ":" and line[:1].isdigit():
        match = _DBT_PREFIX.match(line)
        if match:
            return line[match.end() :], ""
    return line, ""


def load_record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def record_text(record: dict[str, Any]) -> str:
    event = record.get("event")
    return event if isinstance(event, str) else ""


# Where JSON loggers put a formatted traceback: structlog's format_exc_info processor under
# "exception" (https://www.structlog.org/en/stable/api.html#structlog.processors.format_exc_info),
# python-json-logger under "exc_info" (https://nhairs.github.io/python-json-logger/), others in
# the message itself.
_TRACEBACK_KEYS = ("exception", "exc_info", "exc_text", "stack_trace", "traceback", "message", "msg", "event")


def record_traceback(record: dict[str, Any]) -> str:
    """The formatted traceback a JSON log record carries, "" when none."""
    for key in _TRACEBACK_KEYS:
        value = record.get(key)
        if isinstance(value, str) and "Traceback (most recent call last)" in value:
            return value
    return ""


def dbt_json_text(record: dict[str, Any]) -> str:
    """The message of one line of dbt's `--log-format json`: `info.msg` from dbt 1.5 on, `msg`
    before (https://docs.getdbt.com/reference/events-logging#structured-logging). A node's error
    arrives as one record whose message holds the whole console block, several lines."""
    info = record.get("info")
    message = info.get("msg") if isinstance(info, dict) else record.get("msg")
    return message if isinstance(message, str) else ""


def render_record(record: dict[str, Any]) -> list[str]:
    """A JSON record as readable lines: `ts LEVEL event k=v`, then its formatted traceback."""
    extras = " ".join(
        f"{k}={v}"
        for k, v in record.items()
        if k not in ("timestamp", "level", "event", "error_detail", "logger") and isinstance(v, (str, int, float))
    )
    head = " ".join(
        str(p)
        for p in (record.get("timestamp"), str(record.get("level", "")).upper(), record_text(record), extras)
        if p
    )
    detail = record.get("error_detail")
    return [head, *format_error_detail(detail).splitlines()] if isinstance(detail, list) else [head]


def format_error_detail(stacks: list[Any], depth: int = 0) -> str:
    """structlog's exception dicts (outermost first) back to Python's traceback text; a group's
    members (structlog's `exceptions`) in Python's nested `| ` layout, so parse_chain reads both."""
    parts: list[str] = []
    for index in range(len(stacks) - 1, -1, -1):
        stack = stacks[index]
        if not isinstance(stack, dict):
            continue
        group = bool(stack.get("is_group")) and isinstance(stack.get("exceptions"), list) and depth < 5
        lines = [
            "Exception Group Traceback (most recent call last):" if group else "Traceback (most recent call last):"
        ]
        for frame in stack.get("frames") or []:
            if isinstance(frame, dict):
                lines.append(
                    f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", 0)}, in {frame.get("name", "?")}'
                )
        value = str(stack.get("exc_value", ""))
        lines.append(
            f"{stack.get('exc_type', 'Exception')}: {value}" if value else str(stack.get("exc_type", "Exception"))
        )
        lines.extend(str(note) for note in stack.get("exc_notes") or [])
        if group:
            lines = ["+ " + lines[0], *("| " + line for line in lines[1:])]
            members = [m for m in stack["exceptions"][:15] if isinstance(m, list)]
            for number, member in enumerate(members, 1):
                lines.append(("+-+" if number == 1 else "  +") + f"---------------- {number} ----------------")
                text = format_error_detail(member, depth + 1).splitlines()
                if text and text[0].startswith("  + "):  # a nested group: its own layout, shifted
                    lines += ["  | " + text[0][4:], *("  " + line[2:] for line in text[1:])]
                else:
                    lines += ["  | " + line for line in text]
            lines.append("  +------------------------------------")
            lines = ["  " + line for line in lines]
        parts.append("\n".join(lines))
        if index > 0:
            marker = (
                "The above exception was the direct cause of the following exception:"
                if stack.get("is_cause")
                else "During handling of the above exception, another exception occurred:"
            )
            parts.append(marker)
    return "\n\n".join(parts)


def error_from_detail(stacks: Any) -> ErrorInfo | None:
    """ErrorInfo of the outermost exception of an Airflow 3 `error_detail` list."""
    if not isinstance(stacks, list) or not stacks or not isinstance(stacks[0], dict):
        return None
    outer, outer_frames = stacks[0], []
    for _ in range(5):  # an exception group: its first leaf drives triage (see pytb)
        members = outer.get("exceptions") if outer.get("is_group") else None
        if not (
            isinstance(members, list)
            and members
            and isinstance(members[0], list)
            and members[0]
            and isinstance(members[0][0], dict)
        ):
            break
        outer_frames += [f for f in outer.get("frames") or [] if isinstance(f, dict)]
        outer = members[0][0]
    frames = [
        Frame(
            path=str(f.get("filename", "?")),
            line=f.get("lineno") if isinstance(f.get("lineno"), int) else None,
            function=f.get("name"),
        )
        for f in [*outer_frames, *(outer.get("frames") or [])]
        if isinstance(f, dict)
    ]
    message = str(outer.get("exc_value", ""))
    syntax = outer.get("syntax_error")
    if isinstance(syntax, dict) and syntax.get("filename"):
        frames.append(
            Frame(path=str(syntax["filename"]), line=syntax.get("lineno") or None, code=syntax.get("line") or None)
        )
    return ErrorInfo(
        type=str(outer.get("exc_type", "Exception")),
        message=message,
        traceback=format_error_detail(stacks),
        frames=frames,
    )


SUMMARY_BLOCKS = 4  # the first failed nodes of a run summary kept (memory stays bounded)


class BlockScanner:
    """Keeps the last dbt error or JVM exception block: a header line plus its detail lines."""

    def __init__(self, header: re.Pattern[str], continues: re.Pattern[str], maybe: Callable[[str], bool]) -> None:
        self.header, self.continues, self.maybe = header, continues, maybe
        self.blocks: deque[tuple[int, list[str]]] = deque(maxlen=2)  # (start line, lines)
        self._block: deque[str] | None = None
        self._start = 0
        self.summary: list[tuple[int, list[str]]] | None = None  # the blocks after dbt's run summary began

    @property
    def active(self) -> bool:
        return self._block is not None

    def feed(self, line: str, number: int = 0) -> bool:
        if self._block is None and not self.maybe(line):
            return False  # cheap pre-check: most lines of a log are no error header
        header = self.header.match(line)
        if header and not (self._block is not None and (line.startswith("Caused by:") or self._nested(line, header))):
            self._finish()
            self._block = deque([line], maxlen=MAX_BLOCK_LINES)
            self._start = number
            return True
        if self._block is not None:
            if line.strip() and self.continues.match(line):
                self._block.append(line)
            else:
                self._finish()
        return False

    def _nested(self, line: str, header: re.Match[str]) -> bool:
        """A header without a path of its own indented under the block's (dbt: "Runtime Error in
        snapshot x (path)" then "  Database Error" and its message): part of the block, which keeps
        the node's path. A nested header that names its node ("Failure in model x (path)" then
        "  Runtime Error in model x (path)") is the more precise error and starts its own block."""
        if "path" in header.re.groupindex and header["path"]:
            return False
        head = self._block[0] if self._block else ""
        return len(line) - len(line.lstrip()) > len(head) - len(head.lstrip())

    def close(self) -> list[tuple[int, list[str]]]:
        self._finish()
        return list(self.blocks)

    def mark_summary(self) -> None:
        """dbt's "Completed with N errors" line: the run's summary of failed nodes follows."""
        self._finish()
        self.summary = []

    def first_of_summary(self) -> list[str] | None:
        """The first failed node of dbt's last run summary (dbt lists them in the order they
        failed): where the run first broke, before the nodes that failed after it. A bare
        "Failure in model x (path)" heading gives way to the node's own error block under it."""
        if not self.summary:
            return None
        first = self.summary[0][1]
        heading = self.header.match(first[0])
        if len(first) == 1 and heading is not None and heading["kind"] == "Failure" and len(self.summary) > 1:
            return self.summary[1][1]
        return first

    def _finish(self) -> None:
        if self._block is not None:
            self.blocks.append((self._start, list(self._block)))
            if self.summary is not None and len(self.summary) < SUMMARY_BLOCKS:
                self.summary.append((self._start, list(self._block)))
        self._block = None


_DBT_PATH = re.compile(
    r"\(((?:[\w.-]+[/\\])*[\w.-]+\.(?:sql|yml|yaml|py|csv))\)"
    r"|\bgiven in ((?:[\w.-]+[/\\])*[\w.-]+\.(?:sql|yml|yaml|py|csv)):?"
)


def dbt_scanner() -> BlockScanner:
    return BlockScanner(DBT_ERROR, re.compile(r"^\s{2,}\S"), lambda l: "Error" in l or "Failure" in l)


def java_scanner() -> BlockScanner:
    return BlockScanner(
        JAVA_EXC,
        re.compile(r"^(?:\s+|Caused by: |Suppressed: |Driver stacktrace:)"),
        lambda l: "Exception" in l or "Error" in l or "Failure" in l,
    )


def dbt_error(block: list[str]) -> ErrorInfo:
    match = DBT_ERROR.match(block[0])
    assert match is not None
    details = [line.strip() for line in block[1:] if line.strip()]
    path = match["path"] or next((m.group(1) or m.group(2) for m in map(_DBT_PATH.search, details) if m), None)
    frames = [Frame(path=path, function=match["name"])] if path else []
    kind = match["kind"]
    nested = next((m for m in map(DBT_ERROR.match, details) if m is not None and m["kind"] != "Failure"), None)
    if kind == "Failure" and match["resource"] not in (None, "test", "unit_test"):
        # dbt 1.8+ heads a model's (seed's, snapshot's) error with "Failure in model x (path)" and
        # prints the error itself under it ("Database Error in model x"): that one is the kind
        kind = nested["kind"] if nested else "Runtime Error"
    elif kind == "Failure":  # a data test's rows, or a unit test's (the model's logic on fixed rows)
        kind = "Failure in unit_test" if match["resource"] == "unit_test" else "Failure in test"
    return ErrorInfo(
        type=f"dbt {kind}",
        message="\n".join(details) or block[0],
        traceback="\n".join(block),
        frames=frames,
    )


def java_error(block: list[str]) -> ErrorInfo:
    match = JAVA_EXC.match(block[0])
    assert match is not None
    message = [match["msg"] or ""]
    for line in block[1:]:
        if line.startswith("\tat ") or line.startswith("Caused by:") or line.lstrip().startswith("at "):
            break
        message.append(line.strip())
    frames = []
    for line in block:
        at = re.match(r"^\s+at (?P<func>[\w$.<>]+)\((?P<file>[^:)]+)(?::(?P<line>\d+))?\)", line)
        if at:
            frames.append(Frame(path=at["file"], line=int(at["line"]) if at["line"] else None, function=at["func"]))
    return ErrorInfo(
        type=match["type"],
        message="\n".join(m for m in message if m).strip(),
        traceback="\n".join(block),
        frames=frames[:50],
    )


_TB_HEAD = re.compile(r"(?:Exception Group )?Traceback \(most recent call last\):")
_PREFIX_TOKENS = re.compile(r"(\d+|\s+)")
_FLAT_FRAME = re.compile(r'^File "[^"]+", line \d+')
_FLAT_EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::|$)")


class SharedPrefix:
    """A prefix that wraps every line of a traceback, learnt from the line that holds
    `Traceback (most recent call last):` and stripped from the lines after it while they share
    its shape (digit runs may differ: timestamps, pids, sequence numbers). One rule instead of a
    pattern per product; the shapes it covers include syslog (RFC 3164 `Nov 02 16:01:17 host
    app[42]: `, https://www.rfc-editor.org/rfc/rfc3164#section-4.1.2; RFC 5424 `<ts> host app
    pid msgid - `, https://www.rfc-editor.org/rfc/rfc5424#section-6), journald's short output
    (`man journalctl`, --output=short: the RFC 3164 header), Heroku logplex (`<ts> app[web.1]: `,
    https://devcenter.heroku.com/articles/logging#log-format), cron's `CROND[pid]: (user) CMDOUT
    (...)` and Python logging's `%(asctime)s %(levelname)s %(name)s: `
    (https://docs.python.org/3/library/logging.html#logrecord-attributes).

    Syslog daemons may drop a message's leading blanks, so a flattened traceback gets its
    frame / code indentation back (pytb reads frames by their indentation).
    """

    def __init__(self) -> None:
        self._shape: re.Pattern[str] | None = None
        self._closes = False
        self._seen = False
        self._flat = False
        self._after_frame = False

    def strip(self, text: str) -> tuple[str, bool]:
        """(payload, ended): ended on the first line without the prefix after lines that had it,
        which ends the traceback (the prefix on the header line alone proves nothing: a logger
        may print a formatted traceback as one message)."""
        if self._shape is not None:
            match = self._shape.match(text)
            if match:
                self._seen = True
                return self._indent(self._unclose(text[match.end() :])), False
            self._shape = None  # the traceback (or its wrapping) is over
            if self._seen:
                return text, True
        if "Traceback (" not in text:
            return text, False
        head = _TB_HEAD.search(text)
        if head is None or not text[: head.start()].strip(" +|"):
            return text, False  # no prefix (or only an exception group's own `| ` layout)
        prefix = text[: head.start()].rstrip()
        blanks = head.start() - len(prefix)  # the prefix's own separator, not the payload's indentation
        self._shape = re.compile(_digits_pattern(prefix) + (f"[ \t]{{0,{blanks}}}" if blanks else ""))
        self._closes = prefix.endswith("(")
        self._seen = self._flat = self._after_frame = False
        return self._unclose(text[head.start() :]), False

    def _unclose(self, payload: str) -> str:
        """cron's `CMDOUT (<line>)` closes what its prefix opened (cronie, src/do_command.c)."""
        return payload[:-1] if self._closes and payload.endswith(")") else payload

    def _indent(self, payload: str) -> str:
        if _FLAT_FRAME.match(payload):
            self._flat, self._after_frame = True, True
            return "  " + payload
        if self._flat and self._after_frame:
            self._after_frame = False
            if payload and not _FLAT_EXCEPTION.match(payload):
                return "    " + payload  # the frame's source line
        return payload


def _digits_pattern(prefix: str) -> str:
    """`prefix` as a regex where a run of digits matches any run of digits and a run of blanks
    any run of blanks (syslog pads a day of the month: `Nov  2`)."""
    return "".join(
        r"\d+" if part[:1].isdigit() else r"\s+" if part[:1].isspace() else re.escape(part)
        for part in _PREFIX_TOKENS.split(prefix)
        if part
    )
