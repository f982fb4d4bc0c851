"""A dbt model's source line from the position a warehouse reports in the SQL dbt sent it.

Warehouses say where a statement failed in the text they received: PostgreSQL, Redshift and
DuckDB print `LINE n: <that line>` (libpq's reportErrorPosition, DuckDB's parser errors),
Snowflake `line n at position m`, BigQuery `[n:m]`, Spark `line n pos m`. dbt sent the
model's compiled (Jinja-rendered) SQL wrapped in its materialization's DDL (the copy in
target/run), so neither the number nor the text is the model file's. The reported line is found
in the compiled SQL (by its text, or by its number in target/run's copy), then carried back to
the model by aligning the compiled lines with the model's, its Jinja blanked: unchanged and
same-length rewritten runs map line to line; inside a run Jinja reshaped (a loop), the model
line most like the compiled one, when one stands out.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from pathlib import Path

from patchit_provider.engine.triage.localize import mask_jinja, read_text

# (line number, that line's text when the warehouse prints it)
_POSITIONS = (
    re.compile(r"^\s*LINE (\d+): ?(.*)$", re.M),  # PostgreSQL / Redshift / DuckDB
    re.compile(r"\bline (\d+) at position \d+", re.I),  # Snowflake
    re.compile(r"\bat \[(\d+):\d+\]"),  # BigQuery
    re.compile(r"\bline (\d+),? pos \d+"),  # Spark / Databricks
    re.compile(r"\bline (\d+):\d+: "),  # Trino / Presto / Athena (ParsingException, SemanticException)
)
_TRUNCATED = re.compile(r"^\.\.\.|\.\.\.$")  # libpq cuts a long line around the error with "..."
SIMILAR = 0.6


def reported_position(message: str) -> tuple[int, str] | None:
    """The line the warehouse names in the SQL it ran, and that line's text ("" when not printed)."""
    for pattern in _POSITIONS:
        match = pattern.search(message)
        if match:
            text = match.group(2) if pattern.groups > 1 else ""
            return int(match.group(1)), _TRUNCATED.sub("", text.strip()).strip()
    return None


def _unique_line(lines: list[str], text: str) -> int | None:
    """0-based index of the one line holding `text` (whitespace-insensitive)."""
    wanted = " ".join(text.split())
    hits = [i for i, line in enumerate(lines) if wanted and wanted in " ".join(line.split())]
    return hits[0] if len(hits) == 1 else None


def _carry_back(source: str, compiled_lines: list[str], index: int) -> int | None:
    """1-based model line of compiled line `index` (0-based)."""
    masked = [line.strip() for line in mask_jinja(source).splitlines()]
    rendered = [line.strip() for line in compiled_lines]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, masked, rendered, autojunk=False).get_opcodes():
        if not j1 <= index < j2:
            continue
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            return i1 + index - j1 + 1
        if tag != "replace":
            return None
        scores = sorted(
            ((SequenceMatcher(None, masked[i], rendered[index]).ratio(), i) for i in range(i1, i2)), reverse=True
        )
        best = scores[0]
        if best[0] >= SIMILAR and (len(scores) == 1 or scores[1][0] < best[0]):
            return best[1] + 1
        return None
    return None


def model_line(message: str, source: str, compiled: str, executed: str = "") -> int | None:
    """The model file's line for the warehouse position in `message`, or None when it cannot be
    shown: `compiled` is dbt's rendered SQL of the model, `executed` target/run's copy (DDL
    included) when it exists."""
    position = reported_position(message)
    if position is None or not compiled:
        return None
    number, text = position
    executed_lines = executed.splitlines()
    if not text and 0 < number <= len(executed_lines):
        text = executed_lines[number - 1].strip()
    compiled_lines = compiled.splitlines()
    index = _unique_line(compiled_lines, text) if text else None
    return _carry_back(source, compiled_lines, index) if index is not None else None


def target_copies(root: Path, model: str) -> tuple[str, str]:
    """(compiled, executed) SQL of repository file `model` from its dbt project's target/ folder,
    "" for what dbt did not leave there."""
    top = root.resolve()
    path = (root / model).resolve()
    if not path.is_relative_to(top):  # the log names the file: never read outside the repository
        return "", ""
    for project in path.parents:
        if (project / "dbt_project.yml").is_file():
            relative = path.relative_to(project).as_posix()
            found = []
            for kind in ("compiled", "run"):
                copies = sorted((project / "target" / kind).glob(f"*/{relative}"))
                found.append((read_text(copies[0]) or "") if len(copies) == 1 else "")
            return found[0], found[1]
        if project == top:
            break
    return "", ""
