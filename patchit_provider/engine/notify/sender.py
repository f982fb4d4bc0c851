"""Notifier: format, rate-limit and post one notification to every configured sink.

The HTTP client is injected (`post(url, json_body)`), so the engine has none of its own: the
Airflow side passes one built on the http provider's HttpHook, tests pass a list.append. A sink
that fails is logged and reported in the returned deliveries; nothing here ever raises into the
remediation, because a chat outage must not fail a patch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Literal

from patchit_provider.engine.errors import ExternalError
from patchit_provider.engine.models import Incident, utcnow
from patchit_provider.engine.notify.messages import FORMATS, Format, Moment, build_message, build_summary
from patchit_provider.engine.notify.ratelimit import DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS, RateLimiter
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.store.notifications import SUMMARY, Summary

log = logging.getLogger(__name__)

Post = Callable[[str, dict[str, Any]], None]


class PostError(ExternalError):
    """A sink refused a message. `retryable`: worth reporting again later (429, 5xx, network);
    `retry_after`: seconds the sink asked us to wait (HTTP 429 Retry-After)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable if retryable is not None else (status is None or status == 429 or status >= 500)


@dataclass(frozen=True)
class Sink:
    """A webhook: `name` keys the rate limit (the Airflow connection id), `url` is never logged."""

    name: str
    url: str
    format: Format = "slack"
    incident_url: str = ""  # link template with {incident_id}

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"notification sink {self.name!r}: format must be one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class Delivery:
    """What happened to one message on one sink."""

    sink: str
    kind: str  # the moment, or "summary"
    status: Literal["sent", "suppressed", "failed"]
    incident_id: str | None = None
    error: str | None = None


class Notifier:
    def __init__(
        self,
        sinks: Iterable[Sink],
        post: Post,
        store: Any,
        *,
        limit: int = DEFAULT_LIMIT,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sinks = list(sinks)
        self.post = post
        self.limiter = RateLimiter(store, limit=limit, window_seconds=window_seconds, clock=clock)

    def notify(self, incident: Incident, moment: Moment | str, *, detail: str = "") -> list[Delivery]:
        """Send (or hold back) the message for `incident` at `moment` on every sink. Never raises."""
        deliveries: list[Delivery] = []
        for sink in self.sinks:
            try:
                moment = Moment(moment)
                reservation = self.limiter.acquire(sink.name, incident, moment)
                if reservation.summary is not None:
                    deliveries.append(self._send_summary(sink, reservation.summary))
                if reservation.row_id is None:
                    deliveries.append(Delivery(sink.name, moment.value, "suppressed", incident.incident_id))
                    continue
                body = build_message(incident, moment, sink.format, detail=detail, incident_url=sink.incident_url)
                deliveries.append(self._send(sink, reservation.row_id, body, moment.value, incident.incident_id))
            except Exception as exc:  # noqa: BLE001 - the remediation must go on
                deliveries.append(self._failed(sink, str(getattr(moment, "value", moment)), incident.incident_id, exc))
        return deliveries

    def flush(self) -> list[Delivery]:
        """Send the pending summary of each sink whose window has a free slot (call it when the
        window has rolled and no new notification came to carry the summary). Never raises."""
        deliveries: list[Delivery] = []
        for sink in self.sinks:
            try:
                summary = self.limiter.pending_summary(sink.name)
                if summary is not None:
                    deliveries.append(self._send_summary(sink, summary))
            except Exception as exc:  # noqa: BLE001
                deliveries.append(self._failed(sink, SUMMARY, None, exc))
        return deliveries

    # -- one post ------------------------------------------------------------------------------

    def _send_summary(self, sink: Sink, summary: Summary) -> Delivery:
        body = build_summary(summary, sink.format, now=self.limiter.clock())
        return self._send(sink, summary.row_id, body, SUMMARY, None)

    def _send(self, sink: Sink, row_id: int, body: dict[str, Any], kind: str, incident_id: str | None) -> Delivery:
        try:
            self.post(sink.url, body)
        except Exception as exc:  # noqa: BLE001 - recorded below, never raised
            retryable = exc.retryable if isinstance(exc, PostError) else True
            retry_after = exc.retry_after if isinstance(exc, PostError) else None
            failed = self._failed(sink, kind, incident_id, exc)
            self.limiter.finished(
                row_id, delivered=False, detail=failed.error, retry_after=retry_after, requeue=retryable
            )
            return failed
        self.limiter.finished(row_id, delivered=True)
        return Delivery(sink.name, kind, "sent", incident_id)

    @staticmethod
    def _failed(sink: Sink, kind: str, incident_id: str | None, exc: BaseException) -> Delivery:
        # The URL of a webhook is its secret: it is removed from the message before redaction.
        error = redact(f"{type(exc).__name__}: {exc}".replace(sink.url, "<webhook url>"))[0][:500]
        log.warning("PATCHIT notification %s to %s failed: %s", kind, sink.name, error)
        return Delivery(sink.name, kind, "failed", incident_id, error)
