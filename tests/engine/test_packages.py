"""package_versions: the versions of the packages a failure involves, found fast (they are
context for the triage, never worth seconds of metadata scanning)."""

from __future__ import annotations

import time
from importlib import metadata

from patchit_provider.engine import packages
from patchit_provider.engine.models import ErrorInfo, Frame


def _error(*modules: str, type_: str = "ValueError") -> ErrorInfo:
    frames = [Frame(path=f"/venv/lib/python3.11/site-packages/{m}/core.py", line=1) for m in modules]
    return ErrorInfo(type=type_, message="x", frames=frames)


def test_import_names_resolve_to_their_distributions():
    got = packages.package_versions(_error("yaml", "airflow", type_="pandas.errors.ParserError"))
    assert got["pandas"] == metadata.version("pandas")
    assert got["PyYAML"] == metadata.version("PyYAML")  # import name yaml, distribution PyYAML
    assert got["apache-airflow"] == metadata.version("apache-airflow")


def test_a_module_that_is_not_installed_is_skipped_within_the_scan_bound():
    packages._version.cache_clear()
    packages._top_levels.cache_clear()
    started = time.monotonic()
    got = packages.package_versions(_error("no_such_module_patchit_xyz", "pendulum"))
    assert "no_such_module_patchit_xyz" not in got and got["pendulum"] == metadata.version("pendulum")
    assert time.monotonic() - started < packages.SCAN_SECONDS + 1.0


def test_stdlib_frames_and_no_error_give_nothing():
    assert packages.package_versions(None) == {}
    assert packages.package_versions(_error("json", "collections")) == {}
