"""Deterministic fixers: small, certain repairs read straight from the engine's evidence.

A fixer acts only when the evidence names both the fault and the fix (Python's own "Did you
mean" hint, a stdlib module used without its import) and the culprit line in the repository
still shows the fault. Anything less returns None: no patch is better than a guessed one.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import (
    NAME_ERROR,
    Fix,
    Fixer,
    culprit_location,
    final_error_line,
    line_edit,
    name_tokens,
    read_text,
    undefined_name,
)
from patchit_provider.engine.patching.call_arity import surplus_literal_arguments
from patchit_provider.engine.patching.import_name import import_name
from patchit_provider.engine.patching.jinja_syntax import jinja_syntax_hint
from patchit_provider.engine.patching.migrate import airflow_migration
from patchit_provider.engine.patching.null_guard import udf_null_guard
from patchit_provider.engine.patching.rename import dbt_ref, replace_identifier
from patchit_provider.engine.patching.requirements import missing_package
from patchit_provider.engine.patching.sql_keyword import missing_by
from patchit_provider.engine.patching.syntax import syntax_hint
from patchit_provider.engine.patching.unused_name import unused_local, unused_template_argument

_ATTRIBUTE_ERROR = re.compile(r"has no attribute '([A-Za-z_]\w*)'")
_DID_YOU_MEAN = re.compile(r"Did you mean: '([A-Za-z_]\w*)'\?")


def did_you_mean(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """NameError / AttributeError with Python's hint: rename the token on the culprit line."""
    line = final_error_line(evidence)
    if not line or not line.startswith(("NameError:", "AttributeError:")):
        return None
    attribute = line.startswith("AttributeError:")
    wrong = (_ATTRIBUTE_ERROR if attribute else NAME_ERROR).search(line)
    hint = _DID_YOU_MEAN.search(line)
    location = culprit_location(evidence, triage)
    if not wrong or not hint or not location or wrong.group(1) == hint.group(1):
        return None
    rel, lineno = location
    text = read_text(repo_root, rel)
    if text is None:
        return None
    hits = name_tokens(text, lineno, wrong.group(1), attribute)
    if not hits:
        return None
    source_line = text.splitlines(keepends=True)[lineno - 1]
    for tok in reversed(hits):  # right to left keeps earlier columns valid
        col = tok.start[1]
        source_line = source_line[:col] + hint.group(1) + source_line[col + len(tok.string) :]
    return Fix(
        name="did_you_mean",
        edits=[line_edit(rel, text, lineno, source_line)],
        rationale=f"Python reported `{line}`; `{wrong.group(1)}` is replaced by `{hint.group(1)}` on {rel}:{lineno}.",
    )


def _insertion_line(tree: ast.Module) -> tuple[int, bool]:
    """(line, after): after the last top-level import, else after the docstring, else before
    the first statement."""
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    if imports:
        return imports[-1].end_lineno or imports[-1].lineno, True
    first = tree.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno or first.lineno, True
    return first.lineno, False


def missing_stdlib_import(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """NameError on a standard-library module name used as a module: add `import <name>`."""
    line = final_error_line(evidence)
    module = undefined_name(evidence)
    location = culprit_location(evidence, triage)
    if not module or not location:
        return None
    if module.startswith("_") or module not in sys.stdlib_module_names:
        return None
    rel, lineno = location
    text = read_text(repo_root, rel)
    if text is None:
        return None
    lines = text.splitlines(keepends=True)
    # Evidence that the name is meant as the module: it is used as `module.attr` on that line.
    if lineno > len(lines) or not re.search(rf"(?<![\w.]){re.escape(module)}\s*\.", lines[lineno - 1]):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if not tree.body or any(
        isinstance(node, ast.Import) and any(alias.name == module and not alias.asname for alias in node.names)
        for node in tree.body
    ):
        return None
    at, after = _insertion_line(tree)
    anchor = lines[at - 1]
    if not anchor.endswith("\n"):
        anchor += "\n"
    new_line = anchor + f"import {module}\n" if after else f"import {module}\n" + anchor
    return Fix(
        name="missing_stdlib_import",
        edits=[line_edit(rel, text, at, new_line)],
        rationale=f"Python reported `{line}`; `{module}` is a standard-library module used as "
        f"`{module}.` on {rel}:{lineno} without being imported, so `import {module}` is added.",
    )


# Order matters: a stdlib module used as a module is a missing import even when Python also
# suggests a similarly named local.
FIXERS: list[Fixer] = [
    missing_stdlib_import,
    did_you_mean,
    unused_local,  # a second candidate beside did_you_mean: validation's re-run picks
    syntax_hint,
    jinja_syntax_hint,
    airflow_migration,
    import_name,
    replace_identifier,
    dbt_ref,
    missing_package,
    surplus_literal_arguments,
    udf_null_guard,
    unused_template_argument,
    missing_by,
]
