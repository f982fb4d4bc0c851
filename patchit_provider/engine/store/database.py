"""One database handle for every part of PATCHIT's store (incidents, rollouts, vulnerability findings).

Each store module used to open its own engine and translate driver errors its own way; the rollout
and findings stores lacked the fork safety the incident store had. This base holds that once: an
engine with timeouts, the schema ensured on open, read and write transactions (SQLite BEGIN
IMMEDIATE for writes), driver errors turned into StoreErrors that name the database, and a forked
child (Airflow forks task processes) never reusing its parent's pooled connections.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from patchit_provider.engine.store.engine import WRITE, create_store_engine, parse_url, safe_url
from patchit_provider.engine.store.errors import StoreError, StoreUnavailableError
from patchit_provider.engine.store.schema import ensure_schema

DEFAULT_TIMEOUT = 30.0  # seconds: SQLite busy timeout, PostgreSQL statement and lock timeout
DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to reach a PostgreSQL server

# A forked child must not reuse its parent's connections: it drops the inherited pools without
# closing the parent's sockets and opens its own.
_OPEN_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _drop_inherited_pools() -> None:
    for engine in list(_OPEN_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_pools)


def _first_line(exc: Any) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class StoreDatabase:
    """The connection plumbing of a store; subclasses add their tables' queries."""

    label = "store"  # names the store in error messages ("incident store", "rollout store", ...)

    def __init__(
        self, url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        self.url = parse_url(url)
        self.safe_url = safe_url(self.url)
        self._engine: Engine = create_store_engine(self.url, timeout=timeout, connect_timeout=connect_timeout)
        _OPEN_ENGINES.add(self._engine)
        try:
            with self.write() as conn:
                self.schema_version = ensure_schema(conn)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn driver errors into StoreErrors that say which database failed."""
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
        """One write transaction (timeouts, error translation, SQLite BEGIN IMMEDIATE)."""
        with self._guard(), self._engine.connect().execution_options(**{WRITE: True}) as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: a consistent snapshot for several statements."""
        with self._guard(), self._engine.connect() as conn:
            with conn.begin():
                yield conn

    _write = write  # the store's modules predating the public names
    _read = read

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.safe_url!r})"
