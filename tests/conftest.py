"""Fixtures every test folder can use."""

from __future__ import annotations

import sys

import pytest
from patchit_testing import pipeline_repo  # noqa: F401  (a pytest fixture)

# Folders whose tests share one expensive package-scoped service (tests/browser: one `airflow
# standalone` on a fixed port and one Chromium): the whole folder is one work unit.
_ONE_WORKER_FOLDERS = ("tests/browser/",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """The work units of `pytest -n N` (scripts/test.sh): a test file, so its module fixtures
    (a dbt project, a real Airflow run) are built once, on one worker; each folder of
    _ONE_WORKER_FOLDERS as a whole. xdist's own `--dist loadgroup` cannot do this under pytest 9,
    whose node ids no longer take the group suffix xdist 3.8 writes into `_nodeid`."""
    from xdist.scheduler import LoadFileScheduling

    class FileOrFolderScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            folder = next((f for f in _ONE_WORKER_FOLDERS if nodeid.startswith(f)), None)
            return folder or super()._split_scope(nodeid)

    return FileOrFolderScheduling(config, log)


# Both Airflow maskers (the task SDK's and core's keep separate instances, see hooks/masking.py).
_AIRFLOW_MASKERS = ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker")


@pytest.fixture(autouse=True)
def _fresh_secret_masking():
    """Exact-value masking is process-wide: PATCHIT's literal list (engine.redaction) and
    Airflow's secrets maskers. A value one test taught them (a connection password such as
    `admin`) would be masked in every later test of the process, so both are emptied after each
    test through their public reset APIs. Only modules already imported are touched: a unit test
    must not import Airflow here."""
    yield
    redaction = sys.modules.get("patchit_provider.engine.redaction")
    if redaction is not None:
        redaction.clear_secret_values()
    for name in _AIRFLOW_MASKERS:
        module = sys.modules.get(name)
        if module is not None:
            module.reset_secrets_masker()
