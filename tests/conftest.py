"""Fixtures every test folder can use."""

from __future__ import annotations

import sys

import pytest
from patchit_testing import pipeline_repo  # noqa: F401  (a pytest fixture)

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
