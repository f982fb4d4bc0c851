"""An exception printed without a traceback: the last lines of a log that only say
`psycopg2.errors.UniqueViolation: duplicate key ...`, a SyntaxError's `File "x.py", line 3`
display, or a JVM exception line without `at` frames.

Used only when the log holds no traceback, dbt block, JVM block or Airflow error record; it
reads the bounded tail the reader keeps, so memory stays bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from patchit_provider.engine.logs import formats as fmt
from patchit_provider.engine.logs.pytb import _RECORD_START
from patchit_provider.engine.models import ErrorInfo, Frame

MAX_DETAIL_LINES = 12
# A class name that says it is an error, optionally dotted; or an `errors`/`exceptions` module's class.
_TYPE = (
    # `Exception` alone: Python prints `raise Exception("...")` as "Exception: ..."
    r"(?:[A-Za-z_]\w*\.)*(?:Exception|[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|Failure|Fault|Denied|NotFound|"
    r"Forbidden|Unauthorized|Violation|Unavailable|Exceeded|Expired)|[A-Z]\w*Error\w*)"
    r"|(?:[a-z_]\w*\.)+(?:errors?|exceptions?)\.[A-Z]\w*"
    # standard-library modules whose exceptions are not named *Error (zipfile.BadZipFile,
    # http.client.RemoteDisconnected, subprocess.TimeoutExpired, socket.gaierror, ftplib.error_perm)
    r"|(?:zipfile|ssl|socket|http\.client|ftplib|smtplib|subprocess|queue|concurrent\.futures(?:\._base)?|"
    r"asyncio(?:\.exceptions)?|xml\.parsers\.expat|email\.errors|tarfile|lzma|gzip)\.[A-Za-z_]\w*"
)
_BARE = re.compile(rf"^\s*(?P<type>{_TYPE})(?::\s?(?P<msg>.*)|\s*)$")
# Any class name printed as `Name: message`; accepted only when the catalogs know the class
# (pandas' OutOfBoundsDatetime, IntCastingNaNError's kin that are not named *Error).
_NAMED = re.compile(r"^\s*(?P<type>(?:[A-Za-z_]\w*\.)*(?P<short>[A-Z][a-z]\w*[A-Z]\w*)):\s?(?P<msg>\S.*)$")
# SQLAlchemy's wrapped DBAPI error anywhere in a line ("... unhandled exception: DataError:
# (psycopg2.errors.DivisionByZero) division by zero", "Details: (psycopg2.errors.X) ..."):
# StatementError._message prints "(<orig module>.<orig class>) <orig>", then "[SQL: ...]" and
# "(Background on this error at: https://sqlalche.me/e/...)"
# (https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/exc.py). The driver's
# exception is what failed; the SQLAlchemy class only wraps it.
_WRAPPED = re.compile(
    r"(?:^|[\s:])\((?P<type>(?:[a-z_]\w*\.)*(?:(?:errors?|err|exc|exceptions?)\.[A-Z]\w*|"
    r"[a-z_]\w*\.[A-Z]\w*(?:Error|Exception|Warning)))\) (?P<msg>\S.*)$"
)
# A frame line, also one whose copy lost its leading `File ` (a .py path then, so that no other
# quoted "x", line 3 reads as a frame).
_FRAME = re.compile(
    r'^\s*(?:File |(?="[^"]+\.py", line \d))"(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$'
)
# IPython / Jupyter: "File ~/etl/load.py:42, in load(path)" (IPython 8) and
# "/srv/etl/load.py in load(path)" followed by "---> 42 code" (IPython 7).
_IPY8 = re.compile(r"^\s*File (?P<path>[^\s,]+?\.py):(?P<line>\d+)(?:, in (?P<func>[\w<>]+))?")
_IPY7 = re.compile(r"^(?P<path>(?:/|~|[A-Za-z]:\\)\S+?\.py) in (?P<func>[\w<>]+)\(")
_ARROW = re.compile(r"^-*> ?(?P<line>\d+)\b")
# pytest's report closes each entry with its location (_pytest/_code/code.py, ReprFileLocation):
# "tests/test_etl.py:8: " between entries, "etl.py:42: KeyError" after the last, and
# "etl.py:42: in load" with --tb=short.
_PYTEST_WHERE = re.compile(
    r"^(?P<path>(?:[A-Za-z]:)?[^\s:]+\.py):(?P<line>\d+): ?(?:in (?P<func>[\w<>]+)|[A-Za-z_][\w.]*)?\s*$"
)
# Rich's traceback panel (rich/traceback.py, Traceback._render_stack): "│ /srv/etl.py:42 in load  │";
# a long path pushes the function to the next row.
_RICH = re.compile(r"^\s*│\s*(?P<path>\S+?\.py):(?P<line>\d+)(?: in(?: (?P<func>[\w<>.]+))?)?\s*│?\s*$")
_DETAIL = re.compile(r"^(?:\s+\S|DETAIL:|HINT:|LINE \d+:|CONTEXT:|\s*\^)")


_PYTEST = re.compile(r"^E {2,}")  # pytest's failure report marks the exception lines with "E   "
_PYTEST_RULE = re.compile(r"^(?:={3,}|_{3,}|(?:_ ){3,})")  # its section rules ("==== short test summary info")


def _text(line: str) -> str:
    if line[:1] == "{":
        record = fmt.load_record(line)
        if record is not None:
            return fmt.record_text(record)
    text = fmt.strip_prefix(line)[0]
    if len(text) > 2 and text[0] == text[-1] and text[0] in "'\"":  # a str's repr: 'Error: message'
        text = text[1:-1]
    return _PYTEST.sub("", text, count=1) if text[:1] == "E" else text


def _starts_record(line: str) -> bool:
    """The raw line opens a log record (a timestamp or a logger prefix that strip_prefix removes):
    after an exception line printed without one, it is the logger again, not the message going on
    (Airflow 2 prints the traceback raw, then "[ts] {local_task_job.py:154} INFO - Task exited")."""
    return bool(_RECORD_START.match(line)) or fmt.strip_prefix(line)[0] != line


def bare_error(lines: list[str], is_wrapper: Callable[[ErrorInfo], bool] = lambda error: False) -> ErrorInfo | None:
    """The most relevant exception line of `lines` (the last one that does not only wrap
    another), with the frames displayed above it and its detail lines below."""
    texts = [_text(line) for line in lines]
    found: list[ErrorInfo] = []
    frames: list[Frame] = []
    for index, text in enumerate(texts):
        ipython = _IPY8.match(text) or _IPY7.match(text)
        if ipython:
            line = ipython.groupdict().get("line")
            if line is None:  # IPython 7: the arrow below names the line
                line = next((m["line"] for m in map(_ARROW.match, texts[index + 1 : index + 12]) if m), None)
            frames.append(Frame(path=ipython["path"], line=int(line) if line else None, function=ipython["func"]))
            continue
        located = _PYTEST_WHERE.match(text) or _RICH.match(text)
        if located:
            frames.append(Frame(path=located["path"], line=int(located["line"]), function=located["func"]))
            continue
        frame = _FRAME.match(text)
        if frame:
            code = texts[index + 1].strip() if index + 1 < len(texts) and not _FRAME.match(texts[index + 1]) else None
            frames.append(
                Frame(
                    path=frame["path"],
                    line=int(frame["line"]),
                    function=(frame["func"] or "").strip() or None,
                    code=code if code and not _BARE.match(code) else None,
                )
            )
            continue
        match = _BARE.match(text) or _known(_NAMED.match(text)) or _WRAPPED.search(text)
        if not match or text.startswith((" ", "\t")) and not frames:
            continue
        detail = []
        own_record = _starts_record(lines[index])
        for offset, follow in enumerate(texts[index + 1 : index + 1 + MAX_DETAIL_LINES], start=index + 1):
            # a message goes on (as Python prints a multi-line one) until a blank line, a frame,
            # another exception, a new log record or SQLAlchemy's "[SQL: ...]" echo
            if (
                not follow.strip()
                or _FRAME.match(follow)
                or _BARE.match(follow)
                or follow.startswith(("[SQL:", "(Background on this error at:"))
                or _PYTEST_RULE.match(follow)
                or (_RECORD_START.match(follow) and not _DETAIL.match(follow))
                or (not own_record and _starts_record(lines[offset]))
            ):
                break
            detail.append(follow.strip())
        message = "\n".join([(match["msg"] or "").strip(), *detail]).strip()
        block = [*(f'  File "{f.path}", line {f.line}' for f in frames), text, *detail]
        found.append(ErrorInfo(type=match["type"], message=message, traceback="\n".join(block), frames=frames))
        frames = []
    if found and frames:  # frames after the last exception line: Sentry's layout (the exception, then its frames)
        found[-1] = found[-1].model_copy(update={"frames": [*found[-1].frames, *frames]})
    for error in reversed(found):
        if not is_wrapper(error):
            return error
    if not found and frames:  # a traceback cut before its exception line: its frames still localize
        return ErrorInfo(
            type="Traceback",
            message="(the traceback ends without its exception line)",
            traceback="\n".join(f'  File "{f.path}", line {f.line}' for f in frames),
            frames=frames,
        )
    return found[-1] if found else None


def _known(match: re.Match[str] | None) -> re.Match[str] | None:
    return match if match is not None and match["short"] in _catalog_classes() else None


@lru_cache(maxsize=1)
def _catalog_classes() -> frozenset[str]:
    """Exception classes triage's catalogs know (imported late: the catalogs are triage's)."""
    from patchit_provider.engine.triage.catalogs import exceptions

    return frozenset(exceptions.CLASSES) | frozenset(exceptions.BASES)
