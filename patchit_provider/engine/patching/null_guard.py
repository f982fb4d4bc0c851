"""A row-at-a-time Spark UDF that fails on a SQL NULL: make the UDF null-aware.

Spark passes a NULL column value to a Python UDF as `None`, and its documentation says how to
handle it: "Spark SQL does not guarantee the order of evaluation of subexpressions ... to perform
proper null checking, we recommend ... Make the UDF itself null-aware and do null checking
inside the UDF itself" (Databricks, User-defined scalar functions - Python / Scala, "Evaluation
order and null checking", https://docs.databricks.com/en/udf/python.html). NULL in, NULL out is
what every built-in Spark SQL function does with a NULL argument, so the guard keeps SQL's
semantics rather than hiding bad rows: the row keeps its NULL. The body is wrapped in
`if value is not None:`, the form of pyspark's own `udf` docstring example (`def to_upper(s):`
`if s is not None: return s.upper()`, pyspark/sql/functions/builtin.py), so no early exit is added.

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
from patchit_provider.engine.patching.common import Fix, culprit_location, final_error_line, read_text, region_edit

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
    docstring = (
        isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    )
    body = func.body[1:] if docstring else func.body
    if not body or any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and node.end_lineno != node.lineno
        for stmt in body
        for node in ast.walk(stmt)
    ):
        return None  # re-indenting would change a multi-line string
    lines = text.splitlines(keepends=True)
    first_line = lines[body[0].lineno - 1]
    indent = first_line[: len(first_line) - len(first_line.lstrip())]
    step = indent[func.col_offset :]
    if not step or body[0].col_offset != len(indent):
        return None  # a body on the `def` line itself
    start, end = body[0].lineno - 1, func.end_lineno or body[0].lineno
    wrapped = [f"{indent}if {param} is not None:\n"] + [step + x if x.strip() else x for x in lines[start:end]]
    new = "".join(lines[:start] + wrapped + lines[end:])
    try:
        ast.parse(new)
    except SyntaxError:
        return None
    return Fix(
        name="udf_null_guard",
        edits=[region_edit(rel, text, new)],
        rationale=f"Python reported `{line}` inside the Spark UDF `{func.name}` ({rel}:{lineno}): Spark passes a "
        f"NULL `{param}` as None; the UDF is made null-aware (NULL in, NULL out) with `if {param} is not None:`, "
        f"the form of pyspark's own `udf` example, as {SOURCE} recommends.",
    )
