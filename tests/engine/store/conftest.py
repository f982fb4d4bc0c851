"""Fixtures for the incident store tests: every `store_url` test runs on SQLite and PostgreSQL.

PostgreSQL comes from PATCHIT_TEST_PG_URL (scripts/postgres.sh start prints it). Without it
the PostgreSQL cases skip, unless PATCHIT_REQUIRE_PG=1 (CI), where they fail instead. Each
PostgreSQL test gets a fresh schema (patchit_testing.pg_schema_url).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from patchit_testing import pg_schema_url  # noqa: F401  (a pytest fixture; tests/engine/test_notify.py reads it here)

from patchit_provider.engine.store import IncidentStore, open_store

# The suite imports in importlib mode; make store_factories importable by the tests here and by
# the processes the concurrency test spawns (they inherit sys.path).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patchit' / 'patchit.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url) -> Iterator[IncidentStore]:
    with open_store(store_url) as opened:
        yield opened
