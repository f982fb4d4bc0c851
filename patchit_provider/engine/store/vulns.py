"""VulnStore: vulnerability findings (VulnRecord documents) in the incident store's database.

Same database as IncidentStore, through its own engine, with the same plumbing (StoreDatabase:
timeouts, schema on open, read()/write() transactions, error translation, fork safety), so
nothing here reaches into IncidentStore's internals. `add` is idempotent by finding id (a
repeated report or scan returns the stored record, its state and links kept); `save` writes a
record's new state and links. Every document is redacted on the way in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import URL

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import VulnRecord, utcnow
from patchit_provider.engine.redaction import redact_obj
from patchit_provider.engine.store import sql
from patchit_provider.engine.store.database import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, StoreDatabase
from patchit_provider.engine.store.errors import StoreError
from patchit_provider.engine.store.schema import vuln_findings

MAX_LIST = 10_000


class FindingNotFoundError(StoreError, NotFoundError):
    """A write referred to a finding id the store does not hold."""


class VulnStore(StoreDatabase):
    label = "vulnerability store"

    @staticmethod
    def _columns(record: VulnRecord) -> dict[str, Any]:
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
        with self.write() as conn:
            stmt = (
                sql.upsert_insert(conn, vuln_findings)
                .values(finding_id=record.finding_id, created_at=record.created_at, **self._columns(record))
                .on_conflict_do_nothing(index_elements=["finding_id"])
                .returning(vuln_findings.c.finding_id)
            )
            created = conn.execute(stmt).first() is not None
            if created:
                return record, True
            doc: str = conn.execute(
                select(vuln_findings.c.doc).where(vuln_findings.c.finding_id == record.finding_id)
            ).scalar_one()
        return VulnRecord.model_validate_json(doc), False

    def save(self, record: VulnRecord) -> VulnRecord:
        record = redact_obj(record.model_copy(update={"updated_at": utcnow()}))[0]
        with self.write() as conn:
            count = conn.execute(
                update(vuln_findings)
                .where(vuln_findings.c.finding_id == record.finding_id)
                .values(**self._columns(record))
            ).rowcount
        if count != 1:
            raise FindingNotFoundError(f"no finding {record.finding_id!r} in {self.safe_url}")
        return record

    def get(self, finding_id: str) -> VulnRecord | None:
        with self.read() as conn:
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
        with self.read() as conn:
            docs: list[str] = list(conn.execute(query).scalars())
        return [VulnRecord.model_validate_json(doc) for doc in docs]


def open_vulns(
    url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> VulnStore:
    """The findings of the store at `url` (an IncidentStore's `url` names the same database)."""
    return VulnStore(url, timeout=timeout, connect_timeout=connect_timeout)
