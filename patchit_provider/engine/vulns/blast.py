"""Blast radius: the DAG files of a repository that import a package, found with `ast`.

A DAG file is a Python file that calls `DAG(...)` or decorates a function with `@dag`. Imports
count wherever they are (module level, inside functions and task bodies, `import x.y as z`,
`from x import y`). Distribution names are mapped to import names through installed metadata
(`importlib.metadata.packages_distributions()`), the table of known mismatches shared with the
requirements fixer, and the normalized name itself. A DAG's criticality comes from a configured
map (DAG id or file glob -> integer), else its tags (`criticality:N`, `critical`), else an SLA.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from patchit_provider.engine.models import VulnDag
from patchit_provider.engine.patching.requirements import KNOWN_DISTRIBUTIONS

MAX_FILE_BYTES = 2 << 20
MAX_FILES = 20_000
SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "site-packages",
    ".tox",
    ".mypy_cache",
}
CRITICAL_TAGS = {"critical": 5, "tier0": 5, "tier-0": 5, "p0": 5, "tier1": 4, "tier-1": 4, "p1": 4}
_TAG_LEVEL = re.compile(r"^(?:criticality|crit|tier)[:=](\d{1,3})$", re.IGNORECASE)
SLA_CRITICALITY = 3


@lru_cache(maxsize=1)
def _installed_imports() -> dict[str, set[str]]:
    """normalized distribution -> its top-level import names, from installed metadata."""
    found: dict[str, set[str]] = {}
    try:
        for module, dists in metadata.packages_distributions().items():
            for dist in dists:
                found.setdefault(canonicalize_name(dist), set()).add(module)
    except Exception:  # noqa: BLE001 - broken metadata must not stop a scan; the table and the name remain
        return {}
    return found


def import_names(distribution: str) -> set[str]:
    """Module names (dotted allowed) a distribution is imported as."""
    name = canonicalize_name(distribution)
    names = set(_installed_imports().get(name, set()))
    names |= {module for module, dist in KNOWN_DISTRIBUTIONS.items() if canonicalize_name(dist) == name}
    names.add(name.replace("-", "_"))
    return names


@dataclass
class DagFile:
    path: str
    dag_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    has_sla: bool = False
    imports: list[tuple[str, int]] = field(default_factory=list)  # (module, line)


def _callee(node: ast.AST) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _strings(node: ast.AST | None) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _names_sla(node: ast.AST) -> bool:
    """`sla=` / `sla_miss_callback=` as a keyword, or as a key of a dict (default_args)."""
    keys = ("sla", "sla_miss_callback")
    if isinstance(node, ast.keyword):
        return node.arg in keys
    return isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in keys for k in node.keys)


def read_dag_file(path: Path, rel: str) -> DagFile | None:
    """The file's DAG facts, or None when it defines no DAG (or cannot be parsed)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        tree = ast.parse(path.read_bytes(), filename=rel)
    except (OSError, SyntaxError, ValueError):
        return None
    info = DagFile(path=rel)
    is_dag = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            info.imports += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            info.imports += [(node.module, node.lineno)] + [
                (f"{node.module}.{a.name}", node.lineno) for a in node.names
            ]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if _callee(deco) == "dag":
                    is_dag = True
                    info.dag_ids.append(node.name)
                    if isinstance(deco, ast.Call):
                        _keywords(deco, info)
        elif isinstance(node, ast.Call) and _callee(node) == "DAG":
            is_dag = True
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                info.dag_ids.append(node.args[0].value)
            _keywords(node, info)
        elif _names_sla(node):
            info.has_sla = True
    return info if is_dag else None


def _keywords(call: ast.Call, info: DagFile) -> None:
    for kw in call.keywords:
        if kw.arg == "dag_id" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            info.dag_ids.append(kw.value.value)
        elif kw.arg == "tags":
            info.tags += _strings(kw.value)


def dag_files(repo: Path) -> list[DagFile]:
    """Every DAG file under `repo`, sorted by path (hidden folders and environments left out)."""
    repo = Path(repo).resolve()
    found: list[DagFile] = []
    count = 0
    for folder, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            count += 1
            if count > MAX_FILES:
                return found
            path = Path(folder) / name
            if path.is_symlink():
                continue  # a link could lead out of the repository
            info = read_dag_file(path, path.relative_to(repo).as_posix())
            if info is not None:
                found.append(info)
    return found


def criticality(info: DagFile, configured: dict[str, int]) -> tuple[int, str]:
    """(criticality, where it comes from): the configured map by DAG id then file glob, tags, SLA."""
    for dag_id in info.dag_ids:
        if dag_id in configured:
            return int(configured[dag_id]), "map"
    for pattern, value in configured.items():
        if fnmatch.fnmatch(info.path, pattern) or any(fnmatch.fnmatch(d, pattern) for d in info.dag_ids):
            return int(value), "map"
    levels = [int(m.group(1)) for t in info.tags if (m := _TAG_LEVEL.match(t.strip()))]
    levels += [CRITICAL_TAGS[t.strip().lower()] for t in info.tags if t.strip().lower() in CRITICAL_TAGS]
    if levels:
        return max(levels), "tags"
    if info.has_sla:
        return SLA_CRITICALITY, "sla"
    return 1, "default"


def importers(files: list[DagFile], distribution: str, configured: dict[str, int] | None = None) -> list[VulnDag]:
    """The DAG files importing `distribution`, with what they import and their criticality."""
    modules = import_names(distribution)
    out: list[VulnDag] = []
    for info in files:
        hits = sorted(
            {
                f"{m}:{line}"
                for m, line in info.imports
                if any(m == name or m.startswith(name + ".") for name in modules)
            }
        )
        if hits:
            level, source = criticality(info, configured or {})
            out.append(
                VulnDag(
                    path=info.path,
                    dag_ids=sorted(set(info.dag_ids)),
                    criticality=level,
                    criticality_from=source,
                    imports=hits,
                )
            )
    return out
