"""HTTP for every backend: timeouts, bounded retries with backoff, typed errors.

Why one module: the retry rules (which statuses, how long to wait, when to give up) must be the
same whatever vendor answers. Retried: 408, 409, 429, 5xx, Anthropic's 529 and transport errors
(connection refused, reset, timeouts). `Retry-After` (seconds or an HTTP date; OpenAI's
`retry-after-ms` too) is honoured exactly; a wait longer than `max_wait` is not slept through
inside a task but raised as `LLMRateLimited` so the caller can reschedule. Without the header
the wait is `backoff * 2**attempt` (deterministic: one caller per incident, no herd to spread).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

import httpx

from patchit_provider.engine.llm.base import LLMAnswerError, LLMAuthError, LLMError, LLMRateLimited

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
RATE_LIMIT_STATUSES = frozenset({429, 529})


@dataclass
class HttpConfig:
    """Connection settings shared by the backends; `transport` and `sleep` are for tests."""

    base_url: str
    api_key: str = ""
    timeout: float = 60.0
    max_retries: int = 2
    backoff: float = 1.0
    max_wait: float = 60.0
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def client(self, headers: dict[str, str], *, timeout: float | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout if timeout is not None else self.timeout),
            transport=self.transport,
        )


def retry_after(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `Retry-After`, else None."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds: float = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(seconds, 0.0)


def error_detail(resp: httpx.Response) -> tuple[str, str | None]:
    """(message, vendor error type) from the documented error bodies.

    OpenAI: {"error": {"message", "type", "code"}}; Anthropic: {"type": "error", "error":
    {"type", "message"}}; Cursor: {"error": "...", "message": "..."}.
    """
    try:
        body = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return resp.text[:300].strip() or resp.reason_phrase, None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err)[:500], (err.get("type") or err.get("code") or None)
        if isinstance(err, str):
            return str(body.get("message") or err)[:500], err
        if "message" in body:
            return str(body["message"])[:500], None
    return str(body)[:300], None


def send(
    config: HttpConfig,
    client: httpx.Client,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    what: str,
) -> Any:
    """One request with bounded retries; returns the decoded JSON body of a 2xx answer."""
    attempts = max(config.max_retries, 0) + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            resp = client.request(method, path, json=json_body)
        except httpx.TransportError as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            if last:
                raise LLMError(f"{what} {kind} after {attempts} attempt(s): {exc!r}") from exc
            _wait(config, None, attempt, what, f"{kind}: {exc!r}")
            continue
        if resp.is_success:
            try:
                return resp.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise LLMAnswerError(
                    f"{what} answered {resp.status_code} with a body that is not JSON: {resp.text[:200]!r}"
                ) from exc
        message, vendor_type = error_detail(resp)
        status = resp.status_code
        if status in (401, 403):
            raise LLMAuthError(
                f"{what} answered {status} ({vendor_type or 'auth'}): {message}", status=status, vendor_type=vendor_type
            )
        if status not in RETRY_STATUSES:
            raise LLMError(
                f"{what} answered {status} ({vendor_type or 'error'}): {message}",
                status=status,
                vendor_type=vendor_type,
            )
        wait = retry_after(resp.headers)
        too_long = wait is not None and wait > config.max_wait
        if last or too_long:
            text = f"{what} answered {status} ({vendor_type or 'error'}) after {attempt + 1} attempt(s): {message}"
            if too_long:
                text += f" (Retry-After {wait:.0f}s exceeds the {config.max_wait:.0f}s we wait)"
            if status in RATE_LIMIT_STATUSES:
                raise LLMRateLimited(text, retry_after=wait, status=status, vendor_type=vendor_type)
            raise LLMError(text, status=status, vendor_type=vendor_type)
        _wait(config, wait, attempt, what, f"{status} {message}")
    raise AssertionError("unreachable")  # pragma: no cover


def _wait(config: HttpConfig, wait: float | None, attempt: int, what: str, why: str) -> None:
    delay = wait if wait is not None else min(config.backoff * (2**attempt), config.max_wait)
    log.warning("%s: %s; retrying in %.1fs", what, why, delay)
    config.sleep(delay)
