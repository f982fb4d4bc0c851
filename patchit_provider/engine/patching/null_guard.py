"""A row-at-a-time Spark UDF that fails on a SQL NULL: make the UDF null-aware.

Spark passes a NULL column value to a Python UDF as `None`, and its documentation says how to
handle it: "Spark SQL does not guarantee the order of evaluation of subexpressions ... to perform
proper null checking, we recommend ... Make the UDF itself null-aware and do null checking
inside the UDF itself" (Databricks, User-defined scalar functions - Python / Scala, "Evaluation
order and null checking", https://docs.databricks.com/en/udf/python.html). NULL in, NULL out is
what every built-in Spark SQL function does with a NULL argument, so the guard keeps SQL's
semantics rather than hiding bad rows: the row keeps its NULL.

The fixer acts only when CPython's error is about `None` (`'NoneType' object has no attribute
'x'`, `... is not subscriptable`), the culprit line lies in a function decorated with `udf`
(`@udf`, `@F.udf(...)`, never `pandas_udf`, whose arguments are Series), and on that line the
failing access is made directly on one of the UDF's parameters.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, final_error_line, line_edit, read_text

_NONE_ATTRIBUTE = re.compile(r"^AttributeError: 'NoneType' object has no attribute '([A-Za-z_]\w*)'$")
_NONE_SUBSCRIPT = re.compile(r"^TypeError: 'NoneType' object is not subscriptable$")
SOURCE = "https://docs.databricks.com/en/udf/python.html (Evaluation order and null checking)"


def _is_udf(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id == "udf"
    return isinstance(target, ast.Attribute) and target.attr == "udf"


def _udf_around(tree: ast.AST, lineno: int) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef)
            and node.body
            and node.body[0].lineno <= lineno <= (node.end_lineno or node.lineno)
            and any(_is_udf(d) for d in node.decorator_list)
        ):
            return node
    return None


def _failing_parameter(func: ast.FunctionDef, lineno: int, attribute: str | None) -> str | None:
    params = {a.arg for a in (*func.args.posonlyargs, *func.args.args)}
    hits = set()
    for node in ast.walk(func):
        if getattr(node, "lineno", None) != lineno:
            continue
        if attribute is not None and isinstance(node, ast.Attribute) and node.attr == attribute:
            base = node.value
        elif attribute is None and isinstance(node, ast.Subscript):
            base = node.value
        else:
            continue
        if isinstance(base, ast.Name) and base.id in params:
            hits.add(base.id)
    return hits.pop() if len(hits) == 1 else None


def udf_null_guard(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    line = final_error_line(evidence)
    attr = _NONE_ATTRIBUTE.match(line or "")
    if not attr and not _NONE_SUBSCRIPT.match(line or ""):
        return None
    location = culprit_location(evidence, triage)
    if not location:
        return None
    rel, lineno = location
    text = read_text(repo_root, rel)
    if text is None:
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    func = _udf_around(tree, lineno)
    param = _failing_parameter(func, lineno, attr.group(1) if attr else None) if func else None
    if func is None or param is None:
        return None
    first = func.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        if len(func.body) == 1:
            return None
        anchor, after = first.end_lineno or first.lineno, True
    else:
        anchor, after = first.lineno, False
    lines = text.splitlines(keepends=True)
    body_line = lines[func.body[0].lineno - 1]
    indent = body_line[: len(body_line) - len(body_line.lstrip())]
    if not indent or func.body[0].col_offset != len(indent):
        return None  # a body on the `def` line itself
    guard = f"{indent}if {param} is None:\n{indent}{indent[func.col_offset :]}return None\n"
    current = lines[anchor - 1] if lines[anchor - 1].endswith("\n") else lines[anchor - 1] + "\n"
    new_line = current + guard if after else guard + current
    return Fix(
        name="udf_null_guard",
        edits=[line_edit(rel, text, anchor, new_line)],
        rationale=f"Python reported `{line}` inside the Spark UDF `{func.name}` ({rel}:{lineno}): Spark passes a "
        f"NULL `{param}` as None; the UDF is made null-aware (NULL in, NULL out), as {SOURCE} recommends.",
    )

