"""What a ZeroDivisionError divided by, read from the raising line (CPython prints it under the
frame): a size of the input (`len(rows)`, `df.shape[0]`, `rows.count()`, `n_rows`) is zero because
the input was empty; any other divisor is a value the code computes and divides by unguarded.
"""

from __future__ import annotations

import ast
import re

# names a programmer gives to a count or size of records
_SIZE_NAME = re.compile(r"(?:^|_)(?:n|num|number|count|cnt|len|length|size|rows|records|items|total)(?:_|$)", re.I)
_SIZE_CALLS = {"len", "count", "size", "nunique", "__len__"}
_SIZE_ATTRS = {"size", "shape", "count", "length"}
_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)


def _is_size(node: ast.expr) -> bool:
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"float", "int"}:
        if not node.args:
            return False
        node = node.args[0]  # float(len(rows)) is still a size
    if isinstance(node, ast.Subscript):
        node = node.value  # df.shape[0]
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in _SIZE_CALLS
    if isinstance(node, ast.Attribute):
        return node.attr in _SIZE_ATTRS or bool(_SIZE_NAME.search(node.attr))
    if isinstance(node, ast.Name):
        return bool(_SIZE_NAME.search(node.id))
    return False


def _statement(line: str) -> ast.AST | None:
    text = line.strip()
    for candidate in (text, text.rstrip(":") + ": pass", f"({text})"):
        try:
            return ast.parse(candidate)
        except SyntaxError:
            continue
    return None


def _divisors(line: str) -> list[ast.expr] | None:
    """The right operands of the line's divisions, or None when the line does not parse."""
    tree = _statement(line)
    if tree is None:
        return None
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, _DIVISIONS):
            found.append(node.right)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, _DIVISIONS):
            found.append(node.value)
    return found


def unguarded(line: str) -> bool:
    """The raising line divides, and by nothing that is a size of the input."""
    found = _divisors(line)
    return bool(found) and not any(_is_size(node) for node in found or ())
