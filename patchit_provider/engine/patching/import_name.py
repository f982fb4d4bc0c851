"""`ImportError: cannot import name 'x' from 'pkg.mod'` where pkg.mod is a module of the repository.

CPython 3.12+ appends "Did you mean: 'y'?" to this error, from the module's own names; older
interpreters do not. The hint is taken from the traceback when it is there; otherwise the
module's top-level names are read from its file in the repository (never imported) and exactly
one must be close (the triage's closeness rule, triage/replacement.is_close). The import and the
file's bare-name uses of the imported name are renamed; an `as` alias keeps the uses as they are.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path, PurePosixPath

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, final_error_line, hunk_edits, read_text
from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.replacement import is_close

_CANNOT_IMPORT = re.compile(r"cannot import name '([A-Za-z_]\w*)' from '([\w.]+)'")
_HINT = re.compile(r"Did you mean: '([A-Za-z_]\w*)'\?")


def _module_file(repo_root: Path, culprit: str, module: str) -> str | None:
    """The repository file of `module`, looked up from the culprit's folder up to the root."""
    parts = module.split(".")
    folder = PurePosixPath(culprit).parent
    for base in [folder, *folder.parents]:
        prefix = "" if str(base) == "." else f"{base}/"
        for rel in (f"{prefix}{'/'.join(parts)}.py", f"{prefix}{'/'.join(parts)}/__init__.py"):
            if read_text(repo_root, rel) is not None:
                return rel
    return None


def _top_level_names(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def _rename(text: str, lineno: int, module: str, wrong: str, right: str) -> str | None:
    """The `from module import wrong` at `lineno` renamed, and bare uses of `wrong` unless aliased."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    imports = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.lineno <= lineno <= (node.end_lineno or node.lineno)
        and (node.module or "").split(".")[-1] == module.split(".")[-1]
        and any(a.name == wrong for a in node.names)
    ]
    if len(imports) != 1:
        return None
    aliased = any(a.name == wrong and a.asname for a in imports[0].names)
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    span = (imports[0].lineno, imports[0].end_lineno or imports[0].lineno)
    for i in range(len(tokens) - 1, -1, -1):
        tok = tokens[i]
        if tok.type != tokenize.NAME or tok.string != wrong or (i and tokens[i - 1].string == "."):
            continue
        in_import = span[0] <= tok.start[0] <= span[1]
        if in_import or not aliased:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col] + right + lines[row - 1][col + len(wrong) :]
    return "".join(lines)


def import_name(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """A misspelt name imported from a repository module, renamed to the module's one close name."""
    found = _CANNOT_IMPORT.search(triage.error.message)
    location = culprit_location(evidence, triage)
    if triage.category is not Category.CODE_ERROR or found is None or location is None:
        return None
    wrong, module = found.groups()
    rel, lineno = location
    text = read_text(repo_root, rel)
    module_rel = _module_file(repo_root, rel, module)
    module_text = read_text(repo_root, module_rel) if module_rel else None
    if text is None or module_text is None:
        return None  # not the repository's module: a third-party name is a dependency question
    names = _top_level_names(module_text)
    if wrong in names:
        return None  # the name exists now: the failure was something else (a cycle, another copy)
    hint = _HINT.search(final_error_line(evidence) or "")
    if hint and hint.group(1) in names:
        right, why = hint.group(1), "Python's own hint"
    else:
        close = sorted(n for n in names if is_close(wrong, n))
        if len(close) != 1:
            return None
        right, why = close[0], f"the only close name among {module_rel}'s top-level names"
    new = _rename(text, lineno, module, wrong, right)
    if new is None or new == text:
        return None
    return Fix(
        name="import_name",
        edits=hunk_edits(rel, text, new),
        rationale=f"{triage.error.type}: cannot import `{wrong}` from `{module}` ({module_rel}); `{right}` is {why}, "
        f"so the import in {rel} (and its uses) are renamed.",
    )
