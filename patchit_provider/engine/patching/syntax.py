"""CPython's own SyntaxError hints turned into the minimal edit they name.

The parser of Python 3.10+ says what is missing ("expected ':'", "'(' was never closed",
"Perhaps you forgot a comma?", "unterminated string literal", "Maybe you meant '==' or ':='",
"expected an indented block"). The log's text is not trusted for where: the culprit file is
re-compiled here and the SyntaxError's own `lineno`, `offset`, `end_lineno` and `end_offset`
say where to edit. Where the hint leaves a choice (which line end closes a bracket, which gap
lacks the comma), every candidate is tried and only a unique one that lets the parser get past
the error is kept; the patched file must compile as a whole, and validation then re-runs it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, hunk_edits, read_text
from patchit_provider.engine.taxonomy import Category

_SYNTAX_TYPES = {"SyntaxError", "IndentationError", "TabError"}
MAX_ROUNDS = 5  # CPython reports one error at a time; a file with a few slips is fixed in rounds
MAX_LINE_CANDIDATES = 200
MAX_FILE_CHARS = 200_000  # every candidate is a re-parse of the file: bounded work
_INDENT_HINT = re.compile(r"^expected an indented block after .* on line (\d+)$")
_UNTERMINATED = re.compile(r"^unterminated (triple-quoted )?string literal")


@dataclass(frozen=True)
class _Error:
    msg: str
    lineno: int
    offset: int  # 1-based column, as CPython gives it
    end_lineno: int
    end_offset: int
    kind: str


def parse_error(text: str, name: str = "<patchit>") -> _Error | None:
    """The SyntaxError CPython raises on `text` (positions as it reports them), None if it parses."""
    try:
        compile(text, name, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        lineno = exc.lineno or 0
        offset = exc.offset or 0
        return _Error(
            msg=exc.msg or "",
            lineno=lineno,
            offset=offset,
            end_lineno=exc.end_lineno or lineno,
            end_offset=exc.end_offset or offset,
            kind=type(exc).__name__,
        )
    except ValueError:  # null bytes: not something a hint repairs
        return _Error(
            msg="source code cannot contain null bytes",
            lineno=0,
            offset=0,
            end_lineno=0,
            end_offset=0,
            kind="ValueError",
        )
    return None


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _insert(text: str, lineno: int, col: int, piece: str) -> str:
    lines = _lines(text)
    line = lines[lineno - 1]
    lines[lineno - 1] = line[:col] + piece + line[col:]
    return "".join(lines)


def _code_end(line: str) -> int:
    """Column just after the last code character of a physical line (before a comment)."""
    body = _body(line)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(body + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return len(body.rstrip())
    ends = [
        t.end[1]
        for t in tokens
        if t.type
        not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)
    ]
    return max(ends) if ends else len(body.rstrip())


def _past(error: _Error, after: _Error | None) -> bool:
    """The edit got the parser past `error`: it parses, or now stops later in the file."""
    if after is None:
        return True
    return (after.lineno, after.offset) > (error.lineno, error.offset)


def _unique(text: str, error: _Error, candidates: list[str]) -> str | None:
    """The one candidate that parses; when none does (the file has further slips), the one that
    gets the parser past this error; None when the hint leaves more than one choice."""
    results = [(c, parse_error(c)) for c in dict.fromkeys(candidates) if c != text]
    parsing = [c for c, after in results if after is None]
    if parsing:
        return parsing[0] if len(parsing) == 1 else None
    passing = [c for c, after in results if _past(error, after)]
    return passing[0] if len(passing) == 1 else None


def _expected_colon(text: str, error: _Error) -> str | None:
    """`if x > 10` -> `if x > 10:`: the colon goes right after the code before the reported
    column (a comment or the next statement stays after it)."""
    line = _lines(text)[error.lineno - 1]
    col = len(line[: max(error.offset - 1, 0)].rstrip())
    if col == 0:
        return None
    return _unique(text, error, [_insert(text, error.lineno, col, ":")])


_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _never_closed(text: str, error: _Error) -> str | None:
    """Close the bracket at the end of the line that completes its expression: each line end from
    the bracket's line through its continuation lines is tried, and exactly one must parse."""
    found = re.match(r"^'([(\[{])' was never closed$", error.msg)
    if not found:
        return None
    closer = _CLOSERS[found.group(1)]
    lines = _lines(text)
    opening = lines[error.lineno - 1]
    indent = len(opening) - len(opening.lstrip())
    candidates = []
    for number in range(error.lineno, min(len(lines), error.lineno + MAX_LINE_CANDIDATES) + 1):
        line = lines[number - 1]
        if number > error.lineno and line.strip() and (len(line) - len(line.lstrip())) <= indent:
            break  # a new statement at the opening line's level: the expression ended before it
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        candidates.append(_insert(text, number, _code_end(line), closer))
    return _unique(text, error, candidates)


def _forgot_comma(text: str, error: _Error) -> str | None:
    """`[1, 2 3]` -> `[1, 2, 3]`: a comma in the one gap between tokens of the reported span
    that lets the parser get past it."""
    lines = _lines(text)
    if error.end_lineno < error.lineno:
        return None
    span = "".join(lines[error.lineno - 1 : error.end_lineno])
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(span).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    start, end = (error.lineno, error.offset - 1), (error.end_lineno, error.end_offset - 1)
    candidates = []
    for tok in tokens:
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER):
            continue
        at = (tok.end[0] + error.lineno - 1, tok.end[1])
        if start < at < end:
            candidates.append(_insert(text, at[0], at[1], ","))
    return _unique(text, error, candidates)


def _unterminated(text: str, error: _Error) -> str | None:
    """Close the string the parser says is unterminated with its own quote. A one-line string:
    every column after the opening quote is tried and exactly one must parse. A triple-quoted
    string: the first line end after which the file parses (a docstring that swallowed code)."""
    found = _UNTERMINATED.match(error.msg)
    if not found:
        return None
    lines = _lines(text)
    line = lines[error.lineno - 1]
    col = error.offset - 1
    letters = re.match(r"[A-Za-z]{0,2}", line[col:])
    prefix = letters.group(0) if letters else ""
    quote_at = col + len(prefix)
    if found.group(1):
        quote = line[quote_at : quote_at + 3]
        if quote not in ('"""', "'''"):
            return None
        for number in range(error.lineno, min(len(lines), error.lineno + MAX_LINE_CANDIDATES) + 1):
            current = lines[number - 1]
            if not current.strip():
                continue
            end = len(_body(current).rstrip())
            if number == error.lineno and end <= quote_at + 3:
                continue
            candidate = _insert(text, number, end, quote)
            if parse_error(candidate) is None:
                return candidate
        return None
    quote = line[quote_at : quote_at + 1]
    if quote not in ('"', "'"):
        return None
    body = _body(line)
    candidates = [
        _insert(text, error.lineno, at, quote) for at in range(quote_at + 1, min(len(body), quote_at + 1000) + 1)
    ]
    return _unique(text, error, candidates)


def _bound_before(text: str, name: str, lineno: int) -> bool:
    """`name` is assigned, imported or a parameter somewhere before line `lineno`."""
    prefix = "".join(_lines(text)[: lineno - 1])
    try:
        tree = ast.parse(prefix)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            return True
        if isinstance(node, ast.arg) and node.arg == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            return True
    return False


def _eq_or_walrus(text: str, error: _Error) -> str | None:
    """`if x = 1:` -> `if x == 1:` (x already has a value) or `if (n := f()):` (n is new). The
    single `=` inside the reported span is replaced; both readings parse, so which one is meant
    is decided by whether the left-hand name already exists, else no patch."""
    if error.end_lineno != error.lineno:
        return None
    line = _lines(text)[error.lineno - 1]
    segment = line[error.offset - 1 : error.end_offset - 1]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(segment).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    equals = [t for t in tokens if t.type == tokenize.OP and t.string == "="]
    if len(equals) != 1:
        return None
    col = error.offset - 1 + equals[0].start[1]
    left = segment[: equals[0].start[1]].strip()
    as_eq = line[:col] + "==" + line[col + 1 :]
    as_walrus = line[:col] + ":=" + line[col + 1 :]
    lines = _lines(text)

    def replaced(new_line: str) -> str:
        return "".join(lines[: error.lineno - 1] + [new_line] + lines[error.lineno :])

    options = [c for c in (replaced(as_eq), replaced(as_walrus)) if _past(error, parse_error(c))]
    if len(options) == 2:
        if not left.isidentifier():
            return options[0]
        return options[0] if _bound_before(text, left, error.lineno) else None
    return options[0] if len(options) == 1 else None


def _indent_unit(lines: list[str]) -> str:
    """The file's own indentation step: the leading whitespace of its first indented line."""
    for line in lines:
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if line.strip() and lead:
            return "\t" if lead.startswith("\t") else lead
    return "    "


def _expected_indent(text: str, error: _Error) -> str | None:
    """IndentationError "expected an indented block after X on line N": indent the one statement
    that follows the header, only when no other line could belong to that block (the next
    statement is less indented than it, or the file ends)."""
    found = _INDENT_HINT.match(error.msg)
    if not found or error.kind != "IndentationError":
        return None
    lines = _lines(text)
    header = lines[int(found.group(1)) - 1]
    target = lines[error.lineno - 1]
    level = len(target) - len(target.lstrip())
    if level > len(header) - len(header.lstrip()):
        return None
    end = _logical_end(lines, error.lineno)
    if end is None:
        return None
    for following in lines[end:]:
        if not following.strip() or following.lstrip().startswith("#"):
            continue
        if len(following) - len(following.lstrip()) >= level:
            return None  # the next statement could belong to the block as well: ambiguous
        break
    unit = _indent_unit(lines)
    header_indent = header[: len(header) - len(header.lstrip())]
    new = list(lines)
    for number in range(error.lineno, end + 1):
        line = lines[number - 1]
        if number == error.lineno:
            new[number - 1] = header_indent + unit + line.lstrip(" \t")
        elif line.strip():
            new[number - 1] = unit + line
    candidate = "".join(new)
    return candidate if _past(error, parse_error(candidate)) else None


def _logical_end(lines: list[str], lineno: int) -> int | None:
    """Last physical line (1-based) of the logical line starting at `lineno`."""
    source = "".join(line.lstrip(" \t") if i == 0 else line for i, line in enumerate(lines[lineno - 1 :]))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NEWLINE:
                return lineno + tok.start[0] - 1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return len(lines)


_REPAIRS = (
    ("expected ':'", _expected_colon),
    ("was never closed", _never_closed),
    ("Perhaps you forgot a comma?", _forgot_comma),
    ("unterminated", _unterminated),
    ("Maybe you meant '==' or ':=' instead of '='?", _eq_or_walrus),
    ("expected an indented block after", _expected_indent),
)


def repair(text: str) -> tuple[str, list[str]] | None:
    """(`text` repaired from CPython's hints until it parses, the hints followed), or None when
    a reported error has no hint we repair or the result would not parse."""
    followed: list[str] = []
    current = text
    for _ in range(MAX_ROUNDS):
        error = parse_error(current)
        if error is None:
            return (current, followed) if followed else None
        if error.lineno < 1 or error.lineno > len(_lines(current)):
            return None
        repaired = next((fn(current, error) for marker, fn in _REPAIRS if marker in error.msg), None)
        if repaired is None or repaired == current:
            return None
        followed.append(f"{error.kind}: {error.msg} (line {error.lineno})")
        current = repaired
    return (current, followed) if parse_error(current) is None else None


def syntax_hint(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """A SyntaxError / IndentationError in the culprit file repaired as CPython's hint says."""
    error_type = triage.error.type.rsplit(".", 1)[-1]
    if triage.category is not Category.CODE_ERROR or error_type not in _SYNTAX_TYPES or triage.culprit is None:
        return None
    rel = triage.culprit.path
    text = read_text(repo_root, rel)
    if text is None or len(text) > MAX_FILE_CHARS:
        return None
    first = parse_error(text, rel)
    if first is None:
        return None  # the file parses now: the failure was elsewhere, or is already fixed
    logged = (triage.error.message or "").strip()
    if (
        logged.startswith(first.msg)
        and triage.culprit.line
        and triage.culprit.line not in (first.lineno, first.end_lineno)
    ):
        return None  # the same hint, but for another line than the one that failed: not this fault
    repaired = repair(text)
    if repaired is None:
        return None
    new, followed = repaired
    return Fix(
        name="syntax_hint",
        edits=hunk_edits(rel, text, new),
        rationale=f"{rel} does not parse; re-compiled here, CPython reports "
        + "; then ".join(followed)
        + ". Each hint's own minimal edit was made at the position CPython gives, and the file now compiles.",
    )
