"""CPython's arity TypeError on a call to the repository's own function: drop the surplus literal.

CPython names the function and both counts ("build_path() takes 3 positional arguments but 4
were given", Python/ceval.c's too-many-positional error). When the function is defined once in
the repository with exactly that many positional parameters and no `*args`, and the surplus
arguments of the failing call are literals (no side effect is lost), the call is cut to what the
definition accepts. The definition says what the function uses; validation's re-run checks it.
Anything else (a method, a starred call, a computed surplus, two definitions) gets no patch.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, final_error_line, read_text, region_edit

_ARITY = re.compile(
    r"^TypeError: (?:[\w.]+\.)?([A-Za-z_]\w*)\(\) takes (?:from \d+ to )?(\d+) positional arguments? "
    r"but (\d+) (?:were|was) given$"
)
MAX_FILES = 2000
MAX_FILE_BYTES = 1 << 20


def _definitions(repo_root: Path, name: str) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level `def name` of the repository's Python files (bounded)."""
    found = []
    for count, path in enumerate(sorted(repo_root.rglob("*.py"))):
        if count >= MAX_FILES:
            break
        rel = path.relative_to(repo_root).as_posix()
        if rel.startswith((".git/", ".venv/")) or path.stat().st_size > MAX_FILE_BYTES:
            continue
        text = read_text(repo_root, rel)
        if text is None or f"def {name}" not in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found.append((rel, node))
    return found


def _offset(text: str, line: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[: line - 1]) + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))


def surplus_literal_arguments(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    line = final_error_line(evidence)
    found = _ARITY.match(line or "")
    location = culprit_location(evidence, triage)
    if not found or not location:
        return None
    name, accepted, given = found.group(1), int(found.group(2)), int(found.group(3))
    rel, lineno = location
    text = read_text(repo_root, rel)
    if text is None or given <= accepted or accepted < 1:
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == name
        and node.lineno <= lineno <= (node.end_lineno or node.lineno)
    ]
    if len(calls) != 1:
        return None
    call = calls[0]
    if len(call.args) != given or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    definitions = _definitions(repo_root, name)
    if len(definitions) != 1:
        return None
    def_rel, definition = definitions[0]
    params = definition.args
    if params.vararg is not None or len(params.posonlyargs) + len(params.args) != accepted:
        return None
    surplus = call.args[accepted:]
    if not all(isinstance(a, ast.Constant) for a in surplus):
        return None
    kept, last = call.args[accepted - 1], surplus[-1]
    start = _offset(text, kept.end_lineno or kept.lineno, kept.end_col_offset or 0)
    end = _offset(text, last.end_lineno or last.lineno, last.end_col_offset or 0)
    new = text[:start] + text[end:]
    try:
        ast.parse(new)
    except SyntaxError:
        return None
    dropped = ", ".join(ast.unparse(a) for a in surplus)
    return Fix(
        name="surplus_literal_arguments",
        edits=[region_edit(rel, text, new)],
        rationale=f"Python reported `{line}`; `{name}` ({def_rel}:{definition.lineno}) takes {accepted} "
        f"positional arguments, so the surplus literal {dropped} is dropped from the call on {rel}:{lineno}.",
    )
