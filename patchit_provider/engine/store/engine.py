"""Engines for the two supported backends, each configured so that no call can hang.

SQLite: WAL (readers never block the one writer), a busy timeout (writers queue instead of
failing), foreign keys on, and BEGIN IMMEDIATE for writes, so a transaction that reads and
then writes takes the write lock up front and never fails half-way with "database is locked".
PostgreSQL (psycopg 3): connect_timeout, statement_timeout and lock_timeout, session in UTC.
Both: fork-safe (see `fork_safe`).
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from patchit_provider.engine.store.errors import StoreError

WRITE = "patchit_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def default_sqlite_url(airflow_home: str | Path) -> str:
    """`sqlite:///{AIRFLOW_HOME}/patchit/patchit.db`, creating the folder: the one place every
    Airflow process on the host (scheduler, workers, API server) can reach without set-up."""
    folder = Path(airflow_home).expanduser().resolve() / "patchit"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'patchit.db'}"


def parse_url(url: str | URL) -> URL:
    """Parse and normalize: a bare `postgresql://` (as Airflow connections give) means psycopg 3,
    the only PostgreSQL driver PATCHIT depends on."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise StoreError(f"unsupported store database {safe_url(parsed)}: use sqlite or postgresql")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL for messages and logs: password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def create_store_engine(url: URL, *, timeout: float, connect_timeout: float) -> Engine:
    if url.get_backend_name() == "sqlite":
        return fork_safe(_sqlite_engine(url, timeout))
    return fork_safe(_postgres_engine(url, timeout, connect_timeout))


# Airflow forks task processes (and the executors fork their workers) from processes that may
# hold an open store. A child that took a pooled connection it inherited would talk on its
# parent's PostgreSQL socket (the two interleave messages on one session) or use its parent's
# SQLite handle and lock state (which SQLite forbids across fork). So, in every forked child,
# each store engine drops the pool it inherited without closing anything in it (SQLAlchemy's
# `dispose(close=False)`: closing would end the parent's sessions, forgetting them does not, as
# psycopg 3 only ends a session in the process that opened it) and opens its own on first use.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def fork_safe(engine: Engine) -> Engine:
    """Register `engine` so that a forked child starts with an empty pool of its own. An
    in-memory SQLite database is left alone: it lives in the process's memory, the child's copy
    is its own, and a new connection would open an empty database without the schema."""
    if not (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")):
        _ENGINES.add(engine)
    return engine


def _drop_inherited_pools() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_pools)


def _sqlite_engine(url: URL, timeout: float) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": timeout, "check_same_thread": False}}
    if memory:  # one shared connection, or every checkout would see a different empty database
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Transactions are issued by the "begin" hook below, not by the sqlite3 module.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # Durable across process crashes in WAL mode, far fewer fsyncs than FULL.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def _postgres_engine(url: URL, timeout: float, connect_timeout: float) -> Engine:
    ms = int(timeout * 1000)
    # Keep any libpq `options` the URL carries (e.g. -csearch_path=...), add ours after.
    given = url.query.get("options")
    options = " ".join(
        part
        for part in (
            given if isinstance(given, str) else None,
            f"-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={ms * 2}",
            "-c timezone=UTC",
        )
        if part
    )
    return create_engine(
        url.difference_update_query(["options"]),
        connect_args={
            "connect_timeout": max(1, int(round(connect_timeout))),
            "options": options,
            "application_name": "patchit",
        },
        pool_pre_ping=True,
        pool_timeout=timeout,
        pool_size=5,
        max_overflow=5,
    )
