"""A SQL clause keyword without its `BY`: the grammar names the one missing word.

PostgreSQL's and DuckDB's parsers (DuckDB uses PostgreSQL's grammar) report a `GROUP x` as
`syntax error at or near "x"` with the offending statement line (`LINE 15: group customer_id`).
In their grammars `GROUP`, `ORDER` and (in a window) `PARTITION` are only ever followed by `BY`
(PostgreSQL SELECT synopsis, https://www.postgresql.org/docs/current/sql-select.html: "[ GROUP BY
... ]", "[ ORDER BY ... ]", window_definition "[ PARTITION BY ... ]"; DuckDB,
https://duckdb.org/docs/stable/sql/query_syntax/groupby). So when the token the parser rejects
directly follows one of those keywords, the missing word is `BY`, and nothing else is guessed.
The edit is made in the culprit SQL file (a dbt model or a `.sql` file the runner read) where
that keyword-token pair occurs exactly once.
"""

from __future__ import annotations

import re
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, region_edit, read_text

_NEAR = re.compile(r'syntax error at or near "([^"\n]{1,200})"')
_LINE = re.compile(r"^\s*LINE (\d+): (.*)$", re.M)
KEYWORDS = ("group", "order", "partition")
SUFFIXES = (".sql",)


def missing_by(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    text = evidence.log_excerpt or ""
    near = _NEAR.search(text) or _NEAR.search(evidence.error.message if evidence.error else "")
    culprit = triage.culprit
    if not near or culprit is None or not culprit.path.endswith(SUFFIXES):
        return None
    token = near.group(1)
    pair = re.compile(rf"\b({'|'.join(KEYWORDS)})(\s+){re.escape(token)}\b", re.I)
    statement_line = _LINE.search(text[near.end() :][:2000])
    if statement_line and not pair.search(statement_line.group(2)):
        return None  # the parser's own excerpt shows no keyword before the token
    source = read_text(repo_root, culprit.path, SUFFIXES)
    if source is None:
        return None
    found = list(pair.finditer(source))
    if len(found) != 1:
        return None
    hit = found[0]
    by = "BY" if hit.group(1).isupper() else "by"
    new = source[: hit.end(1)] + f" {by}" + source[hit.end(1) :]
    return Fix(
        name="sql_missing_by",
        edits=[region_edit(culprit.path, source, new)],
        rationale=f'The database reported `syntax error at or near "{token}"` right after `{hit.group(1)}`; '
        f"in SQL's grammar `{hit.group(1).upper()}` is always followed by `BY`, so {culprit.path} gets "
        f"`{hit.group(1)} {by} {token}`.",
    )
