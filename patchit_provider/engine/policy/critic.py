"""The line-level critic: a patch that makes a failure disappear by swallowing it.

Removing a `raise`, adding a handler that catches everything or only logs, weakening asserts or
skipping tests hides the problem instead of fixing it, which is the worst outcome PATCHIT can
have. These rules read the diff's lines (so they hold even when a file no longer parses);
python_ast.py reads the whole file for the rest.
"""

from __future__ import annotations

import ast
import re
import textwrap

from unidiff import PatchedFile

from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.paths import TEST_FILE
from patchit_provider.engine.policy.rules import Finding

_RAISE = re.compile(r"(?:^|[:;])\s*raise\b")
_ASSERT = re.compile(r"^\s*assert\b|\bself\.assert\w*\(|\bpytest\.raises\(|\bassert_\w+\(")
_TRIVIAL_ASSERT = re.compile(r"^\s*assert\s+(True|1|not\s+False)\b|^\s*assert\b.*\bor\s+True\b")
_SKIP_TEST = re.compile(r"pytest\.(mark\.)?(skip|xfail)|unittest\.skip|@skip\b|pytest\.importorskip")
_SUPPRESS = re.compile(r"\bsuppress\(\s*(?P<what>[^)]*)\)")
_BROAD_SUPPRESS = re.compile(r"^\s*$|(^|[\s,(.])(Base)?Exception\b")
_EXCEPT = re.compile(r"^(?P<indent>\s*)except\b(?P<clause>[^:]*):(?P<rest>.*)$")
_BROAD = re.compile(r"^\s*$|^\s*\(?\s*(builtins\.)?(Base)?Exception\b|[(,]\s*(builtins\.)?(Base)?Exception\b")
_LOG_FUNC = re.compile(r"^(print|warnings\.warn|(self\.)?_?(log|logger|logging|LOG|LOGGER)(\.\w+)+)$")


def is_log_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and bool(_LOG_FUNC.match(ast.unparse(node.func)))


def _is_log_line(line: str) -> bool:
    head = line.strip().split("(", 1)[0].strip()
    return "(" in line and bool(_LOG_FUNC.match(head))


def _parse_body(lines: list[str]) -> list[ast.stmt] | None:
    """Statements of a handler body as seen in a hunk; a body cut off by the hunk's end is
    shortened until it parses."""
    text = textwrap.dedent("\n".join(lines))
    body = text.splitlines()
    for end in range(len(body), 0, -1):
        try:
            return ast.parse("\n".join(body[:end])).body
        except SyntaxError:
            continue
    return None


def swallows(stmt: ast.stmt) -> bool:
    """A statement that does nothing about an error: pass, continue, break, `...`, a bare
    `return`/`return None`, or a log/print call."""
    if isinstance(stmt, (ast.Pass, ast.Continue, ast.Break)):
        return True
    if isinstance(stmt, ast.Return):
        return stmt.value is None or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) or is_log_call(stmt.value)
    return False


def _handler_findings(path: str, patched: PatchedFile) -> list[Finding]:
    """Exception handlers that the patch adds or changes and that swallow the error."""
    found: list[Finding] = []
    for hunk in patched:
        target = [(line.value.rstrip("\r\n"), line.is_added) for line in hunk if not line.is_removed]
        for i, (text, added) in enumerate(target):
            match = _EXCEPT.match(text)
            if not match:
                continue
            indent = len(match["indent"])
            body = [match["rest"]] if match["rest"].strip() and not match["rest"].strip().startswith("#") else []
            touched = added
            for following, following_added in target[i + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
                touched = touched or following_added
            statements = _parse_body(body) if touched else None
            if not statements:
                continue
            if any(isinstance(node, ast.Raise) for stmt in statements for node in ast.walk(stmt)):
                continue
            clause = match["clause"].strip() or "bare"
            if _BROAD.search(match["clause"]):
                found.append(
                    Finding(
                        rules.BROAD_EXCEPT,
                        f"{path}: `except {clause}:` catches everything and does not re-raise (hides failures)",
                    )
                )
            elif all(swallows(stmt) for stmt in statements):
                found.append(
                    Finding(
                        rules.SWALLOWS_ERROR,
                        f"{path}: the `except {clause}:` handler only passes, returns or logs (swallows the error)",
                    )
                )
    return found


def critic_findings(path: str, patched: PatchedFile) -> list[Finding]:
    added = [line.value for hunk in patched for line in hunk if line.is_added]
    removed = [line.value for hunk in patched for line in hunk if line.is_removed]
    found: list[Finding] = []
    python = path.endswith((".py", ".pyw", ".pyi"))
    removed_raises = sum(bool(_RAISE.search(line)) for line in removed)
    if python and removed_raises > sum(bool(_RAISE.search(line)) for line in added):
        if any(_is_log_line(line) for line in added):
            found.append(
                Finding(
                    rules.REMOVES_RAISE, f"{path}: turns a failure into a log line (a `raise` is replaced by logging)"
                )
            )
        else:
            found.append(Finding(rules.REMOVES_RAISE, f"{path}: removes a `raise`"))
    if python:
        found += _handler_findings(path, patched)
    for line in added:
        suppressed = _SUPPRESS.search(line)
        if python and suppressed:
            broad = _BROAD_SUPPRESS.search(suppressed["what"])
            rule = rules.BROAD_EXCEPT if broad else rules.SWALLOWS_ERROR
            what = "of every exception" if broad else f"of {suppressed['what'].strip()}"
            found.append(Finding(rule, f"{path}: adds `contextlib.suppress` {what} (the error disappears)"))
    removed_asserts = [line for line in removed if _ASSERT.search(line)]
    if TEST_FILE.search(path) and removed_asserts:
        found.append(Finding(rules.WEAKENS_TESTS, f"{path}: a test loses assertion lines (tests may not be weakened)"))
    elif python and len(removed_asserts) > sum(bool(_ASSERT.search(line)) for line in added):
        found.append(Finding(rules.WEAKENS_TESTS, f"{path}: deletes an assert"))
    if python and any(_TRIVIAL_ASSERT.search(line) for line in added):
        found.append(Finding(rules.WEAKENS_TESTS, f"{path}: weakens an assert into one that always holds"))
    if any(_SKIP_TEST.search(line) for line in added):
        found.append(Finding(rules.WEAKENS_TESTS, f"{path}: skips or xfails a test"))
    return found
