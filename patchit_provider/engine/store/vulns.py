"""VulnStore: vulnerability findings (VulnRecord documents) in the incident store's database.

Same database, engine settings and schema creation as IncidentStore, through its own engine (as
RolloutStore does), so nothing here reaches into IncidentStore's internals. `add` is idempotent
by finding id (a repeated report or scan returns the stored record, its state and links kept);
`save` writes a record's new state and links. Every document is redacted on the way in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import VulnRecord, utcnow
from patchit_provider.engine.redaction import redact_obj
from patchit_provider.engine.store import sql
from patchit_provider.engine.store.engine import (
    WRITE,
    create_store_engine,
    parse_url,
    safe_url,
)
from patchit_provider.engine.store.errors import StoreError, StoreUnavailableError
from patchit_provider.engine.store.schema import ensure_schema, vuln_findings

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 5.0
MAX_LIST = 10_000


class FindingNotFoundError(StoreError, NotFoundError):
    """A write referred to a finding id the store does not hold."""


class VulnStore:
    def __init__(
        self, url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        self.url = parse_url(url)
        self.safe_url = safe_url(self.url)
        self._engine: Engine = create_store_engine(self.url, timeout=timeout, connect_timeout=connect_timeout)
        try:
            with self._conn(True) as conn:
                ensure_schema(conn)
        except BaseException:
            self._engine.dispose()
            raise

    @contextmanager
    def _conn(self, write: bool) -> Iterator[Connection]:
        try:
            options = {WRITE: True} if write else {}
            with self._engine.connect().execution_options(**options) as conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            cls = StoreUnavailableError if isinstance(exc, (OperationalError, InterfaceError)) else StoreError
            raise cls(f"vulnerability store {self.safe_url}: {str(exc.orig).strip().splitlines()[0:1]}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"vulnerability store {self.safe_url}: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> VulnStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _columns(record: VulnRecord) -> dict:
        return {
            "repo": record.repo,
            "package": record.finding.package,
            "state": record.state,
            "deadline": record.finding.deadline,
            "updated_at": record.updated_at,
            "doc": sql.dump(record),
        }

    def add(self, record: VulnRecord) -> tuple[VulnRecord, bool]:
        """(stored record, created): a finding already stored is returned as it is (idempotent)."""
        record = redact_obj(record)[0]
        with self._conn(True) as conn:
            stmt = (
                sql.upsert_insert(conn, vuln_findings)
                .values(finding_id=record.finding_id, created_at=record.created_at, **self._columns(record))
                .on_conflict_do_nothing(index_elements=["finding_id"])
                .returning(vuln_findings.c.finding_id)
            )
            created = conn.execute(stmt).first() is not None
            if created:
                return record, True
            doc = conn.execute(
                select(vuln_findings.c.doc).where(vuln_findings.c.finding_id == record.finding_id)
            ).scalar_one()
        return VulnRecord.model_validate_json(doc), False

    def save(self, record: VulnRecord) -> VulnRecord:
        record = redact_obj(record.model_copy(update={"updated_at": utcnow()}))[0]
        with self._conn(True) as conn:
            count = conn.execute(
                update(vuln_findings)
                .where(vuln_findings.c.finding_id == record.finding_id)
                .values(**self._columns(record))
            ).rowcount
        if count != 1:
            raise FindingNotFoundError(f"no finding {record.finding_id!r} in {self.safe_url}")
        return record

    def get(self, finding_id: str) -> VulnRecord | None:
        with self._conn(False) as conn:
            doc = conn.execute(select(vuln_findings.c.doc).where(vuln_findings.c.finding_id == finding_id)).scalar()
        return VulnRecord.model_validate_json(doc) if doc is not None else None

    def list(self, *, state: str | None = None, repo: str | None = None, limit: int = 1000) -> list[VulnRecord]:
        """Findings by deadline (soonest first), then id."""
        query = (
            select(vuln_findings.c.doc)
            .order_by(vuln_findings.c.deadline, vuln_findings.c.finding_id)
            .limit(max(0, min(int(limit), MAX_LIST)))
        )
        if state is not None:
            query = query.where(vuln_findings.c.state == state)
        if repo is not None:
            query = query.where(vuln_findings.c.repo == repo)
        with self._conn(False) as conn:
            return [VulnRecord.model_validate_json(doc) for doc in conn.execute(query).scalars()]


def open_vulns(url: str | URL, **kwargs) -> VulnStore:
    """The findings of the store at `url` (an IncidentStore's `url` names the same database)."""
    return VulnStore(url, **kwargs)
