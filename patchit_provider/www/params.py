"""Query parameters shared by the pages and the JSON API.

Empty strings (what an HTML form sends for "any") mean "no filter"; unknown enum values are a
clear 422 instead of an empty list that looks like "no incidents".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status

from patchit_provider.engine.models import IncidentState, Platform
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www.queries import Filters

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def _enum(value: str | None, enum: type[Enum], name: str) -> str | None:
    if not value:
        return None
    allowed = {item.value for item in enum}
    if value not in allowed:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown {name} {value!r}; one of: {', '.join(sorted(allowed))}"
        )
    return value


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} must be an ISO 8601 date/time") from None
    parsed = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
    try:  # the store compares in UTC: 9999-12-31T23:59-14:00 overflowed there (a 503)
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} is out of range") from None


def filters(
    state: Annotated[str | None, Query(description="Incident state")] = None,
    category: Annotated[str | None, Query(description="Failure category (taxonomy id)")] = None,
    dag_id: Annotated[str | None, Query(description="DAG / pipeline id", max_length=250)] = None,
    platform: Annotated[str | None, Query()] = None,
    window: Annotated[str | None, Query(description="Created within: 1h, 24h, 7d, 30d")] = None,
    since: Annotated[str | None, Query(description="Created at or after (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="Created before (ISO 8601)")] = None,
    q: Annotated[str | None, Query(description="Fingerprint prefix or text", max_length=200)] = None,
) -> Filters:
    start = _time(since, "since")
    if window:
        if window not in WINDOWS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"window must be one of {', '.join(WINDOWS)}")
        start = max(filter(None, [start, datetime.now(timezone.utc) - WINDOWS[window]]))
    return Filters(
        state=_enum(state, IncidentState, "state"),
        category=_enum(category, Category, "category"),
        pipeline_id=dag_id or None,
        platform=_enum(platform, Platform, "platform"),
        since=start,
        until=_time(until, "until"),
        search=(q or "").strip() or None,
    )


FiltersDep = Annotated[Filters, Depends(filters)]


def echo(state=None, category=None, dag_id=None, platform=None, window=None, since=None, until=None, q=None) -> dict:
    """The raw filter values, to refill the form and build paging links."""
    return {k: v for k, v in locals().items() if v}
