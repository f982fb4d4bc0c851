"""dbt's own record of a run: `run_results.json` (which nodes failed, with dbt's message) and
`manifest.json` (each node's source file, compiled SQL and upstream refs), when an event lists
them (or their target/ folder) in artifact_uris. They name the failing model exactly even
when the log is missing or says little.

Bounded: a file over MAX_ARTIFACT_BYTES is not loaded (a note says so), compiled SQL is cut
to MAX_SQL_CHARS, at most MAX_NODES failed nodes are kept. Never raises.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from patchit_provider.engine.logs.formats import DBT_ERROR, dbt_error
from patchit_provider.engine.models import DbtNode, ErrorInfo, Frame
from patchit_provider.engine.repo import map_path

MAX_ARTIFACT_BYTES = 50_000_000
MAX_SQL_CHARS = 6_000
MAX_NODES = 10
MAX_DEPENDS = 30
FAILED = ("error", "fail", "runtime error")
NAMES = ("run_results.json", "manifest.json")


def artifact_files(uris: list[str]) -> dict[str, Path]:
    """{"run_results.json": path, "manifest.json": path} among local paths / file:// URIs (a
    folder is searched for both, and its target/ too)."""
    found: dict[str, Path] = {}
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file") and len(parsed.scheme) > 1:
            continue
        path = Path(unquote(parsed.path) if parsed.scheme == "file" else uri).expanduser()
        try:
            if path.is_dir():
                for folder in (path, path / "target"):
                    for name in NAMES:
                        if (folder / name).is_file():
                            found.setdefault(name, folder / name)
            elif path.name in NAMES and path.is_file():
                found.setdefault(path.name, path)
        except OSError:
            continue
    return found


def _load(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        size = path.stat().st_size
        if size > MAX_ARTIFACT_BYTES:
            notes.append(f"dbt {path.name} is {size} bytes, over the {MAX_ARTIFACT_BYTES} byte cap: not read")
            return None
        with open(path, "rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        notes.append(f"cannot read dbt {path.name}: {type(exc).__name__}: {str(exc)[:200]}")
        return None
    return data if isinstance(data, dict) else None


def read_dbt_artifacts(
    uris: list[str], root: Path | None, notes: list[str], hint_paths: Sequence[str] = ()
) -> list[DbtNode]:
    """Failed nodes of run_results.json, completed from manifest.json; without run_results, the
    manifest's nodes whose source file the error names (`hint_paths`)."""
    files = artifact_files(uris)
    if not files:
        return []
    results = _load(files["run_results.json"], notes) if "run_results.json" in files else None
    manifest = _load(files["manifest.json"], notes) if "manifest.json" in files else None
    everything = {}
    if manifest is not None:
        for key in ("nodes", "sources", "unit_tests"):
            section = manifest.get(key)
            if isinstance(section, dict):
                everything.update(section)
    failed: list[tuple[str, str, str, str]] = []  # (unique_id, status, message, compiled)
    if results is not None:
        for result in results.get("results") or []:
            if isinstance(result, dict) and str(result.get("status", "")).lower() in FAILED:
                failed.append(
                    (
                        str(result.get("unique_id", "?")),
                        str(result["status"]).lower(),
                        str(result.get("message") or ""),
                        str(result.get("compiled_code") or ""),
                    )
                )
    elif everything and hint_paths:
        wanted = {p.replace("\\", "/").lstrip("./") for p in hint_paths}
        failed = [
            (uid, "unknown", "", "")
            for uid, node in everything.items()
            if isinstance(node, dict) and node.get("original_file_path") in wanted
        ]
    nodes = [
        _node(uid, status, message, compiled, everything.get(uid), root)
        for uid, status, message, compiled in failed[:MAX_NODES]
    ]
    if len(failed) > MAX_NODES:
        notes.append(f"{len(failed)} failed dbt nodes; the first {MAX_NODES} kept")
    return nodes


def _node(uid: str, status: str, message: str, compiled: str, node: object, root: Path | None) -> DbtNode:
    node = node if isinstance(node, dict) else {}
    path = node.get("original_file_path")
    if isinstance(path, str) and root is not None:
        path = map_dbt_path(path, root) or path
    depends = (node.get("depends_on") or {}).get("nodes") if isinstance(node.get("depends_on"), dict) else None
    sql = compiled or str(node.get("compiled_code") or node.get("compiled_sql") or "")
    if len(sql) > MAX_SQL_CHARS:
        sql = sql[:MAX_SQL_CHARS] + f"\n-- ... {len(sql) - MAX_SQL_CHARS} more characters cut"
    return DbtNode(
        unique_id=uid[:250],
        status=status,
        message=message[:4_000],
        path=path if isinstance(path, str) else None,
        compiled_sql=sql,
        depends_on=[str(d)[:250] for d in (depends or [])[:MAX_DEPENDS]],
    )


def map_dbt_path(path: str, root: Path) -> str | None:
    """A node's original_file_path (relative to its dbt project) -> repository-relative path:
    the project may sit in a folder of the repository (at most two levels down)."""
    mapped = map_path(path, root)
    if mapped:
        return mapped
    for project in [*root.glob("*/dbt_project.yml"), *root.glob("*/*/dbt_project.yml")][:20]:
        candidate = project.parent / path
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def node_frame(node: DbtNode) -> Frame | None:
    """The failing node as a frame (file, no line: dbt gives none) for localization."""
    if not node.path:
        return None
    return Frame(path=node.path, function=node.unique_id.rsplit(".", 1)[-1])


def node_error(node: DbtNode) -> ErrorInfo:
    """The error dbt recorded for a node, shaped like the console's (see logs.formats.dbt_error)."""
    lines = node.message.splitlines() or [node.status]
    if DBT_ERROR.match(lines[0]):
        return dbt_error(lines).model_copy(update={"frames": [f for f in [node_frame(node)] if f]})
    unit = node.unique_id.startswith("unit_test.")
    kind = (
        ("dbt Failure in unit_test" if unit else "dbt Failure in test")
        if node.status == "fail"
        else "dbt Runtime Error"
    )
    return ErrorInfo(
        type=kind,
        message=node.message or node.status,
        traceback=node.message or None,
        frames=[f for f in [node_frame(node)] if f],
    )
