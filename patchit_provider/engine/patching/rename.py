"""Renaming a missing column, relation or dbt node to the unique replacement triage recorded.

The replacement comes only from triage's record (an engine's candidate list or hint, or the
repository's dbt models, filtered to exactly one close name); these fixers decide only *where*
to write it, and touch nothing but the missing name itself in the culprit file: in Python, a
string literal or attribute equal to it on the culprit line, else the SQL string the culprit line
runs; in SQL, the column or table identifiers the SQL parser locates (sql_rename.py: never
comments, string values, aliases or Jinja); in dbt, `ref()` calls of the failing model.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, read_text, recorded_replacement, region_edit
from patchit_provider.engine.patching.sql_rename import rename_identifier
from patchit_provider.engine.repo import dbt_models
from patchit_provider.engine.taxonomy import Category

_SCHEMA = (Category.SCHEMA_MISSING_COLUMN, Category.SCHEMA_MISSING_RELATION)
_DBT_NODE = re.compile(r"depends on a node named '([^']+)'")
_IDENT = re.compile(r"^[A-Za-z_][\w$]*$")
_STRING_PREFIX = re.compile(r"^([A-Za-z]*)('''|\"\"\"|'|\")")


def sql_rename(sql: str, missing: str, candidate: str, kind: str = "column") -> tuple[str, int]:
    """(`sql` with every reference to the missing column / relation renamed, how many), edited
    through the SQL parser (sql_rename.py): comments, string values, aliases and Jinja stay."""
    return rename_identifier(sql, missing, candidate, kind)


def _string_parts(token: str) -> tuple[str, str, str] | None:
    """(opening, body, closing) of a plain or raw string literal token; None for f/b/u strings."""
    found = _STRING_PREFIX.match(token)
    if not found or set(found.group(1).lower()) - {"r"}:
        return None
    opening, quote = found.group(0), found.group(2)
    return opening, token[len(opening) : len(token) - len(quote)], quote


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def _offsets(text: str) -> list[int]:
    starts, total = [0], 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _sql_strings(text: str, tokens: list[tokenize.TokenInfo], lineno: int) -> list[tokenize.TokenInfo]:
    """String tokens the culprit line runs: those on the line, else the string constants
    assigned to a name the line uses (`SQL = \"\"\"...\"\"\"` ... `con.execute(SQL)`)."""
    strings = [t for t in tokens if t.type == tokenize.STRING]
    on_line = [t for t in strings if t.start[0] <= lineno <= t.end[0]]
    if on_line:
        return on_line
    used = {t.string for t in tokens if t.type == tokenize.NAME and t.start[0] == lineno}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    spans = [
        ((node.value.lineno, node.value.col_offset), (node.value.end_lineno, node.value.end_col_offset))
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and any(isinstance(target, ast.Name) and target.id in used for target in node.targets)
    ]
    return [t for t in strings if any(lo <= t.start and t.end <= hi for lo, hi in spans)]


def python_rename(text: str, lineno: int, missing: str, candidate: str, kind: str = "column") -> str | None:
    """`text` with the missing name replaced at the culprit line, or None when it is not there.

    First what equals the name exactly on the line (`df["cust_id"]`, `F.col("amount_eur")`,
    `df.amount_eur`); only when nothing does, the SQL of the string(s) that line runs.
    """
    tokens = _tokens(text)
    starts = _offsets(text)
    changes: list[tuple[int, int, str]] = []  # (start offset, end offset, new text)
    for i, tok in enumerate(tokens):
        if tok.start[0] != lineno and not (tok.type == tokenize.STRING and tok.start[0] <= lineno <= tok.end[0]):
            continue
        parts = _string_parts(tok.string) if tok.type == tokenize.STRING else None
        if parts and parts[1] == missing:
            changes.append(
                (
                    starts[tok.start[0] - 1] + tok.start[1],
                    starts[tok.end[0] - 1] + tok.end[1],
                    parts[0] + candidate + parts[2],
                )
            )
        elif (
            tok.type == tokenize.NAME
            and tok.string == missing
            and i
            and tokens[i - 1].string == "."
            and candidate.isidentifier()
        ):
            changes.append((starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1], candidate))
    if not changes:
        for tok in _sql_strings(text, tokens, lineno):
            parts = _string_parts(tok.string)
            if parts is None:
                continue
            opening, body, closing = parts
            body, count = sql_rename(body, missing, candidate, kind)
            if count:
                changes.append(
                    (
                        starts[tok.start[0] - 1] + tok.start[1],
                        starts[tok.end[0] - 1] + tok.end[1],
                        opening + body + closing,
                    )
                )
    for begin, end, new in sorted(changes, reverse=True):  # right to left keeps offsets valid
        text = text[:begin] + new + text[end:]
    return text if changes else None


def replace_identifier(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """A missing column (or relation) renamed to triage's unique replacement in the culprit file."""
    recorded = recorded_replacement(triage)
    if triage.category not in _SCHEMA or recorded is None or triage.culprit is None:
        return None
    missing, candidate, _ = recorded
    kind = "column" if triage.category is Category.SCHEMA_MISSING_COLUMN else "relation"
    if _DBT_NODE.search(triage.error.message) or not (_IDENT.match(missing) and _IDENT.match(candidate)):
        return None  # a dbt node is renamed in its ref() (dbt_ref); anything else is not a plain name
    rel = triage.culprit.path
    new: str | None
    if rel.endswith(".sql"):
        text = read_text(repo_root, rel, (".sql",))
        new, count = sql_rename(text, missing, candidate, kind) if text is not None else ("", 0)
        where = f"{count} occurrence(s) in the SQL of {rel}"
    else:
        location = culprit_location(evidence, triage)
        text = read_text(repo_root, rel) if location and location[0] == rel else None
        new = python_rename(text, location[1], missing, candidate, kind) if text is not None and location else None
        where = f"{rel}:{location[1] if location else '?'}"
    if text is None or not new or new == text:
        return None
    return Fix(
        name="replace_identifier",
        edits=[region_edit(rel, text, new)],
        rationale=f"{triage.error.type}: `{missing}` does not exist and the evidence names exactly one close "
        f"replacement, `{candidate}`; it is renamed at {where}.",
    )


_REF = r"(\bref\s*\(\s*(?:(['\"])[\w.]+\2\s*,\s*)?)(['\"]){name}\3(?=\s*[,)])"
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


_DBT_MODEL = re.compile(r"(?:Model|Snapshot|Test|Seed|Analysis) '[\w-]+\.[\w-]+\.([\w.-]+)'")


def _dbt_model_file(triage: Triage, repo_root: Path, missing: str) -> str | None:
    """The file of the model that holds the bad ref(): triage's culprit when it refers to the
    missing node, else the model dbt names (`Model 'model.shop.fct_orders'`), wherever it lives
    under the project's model folders (dbt packages excluded, repo.dbt_models)."""
    pattern = re.compile(_REF.format(name=re.escape(missing)))
    candidates = []
    if triage.culprit is not None:
        candidates.append(triage.culprit.path)
    named = _DBT_MODEL.search(triage.error.message)
    if named:
        path = dbt_models(repo_root).get(named.group(1).rsplit(".", 1)[-1])
        if path:
            candidates.append(path)
    for rel in candidates:
        text = read_text(repo_root, rel, (".sql",))
        if text is not None and pattern.search(text):
            return rel
    return None


def dbt_ref(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """`ref('stg_order')` -> `ref('stg_orders')` in the model dbt says depends on the missing node."""
    recorded = recorded_replacement(triage)
    node = _DBT_NODE.search(triage.error.message)
    if triage.category is not Category.SCHEMA_MISSING_RELATION or recorded is None or node is None:
        return None
    missing, candidate, model_path = recorded
    if node.group(1) != missing or model_path is None:
        return None  # only a node of the project itself (triage found its model file) is a target
    rel = _dbt_model_file(triage, repo_root, missing)
    if rel is None:
        return None
    text = read_text(repo_root, rel, (".sql",))
    if text is None:
        return None
    comments = [m.span() for m in _JINJA_COMMENT.finditer(text)]
    pattern = re.compile(_REF.format(name=re.escape(missing)))

    def swap(match: re.Match[str]) -> str:
        if any(lo <= match.start() < hi for lo, hi in comments):
            return match.group(0)
        return f"{match.group(1)}{match.group(3)}{candidate}{match.group(3)}"

    new = pattern.sub(swap, text)
    if new == text:
        return None
    return Fix(
        name="dbt_ref",
        edits=[region_edit(rel, text, new)],
        rationale=f"dbt: {rel} refers to the node `{missing}`, which does not exist; `{candidate}` "
        f"({model_path}) is the project's only close model, so the ref() is renamed to it.",
    )
