"""A rate limit per sink that every worker shares, kept in the incident store's ledger.

A storm must not become a flood: at most `limit` messages go to a sink in any `window_seconds`.
What is held back is counted in the ledger and reported by ONE summary on the next free slot
(the next notification, or `Notifier.flush()` once the window has rolled). The state is in the
store's database, not in a process, so it holds whatever executor runs the remediation tasks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from patchit_provider.engine.models import Incident, utcnow
from patchit_provider.engine.notify.messages import Moment, thread_key
from patchit_provider.engine.store.notifications import (
    Reservation,
    Summary,
    claim_summary,
    finish_notification,
    reserve_notification,
)

DEFAULT_LIMIT = 10
DEFAULT_WINDOW_SECONDS = 300
MAX_RETRY_AFTER = 3600.0  # a sink may pause us, but not for longer than an hour


class RateLimiter:
    def __init__(
        self,
        store: Any,
        *,
        limit: int = DEFAULT_LIMIT,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("the notification rate limit needs limit >= 1 and window_seconds > 0")
        self.store = store
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock  # tests move time forward

    def acquire(self, sink: str, incident: Incident, moment: Moment) -> Reservation:
        """A slot for this message, or a hold-back; possibly with a summary to send first."""
        triage = incident.triage
        return reserve_notification(
            self.store,
            sink=sink,
            thread_key=thread_key(incident),
            incident_id=incident.incident_id,
            kind=moment.value,
            category=triage.category.value if triage else None,
            pipeline_id=incident.event.pipeline_id,
            limit=self.limit,
            window_seconds=self.window_seconds,
            now=self.clock(),
        )

    def pending_summary(self, sink: str) -> Summary | None:
        """Claim the held-back notifications for a summary, if a slot is free."""
        return claim_summary(
            self.store, sink=sink, limit=self.limit, window_seconds=self.window_seconds, now=self.clock()
        )

    def finished(
        self,
        row_id: int,
        *,
        delivered: bool,
        detail: str | None = None,
        retry_after: float | None = None,
        requeue: bool = False,
    ) -> None:
        retry_at = None
        if retry_after is not None and retry_after > 0:
            retry_at = self.clock() + timedelta(seconds=min(retry_after, MAX_RETRY_AFTER))
        finish_notification(self.store, row_id, delivered=delivered, detail=detail, retry_at=retry_at, requeue=requeue)
