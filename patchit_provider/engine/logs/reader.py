"""`read_log`: one streaming pass over a log of any format and size -> a small LogDigest.

Memory is bounded by constants, not by the log: a tail of TAIL_LINES, a window of lines around
the last error anchor, the last traceback / dbt / JVM block and the last Airflow error record.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from patchit_provider.engine.logs import formats as fmt
from patchit_provider.engine.logs.bare import bare_error
from patchit_provider.engine.logs.clean import LineStats, LogSource, iter_lines
from patchit_provider.engine.logs.pytb import TracebackScanner, parse_chain
from patchit_provider.engine.models import ErrorInfo

TAIL_LINES = 200
BEFORE_LINES = 15
AFTER_LINES = 150
MAX_EXCERPT_LINES = 250
EXCERPT_LINE_CHARS = 2_000
SNIFF_LINES = 200
MAX_PIPELINE_FILES = 4

# Lines that are worth a window when no traceback or error record is found.
_ERROR_LINE = re.compile(
    r"\bERROR\b|\bFATAL\b|\bCRITICAL\b|\[error ?\]|\"level\": ?\"(?:error|critical)\"|"
    r"(?:Database|Compilation|Runtime) Error|Failure in test|Exception in thread|Traceback|SIGKILL|\bKilled\b|No space left"
)
# Exceptions that only report that something else failed: look for that something else.
_WRAPPER = re.compile(
    r"(?i)bash command failed|non-zero exit (?:status|code)|returned non-zero|command failed|"
    r"task failed with exception|dbt (?:run|build|test) failed"
)


@dataclass
class LogDigest:
    """What triage needs from a log: its format, the relevant error, and a bounded excerpt."""

    format: str
    error: ErrorInfo | None
    excerpt: list[str]
    line_count: int
    errors: list[ErrorInfo] = field(default_factory=list)  # every error found, most relevant first
    truncated_lines: int = 0
    bytes_read: int = 0
    pipeline_files: list[str] = field(default_factory=list)  # DAG files the log names, full paths first


class _Window:
    """BEFORE lines before an anchor and up to AFTER lines after the latest one."""

    def __init__(self) -> None:
        self.lines: deque[str] | None = None
        self.left = 0
        self.anchored = False

    def anchor(self, tail: deque[str], line: str, restart: bool) -> None:
        if self.anchored:  # the same line anchored twice (e.g. a traceback and a JVM header)
            return
        self.anchored = True
        if self.lines is None or restart or self.left <= 0:
            before = list(tail)[-BEFORE_LINES - 1 : -1] if len(tail) > 1 else []
            self.lines = deque(before, maxlen=MAX_EXCERPT_LINES)
        self.lines.append(line)
        self.left = AFTER_LINES

    def feed(self, line: str) -> None:
        """Called for every line; a line that was just an anchor is not added twice."""
        if self.anchored:
            self.anchored = False
        elif self.lines is not None and self.left > 0:
            self.lines.append(line)
            self.left -= 1


def read_log(source: LogSource) -> LogDigest:
    """Read a path, binary stream, bytes or text; never raises on content (only on I/O)."""
    stats = LineStats()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    votes: Counter[str] = Counter()
    pytb, dbt, java = TracebackScanner(), fmt.dbt_scanner(), fmt.java_scanner()
    prefix = fmt.SharedPrefix()  # syslog / journald / logplex / logging prefixes around a traceback
    strong, weak = _Window(), _Window()
    records: deque[tuple[int, dict[str, Any]]] = deque(maxlen=2)  # Airflow 3 records with error_detail
    busy = False  # a scanner is inside a block: every line must reach it
    pipeline_files: list[str] = []
    for number, line in enumerate(iter_lines(source, stats), 1):
        tail.append(line)
        if ("DagBag" in line or "dag_file" in line) and len(pipeline_files) < MAX_PIPELINE_FILES:
            named = fmt.pipeline_file(line)
            if named and named not in pipeline_files:
                pipeline_files.append(named)
        if number <= SNIFF_LINES and line:
            kind = fmt.sniff(line)
            if kind:
                votes[kind] += 1
        hot = (
            "rror" in line
            or "RROR" in line
            or "xception" in line
            or "ailure" in line
            or "Traceback" in line
            or "FATAL" in line
            or "CRITICAL" in line
            or "SIGKILL" in line
            or "Killed" in line
            or "space left" in line
        )
        if hot or busy:  # the slow path; most lines of a big log are neither
            busy = _scan(line, number, hot, tail, records, pytb, dbt, java, strong, weak, prefix)
        if strong.left > 0 or strong.anchored:
            strong.feed(line)
        if weak.left > 0 or weak.anchored:
            weak.feed(line)
    tracebacks, dbt_blocks, java_blocks = pytb.close(), dbt.close(), java.close()
    first_failed = dbt.first_of_summary()
    if first_failed is not None and dbt_blocks:  # dbt's summary: its first failed node stands for the run
        dbt_blocks = [(max(number for number, _ in dbt_blocks), first_failed)]
    errors = _collect_errors(records, tracebacks, dbt_blocks, java_blocks)
    if not errors:  # no traceback or block: an exception printed on its own (logs/bare.py)
        bare = bare_error(list(tail), is_wrapper)
        errors = [bare] if bare is not None else []
    log_format = _decide_format(votes, bool(tracebacks), bool(java_blocks), bool(dbt_blocks))
    window = strong.lines if strong.lines is not None else weak.lines
    raw = list(window) if window is not None else list(tail)[-60:]
    return LogDigest(
        format=log_format,
        error=_most_relevant(errors),
        excerpt=_render_excerpt(raw),
        line_count=stats.lines,
        errors=errors,
        truncated_lines=stats.truncated_lines,
        bytes_read=stats.bytes,
        pipeline_files=sorted(pipeline_files, key=lambda path: -path.count("/")),
    )


# dbt's end-of-run summary (dbt/task/printer.py print_run_end_messages): "Completed with 3 errors, ..."
_DBT_SUMMARY = re.compile(r"\bCompleted with \d+ errors?\b")


def _scan(
    line: str,
    number: int,
    hot: bool,
    tail: deque[str],
    records: deque[tuple[int, dict[str, Any]]],
    pytb: TracebackScanner,
    dbt: fmt.BlockScanner,
    java: fmt.BlockScanner,
    strong: _Window,
    weak: _Window,
    prefix: fmt.SharedPrefix,
) -> bool:
    """Feed one line that may matter to the scanners and windows; True while a block is open."""
    text: str | None = line
    origin = ""
    if line[:1] == "{":
        text = None
        if '"error_detail"' in line:
            record = fmt.load_record(line)
            if record and isinstance(record.get("error_detail"), list):
                records.append((number, record))
                strong.anchor(tail, line, restart=True)
        if pytb.active or "Traceback" in line:
            record = fmt.load_record(line)
            trace = fmt.record_traceback(record) if record else ""
            if "\n" in trace:  # a whole traceback in one record (structlog, python-json-logger): its lines
                # (a one-line event is a line of output that Airflow logs record by record, read below)
                busy = False
                for part in trace.splitlines():
                    if not part.startswith("{"):  # a record quoted inside a message is not read again
                        busy = _scan(part, number, hot, tail, records, pytb, dbt, java, strong, weak, prefix)
                return busy
            text = fmt.record_text(record) if record else line
            origin = str(record.get("logger", "")) if record else ""
        elif '"msg"' in line and ('"info"' in line or '"log_version"' in line):  # dbt's --log-format json
            record = fmt.load_record(line)
            busy = False
            for part in (fmt.dbt_json_text(record) if record else "").splitlines():
                if not part.startswith("{"):  # a record quoted inside a message is not read again
                    busy = _scan(part, number, hot, tail, records, pytb, dbt, java, strong, weak, prefix)
            return busy
    else:
        text, origin = fmt.strip_prefix(line)
        text, ended = prefix.strip(text)
        if ended:
            pytb.close()  # the lines that carried the traceback's prefix are over
    if text is not None:
        if "Completed with" in text and _DBT_SUMMARY.search(text):
            dbt.mark_summary()
        if (pytb.active or "Traceback" in text) and pytb.feed(text, number, origin):
            strong.anchor(tail, line, restart=True)
        if (hot or dbt.active) and dbt.feed(text, number):
            strong.anchor(tail, line, restart=False)
        if (hot or java.active) and not pytb.active and java.feed(text, number):
            strong.anchor(tail, line, restart="Caused by" not in text)
    if hot and _ERROR_LINE.search(line):
        weak.anchor(tail, line, restart=False)
    return pytb.active or dbt.active or java.active


def _collect_errors(
    records: deque[tuple[int, dict[str, Any]]],
    tracebacks: list[tuple[int, list[str]]],
    dbt_blocks: list[tuple[int, list[str]]],
    java_blocks: list[tuple[int, list[str]]],
) -> list[ErrorInfo]:
    """Every error kept from the log, latest first."""
    candidates: list[tuple[int, ErrorInfo]] = []
    for number, record in records:
        error = fmt.error_from_detail(record.get("error_detail"))
        if error:
            candidates.append((number, error))
    for number, lines in tracebacks:
        chain = parse_chain(lines)
        if chain:
            candidates.append((number, chain[0].to_error_info("\n".join(lines))))
    candidates += [(number, fmt.dbt_error(lines)) for number, lines in dbt_blocks]
    candidates += [
        (number, fmt.java_error(lines))
        for number, lines in java_blocks
        if any(line.startswith(("\tat ", "    at ", "Caused by:")) for line in lines)
    ]
    candidates.sort(key=lambda item: -item[0])
    return [error for _, error in candidates]


def is_wrapper(error: ErrorInfo) -> bool:
    return error.type.rsplit(".", 1)[-1] in ("SystemExit", "CalledProcessError") or bool(
        _WRAPPER.search(error.message[:500])
    )


def _most_relevant(errors: list[ErrorInfo]) -> ErrorInfo | None:
    """The latest error, unless it only wraps an earlier one (BashOperator, dbt, subprocess)."""
    for error in errors:
        if not is_wrapper(error):
            return error
    return errors[0] if errors else None


def _decide_format(votes: Counter[str], python: bool, java: bool, dbt: bool) -> str:
    if votes:
        return votes.most_common(1)[0][0]
    return fmt.PYTHON if python else fmt.SPARK if java else fmt.DBT if dbt else fmt.TEXT


def _render_excerpt(raw: list[str]) -> list[str]:
    lines: list[str] = []
    for line in raw:
        if line[:1] == "{" and line.endswith("}"):
            record = fmt.load_record(line)
            if record is not None:
                lines.extend(fmt.render_record(record))
                continue
        lines.append(line)
    if len(lines) > MAX_EXCERPT_LINES:
        lines = (
            lines[:20]
            + [f"... {len(lines) - MAX_EXCERPT_LINES} lines omitted ..."]
            + lines[-(MAX_EXCERPT_LINES - 21) :]
        )
    return [l if len(l) <= EXCERPT_LINE_CHARS else l[:EXCERPT_LINE_CHARS] + " ...[cut]" for l in lines]
