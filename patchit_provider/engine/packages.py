"""Versions of the third-party packages a failure involves: the distributions owning the
traceback's site-packages frames and the exception's module.

The versions are those installed where the engine runs (importlib.metadata), which is the
worker's environment only when PATCHIT runs there: the caller says so next to them.
"""

from __future__ import annotations

import re
import sys
import time
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


# Import names whose distribution is named otherwise, for the packages a pipeline's failures
# name most (each from the project's PyPI page); anything else is looked up by name, then by a
# bounded scan of the installed distributions' top_level.txt.
_DISTRIBUTIONS = {
    "airflow": ("apache-airflow", "apache-airflow-core"),
    "yaml": ("PyYAML",),
    "sklearn": ("scikit-learn",),
    "bs4": ("beautifulsoup4",),
    "PIL": ("Pillow",),
    "cv2": ("opencv-python", "opencv-python-headless"),
    "dateutil": ("python-dateutil",),
    "jwt": ("PyJWT",),
    "snowflake": ("snowflake-connector-python",),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    "psycopg": ("psycopg", "psycopg-binary"),
    "dbt": ("dbt-core",),
    "attr": ("attrs",),
    "MySQLdb": ("mysqlclient",),
    "Crypto": ("pycryptodome",),
    "OpenSSL": ("pyOpenSSL",),
    "jose": ("python-jose",),
    "dotenv": ("python-dotenv",),
    "google": ("google-api-core", "google-cloud-bigquery", "google-cloud-storage"),
    "googleapiclient": ("google-api-python-client",),
    "databricks": ("databricks-sql-connector",),
    "duckdb": ("duckdb",),
    "pkg_resources": ("setuptools",),
    "magic": ("python-magic",),
    "docx": ("python-docx",),
    "slugify": ("python-slugify",),
}
SCAN_SECONDS = 0.2  # the fallback scan stops here: versions are context, never worth a slow triage


def _names(module: str) -> list[str]:
    return [*_DISTRIBUTIONS.get(module, ()), module, module.replace("_", "-")]


@lru_cache(maxsize=1)
def _top_levels() -> dict[str, str]:
    """top-level module -> distribution, from the small top_level.txt files only (not RECORD,
    which is what made packages_distributions() the dominant cost of evidence), bounded in time."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + SCAN_SECONDS
    try:
        for dist in metadata.distributions():
            if time.monotonic() > deadline:
                break
            name = dist.metadata["Name"] if dist.metadata else None
            for top in (dist.read_text("top_level.txt") or "").split():
                if name:
                    found.setdefault(top, name)
    except Exception:  # a broken distribution's metadata must not fail evidence
        return found
    return found


@lru_cache(maxsize=256)
def _version(module: str) -> tuple[str, str] | None:
    """(distribution, version) of an import name, or None when it is not installed here."""
    for dist in _names(module):
        try:
            return dist, metadata.version(dist)
        except (metadata.PackageNotFoundError, ValueError):
            continue
    owner = _top_levels().get(module)
    if owner:
        try:
            return owner, metadata.version(owner)
        except (metadata.PackageNotFoundError, ValueError):
            return None
    return None


def package_versions(error: ErrorInfo | None) -> dict[str, str]:
    """distribution name -> version for the modules `error` involves (unknown ones skipped)."""
    if error is None:
        return {}
    versions: dict[str, str] = {}
    for module in involved_modules(error):
        found = _version(module)
        if found is not None:
            versions.setdefault(*found)
        if len(versions) >= MAX_PACKAGES:
            break
    return versions
