"""Versions of the third-party packages a failure involves: the distributions owning the
traceback's site-packages frames and the exception's module.

The versions are those installed where the engine runs (importlib.metadata), which is the
worker's environment only when PATCHIT runs there: the caller says so next to them.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from importlib import metadata

from patchit_provider.engine.models import ErrorInfo

MAX_PACKAGES = 12
_SITE = re.compile(r"(?:site|dist)-packages/(?P<top>[A-Za-z_][\w]*)(?:/|\.py|$)")
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__main__"}


def involved_modules(error: ErrorInfo) -> list[str]:
    """Top-level module names: the exception type's (`pandas.errors.ParserError`) first, then the
    packages of site-packages frames, innermost first (closest to the error)."""
    found: list[str] = []
    if "." in error.type and " " not in error.type:
        found.append(error.type.split(".", 1)[0])
    for frame in reversed(error.frames):
        match = _SITE.search(frame.path.replace("\\", "/"))
        if match:
            found.append(match["top"])
    return [name for name in dict.fromkeys(found) if name not in _STDLIB and not name.startswith("_")]


@lru_cache(maxsize=1)
def _owners() -> dict[str, list[str]]:
    try:
        return metadata.packages_distributions()
    except Exception:  # a broken distribution's metadata must not fail evidence
        return {}


def package_versions(error: ErrorInfo | None) -> dict[str, str]:
    """distribution name -> version for the modules `error` involves (unknown ones skipped)."""
    if error is None:
        return {}
    versions: dict[str, str] = {}
    for module in involved_modules(error):
        for dist in _owners().get(module, [module])[:3]:
            try:
                versions.setdefault(dist, metadata.version(dist))
            except (metadata.PackageNotFoundError, ValueError):
                continue
        if len(versions) >= MAX_PACKAGES:
            break
    return versions
