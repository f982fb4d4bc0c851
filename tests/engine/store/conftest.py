"""Fixtures for the incident store tests: every `store_url` test runs on SQLite and PostgreSQL.

PostgreSQL comes from PATCHIT_TEST_PG_URL (scripts/postgres.sh start prints it). Without it
the PostgreSQL cases skip, unless PATCHIT_REQUIRE_PG=1 (CI), where they fail instead. Each
PostgreSQL test gets a fresh schema, selected through the URL's libpq `options`.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from patchit_provider.engine.store import IncidentStore, open_store

PG_ENV = "PATCHIT_TEST_PG_URL"

# The suite imports in importlib mode; make store_factories importable by the tests here and by
# the processes the concurrency test spawns (they inherit sys.path).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def postgres_base_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        message = f'{PG_ENV} is not set (run: eval "$(scripts/postgres.sh start)")'
        if os.environ.get("PATCHIT_REQUIRE_PG") == "1":
            pytest.fail(f"PATCHIT_REQUIRE_PG=1 but {message}", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new, empty schema, dropped afterwards."""
    base = make_url(postgres_base_url())
    schema = "patchit_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, connect_args={"connect_timeout": 5})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patchit' / 'patchit.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url) -> Iterator[IncidentStore]:
    with open_store(store_url) as opened:
        yield opened
