"""Find the pipeline's repository and map paths seen in a log onto it.

A log names files as they were on the worker (a container, another host); the repository is
checked out elsewhere. The longest path suffix that exists in the repository is the match.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path, PurePosixPath

import git

# Frames that are never the pipeline's code: installed packages, the standard library, frozen
# modules and code compiled from strings.
_FOREIGN = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|\.venv|venv|\.tox|__pypackages__)/"
    r"|(?:^|/)lib/python\d(?:\.\d+)?/|(?:^|/)lib64/python\d|^<[^>]*>$|^\{.*\}$"
)


def discover_repo(code_path: str | None, pipeline_id: str, repo_map: dict[str, str]) -> Path | None:
    """The repository of a pipeline: `repo_map` (exact id, then fnmatch patterns in order), else
    the git work tree holding `code_path`. None when neither leads to an existing directory."""
    target = repo_map.get(pipeline_id)
    if target is None:
        target = next((path for pattern, path in repo_map.items() if fnmatch.fnmatchcase(pipeline_id, pattern)), None)
    if target is not None:
        root = Path(target).expanduser()
        return root.resolve() if root.is_dir() else None
    if not code_path:
        return None
    start = Path(code_path).expanduser()
    if not start.exists():
        return None
    try:
        tree = git.Repo(start if start.is_dir() else start.parent, search_parent_directories=True).working_tree_dir
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitError):
        return None
    return Path(tree).resolve() if tree else None


def is_foreign(path: str) -> bool:
    """True for frames in installed packages or the standard library."""
    return bool(_FOREIGN.search(path.replace("\\", "/")))


def map_path(path: str, repo_root: Path) -> str | None:
    """Repository-relative POSIX path of `path`, or None when it is not in the repository."""
    if not path:
        return None
    norm = path.replace("\\", "/")
    if norm.startswith("file://"):
        norm = norm[len("file://") :]
    if is_foreign(norm):
        return None
    root = Path(repo_root)
    try:
        resolved_root = root.resolve()
        candidate = Path(norm)
        if candidate.is_absolute():
            try:
                relative = candidate.resolve().relative_to(resolved_root)
                if (resolved_root / relative).is_file():
                    return relative.as_posix()
            except (ValueError, OSError):
                pass
        parts = [p for p in PurePosixPath(norm).parts if p not in ("/", "", ".")]
        if re.match(r"^[A-Za-z]:$", parts[0] if parts else ""):
            parts = parts[1:]  # a Windows drive
        for start in range(len(parts)):  # longest suffix first
            suffix = parts[start:]
            if ".." in suffix:
                continue
            if (resolved_root.joinpath(*suffix)).is_file():
                return "/".join(suffix)
    except (OSError, ValueError):
        return None
    return None


_SKIP_DIRS = {".git", "target", "dbt_packages", "dbt_modules", "logs", "node_modules", "__pycache__", ".venv", "venv"}
_DBT_PATHS = {
    "model-paths": ("models", (".sql", ".py")),
    "seed-paths": ("seeds", (".csv",)),
    "snapshot-paths": ("snapshots", (".sql",)),
}
MAX_DBT_FILES = 5_000


def dbt_models(repo_root: Path) -> dict[str, str]:
    """Names a dbt `ref()` can resolve to in the repository (models, seeds, snapshots) ->
    repository-relative path; empty when the repository holds no dbt project. Bounded: the
    project files are found at most two levels down and at most MAX_DBT_FILES are listed."""
    root = Path(repo_root)
    names: dict[str, str] = {}
    projects = [
        p
        for pattern in ("dbt_project.yml", "*/dbt_project.yml", "*/*/dbt_project.yml")
        for p in sorted(root.glob(pattern))
        if not set(p.relative_to(root).parts) & _SKIP_DIRS
    ]
    seen = 0
    for project in projects:
        text = project.read_text(encoding="utf-8", errors="replace")[:100_000]
        for key, (default, suffixes) in _DBT_PATHS.items():
            match = re.search(rf"^{key}:\s*\[([^\]]*)\]", text, re.M)
            folders = re.findall(r"[\w./-]+", match.group(1)) if match else [default]
            for folder in folders:
                base = project.parent / folder
                for path in sorted(base.rglob("*")) if base.is_dir() else []:
                    if seen >= MAX_DBT_FILES:
                        return names
                    if (
                        path.suffix in suffixes
                        and path.is_file()
                        and not set(path.relative_to(root).parts) & _SKIP_DIRS
                    ):
                        seen += 1
                        names.setdefault(path.stem, path.relative_to(root).as_posix())
    return names
