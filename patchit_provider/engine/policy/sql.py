"""What a patch adds to SQL (a dbt model, a .sql file, a query string in Python), read with sqlglot.

The data-hiding idioms of SQL make a type or null failure disappear instead of fixing it:
TRY_CAST / SAFE_CAST / TRY_CONVERT / TRY(...) and the TRY_TO_* family return NULL on bad input,
COALESCE / IFNULL / NVL of the failing column replace it with a default, and a new `IS NOT NULL`
filter on it drops the rows. Jinja (`{{ ref('x') }}`, `{% if %}`) is blanked before parsing; text
sqlglot cannot parse is judged by pattern.
"""

from __future__ import annotations

import re
from collections import Counter

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.files import FileChange
from patchit_provider.engine.policy.rules import Finding

_JINJA_EXPR = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_JINJA_BLOCK = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_SQL_START = re.compile(r"(?is)^\s*(\(|with\b|select\b|insert\b|update\b|delete\b|merge\b|create\b|from\b)")
_SQL_WORDS = re.compile(r"(?i)\b(select|from|where|cast|join|group\s+by|values)\b")
_TRY = re.compile(r"(?i)^(try|safe_cast|try_cast|try_convert|try_to_\w+|try_\w+)$")
_NULL_DEFAULT = {"COALESCE", "IFNULL", "NVL", "NVL2", "ISNULL", "ZEROIFNULL", "NULLIFZERO"}
_PATTERNS = [
    (
        re.compile(r"(?i)\b(try_cast|safe_cast|try_convert|try_to_\w+|try_\w+)\s*\("),
        "a TRY_ function that returns NULL on bad values",
    ),
    (re.compile(r"(?i)\b(coalesce|ifnull|nvl|nvl2|zeroifnull)\s*\("), "a NULL default"),
]


def looks_like_sql(text: str) -> bool:
    return len(text) >= 12 and bool(_SQL_START.match(text)) and len(_SQL_WORDS.findall(text)) >= 2


def _blank_jinja(text: str) -> str:
    return _JINJA_BLOCK.sub(" ", _JINJA_EXPR.sub("jinja_expr", text))


def _columns(node: exp.Expr) -> set[str]:
    return {column.name.lower() for column in node.find_all(exp.Column)}


def _parsed_uses(text: str, failing: set[str]) -> list[tuple[str, str]] | None:
    try:
        trees = [tree for tree in sqlglot.parse(_blank_jinja(text)) if tree is not None]
    except (SqlglotError, RecursionError, ValueError):
        return None
    uses: list[tuple[str, str]] = []
    for tree in trees:
        # The failure's names that are columns of this query; none: any column may be the failing one.
        lowered = {name.lower() for name in failing} & _columns(tree)
        for node in tree.walk():
            name = ""
            if isinstance(node, exp.TryCast) or (isinstance(node, exp.Cast) and node.args.get("safe")):
                name = "TRY_CAST"
            elif isinstance(node, exp.Try):
                name = "TRY"
            elif isinstance(node, exp.Anonymous) and _TRY.match(str(node.this)):
                name = str(node.this).upper()
            elif isinstance(node, exp.Func) and _TRY.match(node.sql_name() or ""):
                name = node.sql_name().upper()
            if name:
                uses.append(
                    (
                        f"{name}({','.join(sorted(_columns(node)))})",
                        f"{name} returns NULL instead of failing on bad values",
                    )
                )
                continue
            is_default = isinstance(node, exp.Coalesce) or (
                isinstance(node, (exp.Anonymous, exp.Func))
                and (node.sql_name() or str(node.this)).upper() in _NULL_DEFAULT
            )
            if is_default:
                columns = _columns(node)
                if not lowered or columns & lowered:
                    shown = ", ".join(sorted(columns & lowered or columns)) or "a value"
                    uses.append(
                        (
                            f"COALESCE({','.join(sorted(columns))})",
                            f"COALESCE/IFNULL/NVL of {shown} replaces the failing values with a default",
                        )
                    )
            elif (
                isinstance(node, exp.Not)
                and isinstance(node.this, exp.Is)
                and isinstance(node.this.expression, exp.Null)
            ):
                columns = _columns(node)
                if lowered and columns & lowered:
                    uses.append(
                        (
                            f"NOTNULL({','.join(sorted(columns))})",
                            f"a filter on {', '.join(sorted(columns & lowered))} IS NOT NULL drops the failing rows",
                        )
                    )
    return uses


def sql_uses(text: str, failing: set[str]) -> list[tuple[str, str]]:
    """(key, description) of each data-hiding idiom in `text`."""
    parsed = _parsed_uses(text, failing)
    if parsed is not None:
        return parsed
    return [(f"{what}#{m.group(1).lower()}", what) for pattern, what in _PATTERNS for m in pattern.finditer(text)]


def sql_findings(change: FileChange, failing: set[str]) -> list[Finding]:
    """Data-hiding idioms the patch adds to a SQL file."""
    after = change.after if change.after is not None else "\n".join(change.added)
    before = change.before if change.after is not None else "\n".join(change.removed)
    old = Counter(key for key, _ in sql_uses(before or "", failing))
    found = []
    for key, what in sql_uses(after, failing):
        if old[key]:
            old[key] -= 1
            continue
        found.append(Finding(rules.HIDES_BAD_DATA, f"{change.path}: adds {what}"))
    return list(dict.fromkeys(found))
