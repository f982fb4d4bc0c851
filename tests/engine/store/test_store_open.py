"""Opening the store: schema creation, versioning, URLs, timeouts and clear errors."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from store_factories import event

from patchit_provider.engine.models import AuditEvent
from patchit_provider.engine.store import (
    SCHEMA_VERSION,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
    default_sqlite_url,
    open_store,
)
from patchit_provider.engine.store.engine import parse_url
from patchit_provider.engine.store.schema import schema_version


def test_default_sqlite_url_lives_under_airflow_home(tmp_path):
    url = default_sqlite_url(tmp_path / "home")
    assert url == f"sqlite:///{tmp_path / 'home' / 'patchit' / 'patchit.db'}"
    assert (tmp_path / "home" / "patchit").is_dir()
    with open_store(url) as store:
        store.create_incident(event())
    assert (tmp_path / "home" / "patchit" / "patchit.db").is_file()


def test_sqlite_is_wal_with_foreign_keys_and_busy_timeout(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'x.db'}", timeout=12) as store, store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 12_000


def test_postgres_session_has_timeouts(pg_schema_url):
    with open_store(pg_schema_url, timeout=7) as store, store._engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "7s"
        assert conn.execute(text("SHOW TimeZone")).scalar() == "UTC"
        # The test schema from the URL's options is kept alongside ours.
        assert conn.execute(text("SHOW search_path")).scalar().startswith("patchit_test_")


def test_reopen_keeps_data_and_records_schema_version(store_url):
    with open_store(store_url) as store:
        incident, _ = store.create_incident(event())
    with open_store(store_url) as store:  # schema creation is idempotent
        assert store.get_incident(incident.incident_id) == incident
        assert store.schema_version == SCHEMA_VERSION
        with store._engine.connect() as conn:
            assert conn.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]


def test_newer_schema_is_refused(store_url):
    with open_store(store_url) as store, store._engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(store_url)


def test_bare_postgresql_url_uses_psycopg():
    """Airflow connections give `postgresql://`; PATCHIT ships only the psycopg 3 driver."""
    assert parse_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"


def test_unsupported_or_invalid_url_is_a_store_error():
    with pytest.raises(StoreError, match="unsupported"):
        open_store("mysql://u:secret@h/db")
    with pytest.raises(StoreError):
        open_store("not a url")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_postgres_fails_fast_with_clear_error():
    url = f"postgresql+psycopg://patchit:s3cret@127.0.0.1:{_closed_port()}/patchit"
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError) as info:
        open_store(url)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert f"127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}/patchit" in message
    assert "s3cret" not in message and "***" in message


def test_silent_postgres_server_times_out(tmp_path):
    """A host that accepts TCP but never answers: connect_timeout bounds the wait."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        start = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            open_store(f"postgresql+psycopg://u@127.0.0.1:{port}/db", connect_timeout=1)
        assert time.monotonic() - start < 5
    finally:
        server.close()


def test_locked_database_gives_store_error_not_a_hang(store_url):
    """Another writer holds the lock past our timeout: the call fails with a clear error."""
    with open_store(store_url) as holder:
        incident, _ = holder.create_incident(event())
        with open_store(store_url, timeout=0.5) as store:
            with holder._write() as conn:  # SQLite: the write lock; PostgreSQL: the incident's row lock
                conn.execute(
                    text("UPDATE incidents SET occurrences = occurrences WHERE incident_id = :i"),
                    {"i": incident.incident_id},
                )
                start = time.monotonic()
                with pytest.raises(StoreUnavailableError, match="unavailable"):
                    store.save_incident(incident)
                assert time.monotonic() - start < 5
        # Once released, writes work again.
        holder.save_incident(incident)


def test_store_is_usable_from_threads(store):
    incident, _ = store.create_incident(event())
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="t"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [e.seq for e in store.audit_trail(incident.incident_id)] == list(range(1, 41))


def test_relative_sqlite_path_parent_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///nested/dir/p.db") as store:
        store.create_incident(event())
    assert Path(tmp_path / "nested" / "dir" / "p.db").is_file()
