"""An undefined name whose value sits, unused, in a name the code or the caller does provide.

Two linters' findings read together, the way a reviewer reads them: pyflakes / ruff `F821`
("undefined name") and `F841` ("local variable is assigned to but never used",
https://docs.astral.sh/ruff/rules/unused-variable/). When the name Python reports undefined and
a name its own function assigns (or receives) but never reads share a word (`discount_rate` and
`rate`), the unused one is the value the line meant. The same holds for a Jinja template: a
variable the template uses but nobody passes (jinja2's `UndefinedError: 'x' is undefined`) and a
keyword the render call passes but the template never reads (jinja2.meta's
`find_undeclared_variables`, https://jinja.palletsprojects.com/en/stable/api/#the-meta-api).

Only a unique candidate is proposed, and only as a candidate: it stands next to Python's own
"Did you mean" (which may name a similar but different value, a dict for its element) and
validation's re-run decides which one is right.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
import jinja2.meta

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import (
    Fix,
    culprit_location,
    final_error_line,
    line_edit,
    name_tokens,
    read_text,
    undefined_name,
)

_UNDEFINED = re.compile(r"UndefinedError: '([A-Za-z_]\w*)' is undefined")
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in ', re.M)
TEMPLATE_SUFFIXES = (".sql", ".j2", ".jinja", ".jinja2", ".html", ".txt", ".hql", ".sh")


def words(name: str) -> set[str]:
    """The lower-case words of an identifier: snake_case and camelCase parts."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return {w.lower() for w in spaced.split("_") if w}


def _related(missing: set[str], candidate: str) -> bool:
    mine = words(candidate)
    return bool(mine & missing)


def _enclosing_function(tree: ast.AST, lineno: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= lineno <= (
            node.end_lineno or node.lineno
        ):
            if best is None or node.lineno >= best.lineno:
                best = node
    return best


def unused_local_candidate(text: str, lineno: int, missing: str) -> str | None:
    """The one name the function around `lineno` assigns or receives and never reads, sharing a
    word with `missing`; None when there is none or more than one."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    func = _enclosing_function(tree, lineno)
    if func is None:
        return None
    provided = {a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)}
    loaded: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else provided).add(node.id)
    unused = provided - loaded - {missing, "self", "cls"}
    found = sorted(name for name in unused if _related(words(missing), name))
    return found[0] if len(found) == 1 else None


def unused_local(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """NameError: the culprit line reads the function's unused local that shares a word."""
    line = final_error_line(evidence)
    missing = undefined_name(evidence)
    location = culprit_location(evidence, triage)
    if not missing or not location:
        return None
    rel, lineno = location
    text = read_text(repo_root, rel)
    if text is None:
        return None
    candidate = unused_local_candidate(text, lineno, missing)
    hits = name_tokens(text, lineno, missing, attribute=False) if candidate else []
    if not candidate or not hits:
        return None
    source_line = text.splitlines(keepends=True)[lineno - 1]
    for tok in reversed(hits):
        col = tok.start[1]
        source_line = source_line[:col] + candidate + source_line[col + len(missing) :]
    return Fix(
        name="unused_local",
        edits=[line_edit(rel, text, lineno, source_line)],
        rationale=f"Python reported `{line}`; `{candidate}` is assigned in the same function and never "
        f"read (ruff F841), so {rel}:{lineno} reads `{candidate}` instead of `{missing}`.",
    )


def _render_keywords(evidence: Evidence, repo_root: Path) -> set[str] | None:
    """Keyword names of the `.render(...)` call in the innermost repository frame that has one."""
    traceback = evidence.error.traceback if evidence.error else None
    for path, line in reversed(_FRAME.findall(traceback or "")):
        for frame in evidence.mapped_frames:
            if frame.line != int(line) or not path.replace("\\", "/").endswith(frame.path):
                continue
            text = read_text(repo_root, frame.path)
            if text is None:
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("render", "stream")
                    and node.lineno <= int(line) <= (node.end_lineno or node.lineno)
                    and not node.args
                    and all(k.arg for k in node.keywords)
                ):
                    return {k.arg for k in node.keywords if k.arg}
    return None


def unused_template_argument(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """jinja2 UndefinedError: the template uses `missing` (or `missing.attr`) where the render
    call passes exactly one keyword the template never reads and that shares a word with it."""
    line = final_error_line(evidence)
    found = _UNDEFINED.search(line or "")
    culprit = triage.culprit
    if not found or culprit is None or not culprit.line or not culprit.path.endswith(TEMPLATE_SUFFIXES):
        return None
    text = read_text(repo_root, culprit.path, TEMPLATE_SUFFIXES)
    passed = _render_keywords(evidence, repo_root)
    if text is None or not passed:
        return None
    try:
        used = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(text))
    except jinja2.TemplateSyntaxError:
        return None
    missing = found.group(1)
    lines = text.splitlines(keepends=True)
    if missing not in used or culprit.line > len(lines):
        return None
    source_line = lines[culprit.line - 1]
    uses = list(re.finditer(rf"(?<![\w.]){re.escape(missing)}(?:\.([A-Za-z_]\w*))?(?!\w)", source_line))
    attrs = {u.group(1) for u in uses}
    if len(attrs) != 1:
        return None
    attr = attrs.pop()
    wanted = words(missing) | (words(attr) if attr else set())
    candidates = sorted(name for name in passed - used if _related(wanted, name))
    if len(candidates) != 1:
        return None
    new_line = source_line
    for use in reversed(uses):
        new_line = new_line[: use.start()] + candidates[0] + new_line[use.end() :]
    shown = f"{missing}.{attr}" if attr else missing
    return Fix(
        name="unused_template_argument",
        edits=[line_edit(culprit.path, text, culprit.line, new_line)],
        rationale=f"Jinja reported `{line}`; the render call passes `{candidates[0]}`, which the template "
        f"never reads, so {culprit.path}:{culprit.line} uses it instead of `{shown}`.",
    )
