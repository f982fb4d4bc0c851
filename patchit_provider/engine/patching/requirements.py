"""A missing third-party package added to the repository's requirements file.

Only for `ModuleNotFoundError` of a module the repository does not hold (else it is the
repository's own import that is wrong), and only into a requirements file that already exists:
where the pipeline declares its dependencies is the repository's choice, not ours. The version
is pinned only when the engine knows it (installed where PATCHIT runs), never invented.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path, PurePosixPath

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, culprit_location, line_edit, read_text
from patchit_provider.engine.taxonomy import Category

_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
REQUIREMENTS = "requirements.txt"
# Import name -> distribution where they differ and the environment cannot tell (not installed).
KNOWN_DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "PIL": "Pillow",
    "dateutil": "python-dateutil",
    "snowflake.connector": "snowflake-connector-python",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_path(text: str | None, lineno: int | None, top: str) -> str:
    """The dotted module the culprit line imports under `top` (`snowflake.connector`), else `top`."""
    line = text.splitlines()[lineno - 1] if text and lineno and lineno <= len(text.splitlines()) else ""
    found = re.search(rf"\b(?:import|from)\s+({re.escape(top)}(?:\.\w+)*)", line)
    return found.group(1) if found else top


def distribution_for(module: str) -> str | None:
    """The distribution that provides `module` (dotted), or None when that is not certain.

    Installed metadata first (exactly one distribution must provide the top-level name), then
    the table; a bare top-level name stands for itself only when nothing deeper was imported
    (`snowflake` alone could be any of several distributions).
    """
    top = module.split(".")[0]
    try:
        installed = metadata.packages_distributions().get(top, [])
    except Exception:  # noqa: BLE001 - broken metadata must not stop triage; fall back to the table
        installed = []
    if len(set(installed)) == 1:
        return installed[0]
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        known = KNOWN_DISTRIBUTIONS.get(".".join(parts[:size]))
        if known:
            return known
    return top if module == top and not installed else None


def pinned(distribution: str) -> str:
    """`dist==version` when the distribution is installed here, else the bare name."""
    try:
        return f"{distribution}=={metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return distribution


def _in_repo(root: Path, top: str) -> bool:
    for path in root.rglob(top + "*"):
        rel = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.name in (top, f"{top}.py"):
            return True
    return False


def requirements_file(root: Path, culprit: str | None) -> str | None:
    """The requirements.txt nearest the culprit (its folder, then each parent up to the root)."""
    folder = PurePosixPath(culprit).parent if culprit else PurePosixPath(".")
    for place in [folder, *folder.parents]:
        rel = str(place / REQUIREMENTS) if str(place) != "." else REQUIREMENTS
        if (root / rel).is_file() and not (root / rel).is_symlink():
            return rel
    return None


def _listed(text: str, distribution: str) -> bool:
    for line in text.splitlines():
        name = re.match(r"\s*([A-Za-z0-9][\w.-]*)", line.split("#", 1)[0])
        if name and _normalized(name.group(1)) == _normalized(distribution):
            return True
    return False


def missing_package(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """dependency.missing on `No module named 'x'`: add x's distribution to requirements.txt."""
    found = _NO_MODULE.search(triage.error.message)
    if triage.category is not Category.DEPENDENCY_MISSING or found is None:
        return None
    top = found.group(1).split(".")[0]
    if _in_repo(repo_root, top):
        return None  # the repository's own module: a wrong import, not a missing package
    location = culprit_location(evidence, triage)
    source = read_text(repo_root, location[0]) if location else None
    distribution = distribution_for(_imported_path(source, location[1] if location else None, found.group(1)))
    rel = requirements_file(repo_root, triage.culprit.path if triage.culprit else None)
    text = read_text(repo_root, rel, (".txt",)) if rel else None
    if distribution is None or rel is None or not text or not text.strip() or _listed(text, distribution):
        return None  # unknown distribution, no requirements file, or already required (an environment problem)
    requirement = pinned(distribution)
    lines = text.splitlines(keepends=True)
    last = lines[-1] if lines[-1].endswith("\n") else lines[-1] + "\n"
    return Fix(
        name="missing_package",
        edits=[line_edit(rel, text, len(lines), f"{last}{requirement}\n")],
        rationale=f"{triage.error.type}: {found.group(0)}; `{top}` is not part of the repository, so its "
        f"distribution `{requirement}` is added to {rel}"
        + ("" if "==" in requirement else " (unpinned: no installed version is known)")
        + ".",
    )
