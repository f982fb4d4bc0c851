"""The notification ledger of the incident store: what went to which sink when, what was held back.

It lives in the store, not in a process, so that every worker (any executor, any host) shares
one rate limit per sink. Each decision is one write transaction, serialized per sink (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory lock on the sink), so two workers never both take the
last slot of a window, and a held-back notification is reported by exactly one summary.
Functions take the IncidentStore, so incidents.py stays about incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, insert, select, text, update

from patchit_provider.engine.models import utcnow
from patchit_provider.engine.store.schema import notifications as ledger

if TYPE_CHECKING:
    from patchit_provider.engine.store.incidents import IncidentStore

SUMMARY = "summary"
SENDING, SENT, FAILED, SUPPRESSED = "sending", "sent", "failed", "suppressed"


@dataclass(frozen=True)
class Summary:
    """Held-back notifications claimed for one summary message."""

    row_id: int
    sink: str
    notifications: int
    incidents: int
    groups: list[tuple[str, str, int]]  # (category, pipeline, incidents), largest first
    since: datetime


@dataclass(frozen=True)
class Reservation:
    """The limiter's answer: `row_id` is the message's ledger row when it may be sent (None:
    held back); `summary`, when set, was claimed by this call and is to be sent first."""

    row_id: int | None
    summary: Summary | None = None

    @property
    def suppressed(self) -> bool:
        return self.row_id is None


def reserve_notification(
    store: IncidentStore,
    *,
    sink: str,
    thread_key: str,
    incident_id: str | None,
    kind: str,
    category: str | None,
    pipeline_id: str | None,
    limit: int,
    window_seconds: float,
    now: datetime | None = None,
) -> Reservation:
    """Take a slot of the sink's window for this message, or hold it back for the next summary.

    Held-back notifications waiting for a summary are reported first, on the next free slot: the
    summary takes it, and the message goes too if a second slot is free (else it joins the summary).
    """
    now = now or utcnow()
    row = dict(
        sink=sink,
        thread_key=thread_key,
        incident_id=incident_id,
        kind=kind,
        category=category,
        pipeline_id=pipeline_id,
        sent_at=now,
    )
    with store.write() as conn:
        _lock(conn, sink)
        free = 0 if _paused(conn, sink, now) else limit - _used(conn, sink, now, window_seconds)
        if free <= 0:
            _insert(conn, row, suppressed=True, status=SUPPRESSED)
            return Reservation(None)
        if not _has_pending(conn, sink):
            return Reservation(_insert(conn, row, suppressed=False, status=SENDING))
        message_id = _insert(conn, row, suppressed=free < 2, status=SENDING if free >= 2 else SUPPRESSED)
        summary = _claim(conn, sink, now)
        return Reservation(message_id if free >= 2 else None, summary)


def claim_summary(
    store: IncidentStore, *, sink: str, limit: int, window_seconds: float, now: datetime | None = None
) -> Summary | None:
    """A summary of the held-back notifications when there are any and the window has a free slot."""
    now = now or utcnow()
    with store.write() as conn:
        _lock(conn, sink)
        if _paused(conn, sink, now) or _used(conn, sink, now, window_seconds) >= limit:
            return None
        if not _has_pending(conn, sink):
            return None
        return _claim(conn, sink, now)


def finish_notification(
    store: IncidentStore,
    row_id: int,
    *,
    delivered: bool,
    detail: str | None = None,
    retry_at: datetime | None = None,
    requeue: bool = False,
) -> None:
    """Record how a send ended. `requeue` (a retryable failure): the message is reported by the
    next summary instead, and a failed summary gives its notifications back to the next one."""
    values: dict[str, Any] = {"status": SENT if delivered else FAILED, "detail": detail, "retry_at": retry_at}
    if requeue and not delivered:
        values.update(suppressed=True, summary_id=None)
    with store.write() as conn:
        conn.execute(update(ledger).where(ledger.c.id == row_id).values(**values))
        if requeue and not delivered:
            conn.execute(update(ledger).where(ledger.c.summary_id == row_id).values(summary_id=None))


def list_notifications(store: IncidentStore, *, sink: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Ledger rows, oldest first (for the UI and tests)."""
    query = select(ledger).order_by(ledger.c.id).limit(max(0, int(limit)))
    if sink is not None:
        query = query.where(ledger.c.sink == sink)
    with store.read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- inside one write transaction ----------------------------------------------------------------


def _lock(conn: Connection, sink: str) -> None:
    if conn.dialect.name == "postgresql":  # SQLite write transactions are already serial
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"patchit-notify:{sink}"})


def _used(conn: Connection, sink: str, now: datetime, window_seconds: float) -> int:
    """Send attempts (delivered or not) in the window; held-back rows take no slot."""
    since = now - timedelta(seconds=window_seconds)
    return int(
        conn.execute(
            select(func.count())
            .select_from(ledger)
            .where(ledger.c.sink == sink, ledger.c.sent_at > since, ledger.c.status != SUPPRESSED)
        ).scalar_one()
    )


def _paused(conn: Connection, sink: str, now: datetime) -> bool:
    until = conn.execute(select(func.max(ledger.c.retry_at)).where(ledger.c.sink == sink)).scalar()
    return until is not None and until > now


def _pending(sink: str) -> Any:
    return and_(ledger.c.sink == sink, ledger.c.suppressed.is_(True), ledger.c.summary_id.is_(None))


def _has_pending(conn: Connection, sink: str) -> bool:
    return conn.execute(select(ledger.c.id).where(_pending(sink)).limit(1)).first() is not None


def _insert(conn: Connection, row: dict[str, Any], *, suppressed: bool, status: str) -> int:
    return int(
        conn.execute(
            insert(ledger).values(**row, suppressed=suppressed, status=status).returning(ledger.c.id)
        ).scalar_one()
    )


def _claim(conn: Connection, sink: str, now: datetime) -> Summary:
    summary_id = _insert(
        conn,
        dict(
            sink=sink,
            thread_key="patchit-summary",
            incident_id=None,
            kind=SUMMARY,
            category=None,
            pipeline_id=None,
            sent_at=now,
        ),
        suppressed=False,
        status=SENDING,
    )
    conn.execute(update(ledger).where(_pending(sink)).values(summary_id=summary_id))
    mine = ledger.c.summary_id == summary_id
    total, incidents, since = (
        conn.execute(
            select(func.count(), func.count(func.distinct(ledger.c.incident_id)), func.min(ledger.c.sent_at)).where(
                mine
            )
        )
        .one()
        ._tuple()
    )
    rows = conn.execute(
        select(ledger.c.category, ledger.c.pipeline_id, func.count(func.distinct(ledger.c.incident_id)).label("n"))
        .where(mine)
        .group_by(ledger.c.category, ledger.c.pipeline_id)
    ).all()
    groups = sorted(
        ((str(r.category or "unknown"), str(r.pipeline_id or "?"), int(r.n)) for r in rows),
        key=lambda g: (-g[2], g[0], g[1]),
    )
    return Summary(
        row_id=summary_id,
        sink=sink,
        notifications=int(total),
        incidents=int(incidents),
        groups=groups,
        since=since or now,
    )
