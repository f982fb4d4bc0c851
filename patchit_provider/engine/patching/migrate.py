"""Airflow 2 -> 3 removals repaired with ruff's Airflow rules and Airflow's own migration notes.

Two sources, both authoritative and neither a guess:
- ruff's `AIR301` (removed in Airflow 3.0) and `AIR302` (moved to a provider) rules, run as a
  program (`ruff check --isolated --select ... --fix`, never imported) on a temporary copy of
  the culprit file only, so no configuration of the edited tree applies; imports the rewrite left
  unused (`from airflow.operators.dummy import DummyOperator` after `EmptyOperator` replaced it)
  are then removed with ruff's own `F401` edits, and only those. `AIR311` / `AIR312` (names
  that still work in 3.x) are applied only when the failure names them.
- `REMOVED_CONTEXT_KEYS` (triage/catalogs/airflow_context.py, shared with triage) and
  `REMOVED_IMPORTS` below, taken from Airflow's release notes, for
  what ruff does not rewrite. A removal is patched only when its replacement is one-to-one;
  anything else (`next_ds`, `SubDagOperator`, `days_ago`) gets no patch and is left to a person.

The fixer acts only when the failure itself names a removed thing (the key of a KeyError, the
undefined template variable, the missing module or keyword argument) and the culprit file
still uses it; the patched file must compile, and validation re-runs it.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import tokenize
from typing import Any
from pathlib import Path, PurePosixPath

from patchit_provider.engine.errors import ExternalError
from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, hunk_edits, read_text
from patchit_provider.engine.triage.catalogs.airflow_context import RELEASE_NOTES as _RELEASE_NOTES
from patchit_provider.engine.triage.catalogs.airflow_context import REMOVED_CONTEXT_KEYS, Removal

RUFF_VERSION = "0.17.6"  # pinned in pyproject.toml; rule codes checked with `ruff rule --all` of this version
RUFF_TIMEOUT = 60.0
RUFF_REMOVALS = ("AIR301", "AIR302")  # removed in 3.0 / moved to a provider: they break a DAG
RUFF_SUGGESTED = ("AIR311", "AIR312")  # still work in 3.x: applied only when the failure names them
MAX_FILE_BYTES = 1 << 20

# Removed import paths -> (module, name) of the replacement. Sources: Airflow 3.0.0 release
# notes ("Removed deprecated DummyOperator"..., "SubDAGs are removed", operators moved to
# apache-airflow-providers-standard), and Airflow 1.10 -> 2 module removals (`*_operator`).
REMOVED_IMPORTS: dict[tuple[str, str], Removal] = {
    ("airflow.operators.dummy", "DummyOperator"): Removal(
        "airflow.providers.standard.operators.empty.EmptyOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.dummy_operator", "DummyOperator"): Removal(
        "airflow.providers.standard.operators.empty.EmptyOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.empty", "EmptyOperator"): Removal(
        "airflow.providers.standard.operators.empty.EmptyOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.bash", "BashOperator"): Removal(
        "airflow.providers.standard.operators.bash.BashOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.bash_operator", "BashOperator"): Removal(
        "airflow.providers.standard.operators.bash.BashOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.python", "PythonOperator"): Removal(
        "airflow.providers.standard.operators.python.PythonOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.python_operator", "PythonOperator"): Removal(
        "airflow.providers.standard.operators.python.PythonOperator", _RELEASE_NOTES
    ),
    ("airflow.operators.subdag", "SubDagOperator"): Removal(
        None, _RELEASE_NOTES + " (SubDAGs removed: TaskGroups or Assets, a redesign)"
    ),
    ("airflow.operators.subdag_operator", "SubDagOperator"): Removal(
        None, _RELEASE_NOTES + " (SubDAGs removed: TaskGroups or Assets, a redesign)"
    ),
    ("airflow.utils.dates", "days_ago"): Removal(
        None, _RELEASE_NOTES + " (days_ago removed: a fixed start_date is the user's choice)"
    ),
}

_QUOTED = re.compile(r"'([^'\s]+)'")
_TEMPLATE = re.compile(r"(\{\{|\{%)(.*?)(\}\}|%\})", re.S)


def ruff_command() -> list[str]:
    """The pinned ruff program next to this interpreter, else `python -m ruff` (never imported)."""
    binary = Path(sys.executable).with_name("ruff")
    return [str(binary)] if binary.is_file() and os.access(binary, os.X_OK) else [sys.executable, "-m", "ruff"]


class RuffError(ExternalError, RuntimeError):
    """ruff could not be run or its output could not be read."""


def _ruff(path: Path, *args: str) -> str:
    command = [*ruff_command(), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet", *args, str(path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUFF_")}
    try:
        done = subprocess.run(command, cwd=path.parent, capture_output=True, env=env, timeout=RUFF_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuffError(f"ruff could not run: {exc}") from exc
    if done.returncode != 0:
        raise RuffError(f"ruff exited with {done.returncode}: {done.stderr.decode('utf-8', 'replace')[:500]}")
    return done.stdout.decode("utf-8", "replace")


def ruff_diagnostics(path: Path, select: tuple[str, ...]) -> list[dict[str, Any]]:
    """ruff's JSON diagnostics for `select` on `path` (unsafe fixes shown, nothing written)."""
    out = _ruff(path, "--select", ",".join(select), "--unsafe-fixes", "--output-format", "json")
    try:
        found = json.loads(out or "[]")
    except ValueError as exc:
        raise RuffError("ruff printed no JSON") from exc
    return [d for d in found if isinstance(d, dict) and isinstance(d.get("code"), str)]


def _apply_ruff_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply ruff fix edits (1-based rows and character columns), bottom to top."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(loc: dict[str, Any]) -> int:
        row, col = int(loc["row"]), int(loc["column"])
        return min(starts[min(row, len(starts)) - 1] + col - 1, len(text))

    spans = sorted(
        ((offset(e["location"]), offset(e["end_location"]), e.get("content") or "") for e in edits), reverse=True
    )
    for (begin, end, content), following in zip(spans, [None, *spans], strict=False):
        if following is not None and end > following[0]:
            continue  # overlapping edits: keep the later one only
        text = text[:begin] + content + text[end:]
    return text


def _named(error_message: str) -> set[str]:
    """Names the failure quotes ('execution_date', 'airflow.operators.dummy', 'schedule_interval'),
    and the last part of a dotted one."""
    names: set[str] = set()
    for quoted in _QUOTED.findall(error_message):
        names.update((quoted, quoted.rsplit(".", 1)[-1]))
    return {n for n in names if len(n) > 2 and n != "airflow"}


def _mentions(message: str, names: set[str]) -> bool:
    quoted = re.findall(r"`([^`]+)`", message)
    return any(q == n or q.startswith(n + ".") or q.endswith("." + n) for q in quoted for n in names)


def ruff_migrate(text: str, filename: str, names: set[str]) -> tuple[str, list[str]] | None:
    """(`text` with ruff's Airflow 3 fixes, the rules applied) when a fixable diagnostic is about
    what the failure names; None otherwise. Works in a temporary copy only."""
    with tempfile.TemporaryDirectory(prefix="patchit-ruff-") as scratch:
        path = Path(scratch) / (PurePosixPath(filename).name or "dag.py")
        path.write_text(text, encoding="utf-8")
        found = ruff_diagnostics(path, RUFF_REMOVALS + RUFF_SUGGESTED)
        relevant = [d for d in found if d.get("fix") and _mentions(d.get("message", ""), names)]
        if not relevant:
            return None
        codes = tuple(sorted(set(RUFF_REMOVALS) | {d["code"] for d in relevant}))
        unsafe = any((d["fix"] or {}).get("applicability") == "unsafe" for d in relevant)
        unused_before = {d.get("message") for d in ruff_diagnostics(path, ("F401",))}
        _ruff(path, "--select", ",".join(codes), "--fix", *(["--unsafe-fixes"] if unsafe else []))
        migrated = path.read_text(encoding="utf-8")
        left_unused = [
            d for d in ruff_diagnostics(path, ("F401",)) if d.get("message") not in unused_before and d.get("fix")
        ]
        edits = [e for d in left_unused for e in d["fix"].get("edits", [])]
        if edits:
            migrated = _apply_ruff_edits(migrated, edits)
    applied = sorted({f"{d['code']} {d.get('message', '').strip()}" for d in relevant})
    return (migrated, applied) if migrated != text else None


def _string_body(token: str) -> tuple[str, str, str] | None:
    found = re.match(r"^([rRuU]?)('''|\"\"\"|'|\")", token)
    if not found:
        return None
    opening = found.group(0)
    return opening, token[len(opening) : len(token) - len(found.group(2))], found.group(2)


def rename_context_key(text: str, key: str, new: str) -> tuple[str, int]:
    """Python: `context["key"]`, `kwargs.get("key")` -> the new key; inside string literals, the
    variable in `{{ key }}` / `{% ... key ... %}` Jinja blocks. Nothing else (comments, other
    strings, names) changes. Returns (text, replacements)."""
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.COMMENT)
        ]
    except (tokenize.TokenError, SyntaxError):
        return text, 0
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    changes: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.STRING:
            continue
        parts = _string_body(tok.string)
        if parts is None:
            continue
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        before = [t.string for t in tokens[max(0, i - 2) : i]]
        if parts[1] == key and (before[-1:] == ["["] or before == ["get", "("]):
            changes.append((begin, end, parts[0] + new + parts[2]))
            continue
        body, count = rename_template_variable(parts[1], key, new)
        if count:
            changes.append((begin, end, parts[0] + body + parts[2]))
    for begin, end, replacement in sorted(changes, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text, len(changes)


def rename_template_variable(text: str, name: str, new: str) -> tuple[str, int]:
    """`name` as a variable inside Jinja `{{ }}` / `{% %}` blocks of `text` (not `x.name`, not in
    quotes inside the block) renamed to `new`."""
    count = 0
    word = re.compile(rf"(?<![\w.'\"]){re.escape(name)}(?![\w'\"])")

    def block(match: re.Match[str]) -> str:
        nonlocal count
        inner, n = word.subn(new, match.group(2))
        count += n
        return match.group(1) + inner + match.group(3)

    return _TEMPLATE.sub(block, text), count


def _import_rewrite(text: str, module: str, name: str, target: str) -> str | None:
    """`from module import name` -> `from target_module import target_name` (other names of the
    statement stay where they were), and uses of `name` renamed when the class was renamed."""
    new_module, new_name = target.rsplit(".", 1)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines(keepends=True)
    hits = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module == module
        and not node.level
        and any(a.name == name for a in node.names)
    ]
    if len(hits) != 1:
        return None
    node = hits[0]
    alias = next(a for a in node.names if a.name == name)
    others = [a for a in node.names if a.name != name]
    leading = re.match(r"[ \t]*", lines[node.lineno - 1])
    indent = leading.group(0) if leading else ""
    statements = []
    if others:
        statements.append(indent + ast.unparse(ast.ImportFrom(module=module, names=others, level=0)) + "\n")
    statements.append(
        indent + f"from {new_module} import {new_name}" + (f" as {alias.asname}" if alias.asname else "") + "\n"
    )
    new_lines = lines[: node.lineno - 1] + statements + lines[node.end_lineno :]
    result = "".join(new_lines)
    if new_name != name and not alias.asname:
        result = _rename_name(result, name, new_name)
    return result


def _rename_name(text: str, old: str, new: str) -> str:
    """Bare-name uses of `old` (not attributes, strings or comments) renamed to `new`."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    for i in range(len(tokens) - 1, -1, -1):
        tok = tokens[i]
        if tok.type == tokenize.NAME and tok.string == old and not (i and tokens[i - 1].string == "."):
            row, col = tok.start
            line = lines[row - 1]
            lines[row - 1] = line[:col] + new + line[col + len(old) :]
    return "".join(lines)


def _compiles(text: str) -> bool:
    try:
        compile(text, "<patchit>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _failure_names(triage: Triage) -> set[str]:
    return _named(f"{triage.error.type}: {triage.error.message}")


def airflow_migration(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """An Airflow 2 construct removed in Airflow 3, named by the failure, rewritten in the culprit
    file by ruff's AIR3 fixes and Airflow's migration table when the mapping is one-to-one."""
    location = culprit_location(evidence, triage)
    rel = triage.culprit.path if triage.culprit else (location[0] if location else None)
    if rel is None:
        return None
    names = _failure_names(triage)
    if not names:
        return None
    text = read_text(repo_root, rel, (".py", ".sql", ".sh", ".j2", ".jinja", ".txt", ".json", ".yaml", ".yml", ".hql"))
    if text is None or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return None
    new, done = text, []
    for key in sorted(names & set(REMOVED_CONTEXT_KEYS)):
        removal = REMOVED_CONTEXT_KEYS[key]
        if removal.replacement is None:
            return None  # the failure is a removed key without a one-to-one replacement: a person decides
        if rel.endswith(".py"):
            new, count = rename_context_key(new, key, removal.replacement)
        else:
            new, count = rename_template_variable(new, key, removal.replacement)
        if count:
            done.append(f"context key `{key}` -> `{removal.replacement}` ({count}x; {removal.source})")
    if rel.endswith(".py"):
        try:
            migrated = ruff_migrate(new, rel, names)
        except RuffError:
            migrated = None  # no ruff: the table alone may still apply
        if migrated:
            new = migrated[0]
            done.extend(f"ruff {rule}" for rule in migrated[1])
        for (module, name), removal in REMOVED_IMPORTS.items():
            if not ({module, f"{module}.{name}", name} & names):
                continue
            if removal.replacement is None:
                return None  # e.g. SubDagOperator: no one-to-one replacement, escalate
            rewritten = _import_rewrite(new, module, name, removal.replacement)
            if rewritten:
                new = rewritten
                done.append(f"`{module}.{name}` -> `{removal.replacement}` ({removal.source})")
        if not _compiles(new):
            return None
    if new == text or not done:
        return None
    return Fix(
        name="airflow_migration",
        edits=hunk_edits(rel, text, new),
        rationale=f"{triage.error.type}: {triage.error.message} — an Airflow 2 construct that Airflow 3 removed. "
        f"In {rel}: " + "; ".join(done) + ".",
    )
