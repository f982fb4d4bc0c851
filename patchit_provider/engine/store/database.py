"""StoreDatabase: the connection plumbing every PATCHIT store shares, written once.

IncidentStore (incidents.py), RolloutStore (rollouts.py) and VulnStore (vulns.py) keep their
tables in one database and subclass this base, which holds:

- the engine, with its timeouts (engine.py: SQLite busy timeout and WAL, PostgreSQL connect,
  statement and lock timeouts), and the schema created or upgraded when a store is opened;
- `read()` and `write()`: one transaction each (a write on SQLite takes the lock up front with
  BEGIN IMMEDIATE), committed on success, rolled back on error, the connection returned to the
  pool either way, so no transaction outlives the call that opened it;
- error translation: driver errors become `StoreUnavailableError` (connection, timeout, lock)
  or `StoreError` (anything else), one line naming the store and its URL, never its password;
- fork safety: a forked child (Airflow forks task processes) never reuses the connections it
  inherited (engine.py drops the pools of every store engine in the child, see `fork_safe`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from patchit_provider.engine.store.engine import WRITE, create_store_engine, parse_url, safe_url
from patchit_provider.engine.store.errors import StoreError, StoreUnavailableError
from patchit_provider.engine.store.schema import ensure_schema

DEFAULT_TIMEOUT = 30.0  # seconds: SQLite busy timeout, PostgreSQL statement and lock timeout
DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to reach a PostgreSQL server


class StoreDatabase:
    """One store's handle on the database; subclasses add their tables' queries and name
    themselves in `label` ("incident store", ...), which starts every error message."""

    label: ClassVar[str] = "store"

    def __init__(
        self, url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        """Connects at once (creating or upgrading the schema), so a bad URL fails here."""
        self.url = parse_url(url)
        self.safe_url = safe_url(self.url)
        self._engine: Engine = create_store_engine(self.url, timeout=timeout, connect_timeout=connect_timeout)
        try:
            with self.write() as conn:
                self.schema_version: int = ensure_schema(conn)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        """The backend: "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver errors into StoreErrors that say which store and database failed."""
        try:
            yield
        except DBAPIError as exc:
            unavailable = exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
            cls = StoreUnavailableError if unavailable else StoreError
            kind = "unavailable" if unavailable else "error"
            raise cls(f"{self.label} {self.safe_url} {kind}: {_first_line(exc.orig)}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"{self.label} {self.safe_url} error: {_first_line(exc)}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (timeouts, error translation, SQLite BEGIN IMMEDIATE), for the
        store's own modules (notification ledger) and bulk loads in tests and benchmarks."""
        with self.translate_errors(), self._engine.connect().execution_options(**{WRITE: True}) as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: a consistent snapshot for several statements."""
        with self.translate_errors(), self._engine.connect() as conn:
            with conn.begin():
                yield conn

    _write = write  # the names the store modules used before the public ones
    _read = read

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.safe_url!r})"


def _first_line(exc: Any) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
