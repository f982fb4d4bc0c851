"""Webhook notifications on the Airflow side: the engine's Notifier, posting through the http
provider's HttpHook to the connections named by `[patchit] notify_conn_ids`.

A webhook is an HTTP connection: host = the full webhook URL (for Slack, the incoming-webhook URL,
which is itself the secret, so it lives in a connection and never in a log), extra
`{"format": "slack" | "json", "incident_url": "https://.../{incident_id}", "timeout": 10}`.
The hook owns the HTTP; this module only maps a response onto the engine's PostError.

    remediator = Remediator(store, settings, notifier=build_notifier(store, settings))
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from patchit_provider.engine.notify import Notifier, PostError, Sink

if TYPE_CHECKING:
    from patchit_provider.engine.settings import PatchitSettings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0  # seconds per POST: a notification must not hold up a remediation task
# Our keys in the connection's extra. HttpHook sends unknown extras as request headers; a header
# set to None is dropped by requests, so these never leave as headers.
OWN_EXTRAS = ("format", "incident_url")


class HookPost:
    """`post(url, json_body)` for the engine, one HttpHook per webhook connection."""

    def __init__(self, conn_ids: dict[str, str], timeouts: dict[str, float] | None = None) -> None:
        self.conn_ids = conn_ids  # webhook URL -> connection id
        self.timeouts = timeouts or {}

    def __call__(self, url: str, body: dict[str, Any]) -> None:
        from airflow.providers.http.hooks.http import HttpHook
        from requests.exceptions import RequestException

        conn_id = self.conn_ids[url]
        hook = HttpHook(method="POST", http_conn_id=conn_id)
        try:
            response = hook.run(
                json=body,
                headers={"Content-Type": "application/json", **{key: None for key in OWN_EXTRAS}},
                extra_options={"timeout": self.timeouts.get(url, DEFAULT_TIMEOUT), "check_response": False},
            )
        except RequestException as exc:  # connection refused, timeout, TLS: worth another try later
            raise PostError(f"webhook {conn_id}: {type(exc).__name__}", retryable=True) from None
        check_response(conn_id, response.status_code, response.text, response.headers.get("Retry-After"))


def check_response(conn_id: str, status: int, text: str, retry_after: str | None = None) -> None:
    """Slack answers 200 "ok"; otherwise a status and an error string (invalid_payload,
    channel_not_found, ...), and 429 with Retry-After when we post too fast."""
    if 200 <= status < 300:
        return
    wait = _seconds(retry_after) if status == 429 else None
    raise PostError(
        f"webhook {conn_id} answered {status}: {' '.join(text.split())[:200]}", status=status, retry_after=wait
    )


def sinks_from_connections(conn_ids: list[str]) -> tuple[list[Sink], dict[str, float]]:
    """A Sink per usable connection (a broken one is logged and skipped), and the POST timeouts."""
    from airflow.providers.http.hooks.http import HttpHook

    sinks: list[Sink] = []
    timeouts: dict[str, float] = {}
    for conn_id in conn_ids:
        try:
            hook = HttpHook(method="POST", http_conn_id=conn_id)
            extra = hook.get_connection(conn_id).extra_dejson
            url = hook.url_from_endpoint(None)
            sink = Sink(conn_id, url, str(extra.get("format") or "slack").lower(), str(extra.get("incident_url") or ""))
            timeouts[url] = float(extra.get("timeout") or DEFAULT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - one bad connection must not silence the others
            log.warning("PATCHIT notifications: connection %r skipped: %s", conn_id, exc)
            continue
        sinks.append(sink)
    return sinks, timeouts


def build_notifier(store: Any, settings: PatchitSettings | None = None) -> Notifier | None:
    """The Notifier for the Remediator, or None when no webhook is configured."""
    if settings is None:
        from patchit_provider.config import load_settings

        settings = load_settings()
    if not settings.notify_conn_ids:
        return None
    sinks, timeouts = sinks_from_connections(settings.notify_conn_ids)
    if not sinks:
        return None
    post = HookPost({sink.url: sink.name for sink in sinks}, timeouts)
    return Notifier(sinks, post, store, limit=settings.notify_rate_limit, window_seconds=settings.notify_window_seconds)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: wait one window step rather than parse it
        return 60.0
