"""A missing column or relation renamed THROUGH the SQL parser (sqlglot), byte for byte elsewhere.

The SQL is parsed (DuckDB, PostgreSQL, Snowflake, Spark, BigQuery, then sqlglot's generic
dialect: the first that parses it); the identifier nodes that name the missing column (the
column part of a column reference, never its table qualifier, an alias, a string value or a
comment) or the missing relation (the table part of a table reference) are located by the
parser's own offsets, and only those characters are replaced. Nothing is re-generated, so the
rest of the text (formatting, comments, Jinja) stays exactly as written. dbt's Jinja is masked
with same-length placeholders before parsing, so offsets still point into the original text.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

DIALECTS = ("duckdb", "postgres", "snowflake", "spark", "bigquery", None)
MAX_SQL_CHARS = 500_000
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def mask_jinja(sql: str) -> str:
    """`{{ ref('x') }}` -> an identifier of the same length; `{% ... %}` and `{# #}` -> blanks
    (newlines kept): offsets in the masked text are offsets in the original."""

    def mask(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("{{"):
            return "".join("\n" if c == "\n" else "_" for c in text[:-1]) + "j"
        return "".join("\n" if c == "\n" else " " for c in text)

    return _JINJA.sub(mask, sql)


def parse(sql: str) -> tuple[list[exp.Expr], str | None] | None:
    """(statements, dialect) of the first dialect that parses all of `sql`, else None."""
    masked = mask_jinja(sql)
    for dialect in DIALECTS:
        try:
            statements = [s for s in sqlglot.parse(masked, read=dialect) if s is not None]
        except (SqlglotError, ValueError, RecursionError):
            continue
        if statements:
            return statements, dialect
    return None


def _matches(identifier: exp.Identifier, name: str) -> bool:
    text: str = identifier.this
    return text == name if identifier.quoted else text.lower() == name.lower()


def _targets(statements: list[exp.Expr], name: str, kind: str) -> list[exp.Identifier]:
    found = []
    for statement in statements:
        for node in statement.find_all(exp.Identifier):
            parent = node.parent
            if kind == "column" and isinstance(parent, exp.Column) and parent.args.get("this") is node:
                found.append(node)
            elif kind == "relation" and isinstance(parent, exp.Table) and parent.args.get("this") is node:
                found.append(node)
    return [node for node in found if _matches(node, name)]


def _written(original: str, missing: str, candidate: str) -> str:
    """`candidate` spelled the way the original identifier was (quotes kept, case followed)."""
    if original.startswith(('"', "`", "[")):
        closing = {"[": "]"}.get(original[0], original[0])
        return f"{original[0]}{candidate}{closing}"
    if original == missing:
        return candidate
    if original.isupper():
        return candidate.upper()
    return candidate.lower() if original.islower() else candidate


def rename_identifier(sql: str, missing: str, candidate: str, kind: str) -> tuple[str, int]:
    """(`sql` with every `kind` ("column" / "relation") reference to `missing` renamed to
    `candidate`, how many), or (sql, 0) when the SQL does not parse or names it nowhere."""
    if kind not in ("column", "relation") or len(sql) > MAX_SQL_CHARS:
        return sql, 0
    parsed = parse(sql)
    if parsed is None:
        return sql, 0
    statements, dialect = parsed
    spans = []
    for node in _targets(statements, missing, kind):
        start, end = node.meta.get("start"), node.meta.get("end")
        if start is None or end is None:
            return sql, 0  # a node without its position cannot be edited in place
        spans.append((start, end + 1))
    new = sql
    for start, end in sorted(set(spans), reverse=True):
        written = sql[start:end]
        if written.strip('"`[]').lower() != missing.lower():
            return sql, 0  # the parser's offsets do not point at the name: refuse rather than guess
        new = new[:start] + _written(written, missing, candidate) + new[end:]
    if not spans:
        return sql, 0
    after = parse(new)
    if after is None or _targets(after[0], missing, kind):
        return sql, 0
    return new, len(spans)
