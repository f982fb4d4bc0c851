"""RolloutStore: rollout run records and the clear journal, in the incident store's database.

Same database as IncidentStore, through its own engine, with the same plumbing (StoreDatabase:
timeouts, schema on open, read()/write() transactions, error translation, fork safety), so
nothing here reaches into IncidentStore's internals.

The clear journal is what makes a retried rollout task safe: the executor writes "clearing M"
before it asks Airflow to clear member M and "cleared M" after; both are idempotent inserts
(a unique constraint per rollout, member and phase), so a resumed task knows which members
were already cleared and never clears one twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import URL

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import RolloutRun, utcnow
from patchit_provider.engine.redaction import redact_obj
from patchit_provider.engine.store import sql
from patchit_provider.engine.store.database import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, StoreDatabase
from patchit_provider.engine.store.errors import StoreError
from patchit_provider.engine.store.schema import rollout_clears, rollout_runs

CLEARING = "clearing"
CLEARED = "cleared"


class RolloutNotFoundError(StoreError, NotFoundError):
    """A write referred to a rollout id the store does not hold."""


def new_rollout_id() -> str:
    return "ro-" + secrets.token_hex(6)


def open_rollouts(
    url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> RolloutStore:
    """The rollout records of the store at `url` (an IncidentStore's `url` names the same database)."""
    return RolloutStore(url, timeout=timeout, connect_timeout=connect_timeout)


class RolloutStore(StoreDatabase):
    label = "rollout store"

    # -- runs -------------------------------------------------------------------------------

    def create(self, run: RolloutRun) -> RolloutRun:
        run = redact_obj(run)[0]
        with self.write() as conn:
            conn.execute(
                insert(rollout_runs).values(
                    rollout_id=run.rollout_id,
                    subject=run.subject,
                    state=run.state.value,
                    created_at=run.created_at,
                    updated_at=run.updated_at,
                    doc=sql.dump(run),
                )
            )
        return run

    def save(self, run: RolloutRun) -> RolloutRun:
        run = redact_obj(run.model_copy(update={"updated_at": utcnow()}))[0]
        with self.write() as conn:
            count = conn.execute(
                update(rollout_runs)
                .where(rollout_runs.c.rollout_id == run.rollout_id)
                .values(state=run.state.value, updated_at=run.updated_at, doc=sql.dump(run))
            ).rowcount
        if count != 1:
            raise RolloutNotFoundError(f"no rollout {run.rollout_id!r} in {self.safe_url}")
        return run

    def get(self, rollout_id: str) -> RolloutRun | None:
        with self.read() as conn:
            doc = conn.execute(select(rollout_runs.c.doc).where(rollout_runs.c.rollout_id == rollout_id)).scalar()
        return RolloutRun.model_validate_json(doc) if doc is not None else None

    def list(self, *, subject: str | None = None, since: datetime | None = None, limit: int = 1000) -> list[RolloutRun]:
        """Runs newest first (for the UI and the KPIs)."""
        query = select(rollout_runs.c.doc).order_by(rollout_runs.c.created_at.desc()).limit(max(0, int(limit)))
        if subject is not None:
            query = query.where(rollout_runs.c.subject == subject)
        if since is not None:
            query = query.where(rollout_runs.c.created_at >= since)
        with self.read() as conn:
            docs: list[str] = list(conn.execute(query).scalars())
        return [RolloutRun.model_validate_json(doc) for doc in docs]

    def modify(self, rollout_id: str, change: Callable[[RolloutRun], RolloutRun]) -> RolloutRun:
        """Read, change and write one run in ONE write transaction (the row locked on PostgreSQL,
        the database on SQLite): two people editing or approving at once never lose an update.
        `change` gets the stored run and returns the run to store; what it raises propagates and
        nothing is written. For the UI's edits and decisions (www/rollouts.py)."""
        with self.write() as conn:
            doc = conn.execute(
                select(rollout_runs.c.doc).where(rollout_runs.c.rollout_id == rollout_id).with_for_update()
            ).scalar()
            if doc is None:
                raise RolloutNotFoundError(f"no rollout {rollout_id!r} in {self.safe_url}")
            run = change(RolloutRun.model_validate_json(doc))
            run = redact_obj(run.model_copy(update={"updated_at": utcnow()}))[0]
            assert isinstance(run, RolloutRun)
            conn.execute(
                update(rollout_runs)
                .where(rollout_runs.c.rollout_id == rollout_id)
                .values(state=run.state.value, updated_at=run.updated_at, doc=sql.dump(run))
            )
        return run

    # -- the clear journal ------------------------------------------------------------------

    def mark(self, rollout_id: str, member: str, phase: str, *, try_before: int | None = None) -> bool:
        """Record a phase of clearing `member`; False when it was already recorded."""
        if phase not in (CLEARING, CLEARED):
            raise ValueError(f"unknown clear phase {phase!r}")
        with self.write() as conn:
            stmt = (
                sql.upsert_insert(conn, rollout_clears)
                .values(rollout_id=rollout_id, member=member, phase=phase, try_before=try_before, at=utcnow())
                .on_conflict_do_nothing(index_elements=["rollout_id", "member", "phase"])
                .returning(rollout_clears.c.id)
            )
            return conn.execute(stmt).first() is not None

    def marks(self, rollout_id: str) -> dict[str, dict[str, Any]]:
        """member -> {phase: {"at": ..., "try_before": ...}} for every journal entry of the rollout."""
        with self.read() as conn:
            rows = conn.execute(
                select(
                    rollout_clears.c.member, rollout_clears.c.phase, rollout_clears.c.at, rollout_clears.c.try_before
                )
                .where(rollout_clears.c.rollout_id == rollout_id)
                .order_by(rollout_clears.c.id)
            ).all()
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            out.setdefault(row.member, {})[row.phase] = {"at": row.at, "try_before": row.try_before}
        return out
