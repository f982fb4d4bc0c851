"""Statement builders and row <-> contract conversion, kept apart from the transaction logic."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from sqlalchemy import ColumnElement, Connection, Insert, Table, and_, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row

from patchit_provider.engine.models import (
    Artifact,
    AuditEvent,
    FailureEvent,
    Incident,
    IncidentState,
    Platform,
)
from patchit_provider.engine.store.errors import StoreError
from patchit_provider.engine.store.schema import artifacts, audit_events, incidents
from patchit_provider.engine.taxonomy import Category

# States after which PATCHIT does no more work on an incident: a new failure with the same
# fingerprint then opens a new incident instead of counting as an occurrence of the old one.
TERMINAL_STATES: frozenset[IncidentState] = frozenset(
    {
        IncidentState.PUBLISHED,
        IncidentState.ESCALATED,
        IncidentState.NO_PATCH,
        IncidentState.REJECTED,
        IncidentState.FAILED,
        IncidentState.GROUPED,
    }
)

# States in which an incident no longer takes new occurrences of its cause: a grouped one points
# elsewhere, and after a failed stage the work must be done again. An escalated or published
# incident stays open (as a Sentry issue does until resolved): the same cause again is counted.
CLOSED_STATES: frozenset[IncidentState] = frozenset({IncidentState.FAILED, IncidentState.GROUPED})


def dump(model: BaseModel) -> str:
    """JSON of a contract, refusing one that would not read back: `model_copy(update=...)`
    skips validation, and a wrong-typed field would otherwise be stored and fail every read."""
    try:
        return model.model_dump_json(warnings="error")
    except PydanticSerializationError as exc:
        detail = " ".join(str(exc).split())
        raise StoreError(f"refusing to store a malformed {type(model).__name__}: {detail}") from None


def upsert_insert(conn: Connection, table: Table) -> Insert:
    """INSERT that supports ON CONFLICT on both backends (same syntax, dialect-specific class)."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _value(item: Any) -> str | None:
    return None if item is None else getattr(item, "value", item)


def incident_columns(incident: Incident) -> dict[str, Any]:
    """The indexed columns, derived from the model so they can never disagree with `doc`."""
    triage = incident.triage
    event = incident.event
    return {
        "fingerprint": incident.fingerprint or (triage.fingerprint if triage else None),
        "state": _value(incident.state),
        "pipeline_id": event.pipeline_id,
        "run_id": event.run_id,
        "task_id": event.task_id,
        "platform": _value(event.platform),
        "category": _value(triage.category) if triage else None,
        "outcome": _value(incident.outcome),
        "summary": triage.summary if triage else None,
        "updated_at": incident.updated_at,
        "doc": dump(incident),
    }


def row_to_incident(row: Row) -> Incident:
    incident = Incident.model_validate_json(row.doc)
    # The counter column is authoritative: add_occurrence bumps it without rewriting doc.
    if incident.occurrences != row.occurrences:
        incident = incident.model_copy(update={"occurrences": row.occurrences})
    return incident


def row_to_audit(row: Row) -> AuditEvent:
    return AuditEvent(
        incident_id=row.incident_id,
        seq=row.seq,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        message=row.message,
        data=json.loads(row.data),
    )


def audit_values(event: AuditEvent, seq: int) -> dict[str, Any]:
    return {
        "incident_id": event.incident_id,
        "seq": seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "message": event.message,
        # pydantic's JSON mode, as for every other contract (datetimes, enums inside `data`).
        "data": json.dumps(event.model_dump(mode="json")["data"]),
    }


def row_to_artifact(row: Row) -> Artifact:
    return Artifact(
        incident_id=row.incident_id,
        name=row.name,
        media_type=row.media_type,
        content=row.content,
        created_at=row.created_at,
    )


def event_json(event: FailureEvent) -> str:
    return dump(event)


def incident_filters(
    *,
    state: IncidentState | str | None = None,
    category: Category | str | None = None,
    pipeline_id: str | None = None,
    platform: Platform | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> ColumnElement[bool]:
    """WHERE clause shared by list_incidents and count_incidents, so page and total agree.
    `since` is inclusive, `until` exclusive (adjacent windows do not overlap)."""
    c = incidents.c
    clauses: list[ColumnElement[bool]] = []
    if state is not None:
        clauses.append(c.state == _value(state))
    else:  # grouped incidents are occurrences of another one: listed only when asked for
        clauses.append(c.state != IncidentState.GROUPED.value)
    if category is not None:
        clauses.append(c.category == _value(category))
    if pipeline_id is not None:
        clauses.append(c.pipeline_id == pipeline_id)
    if platform is not None:
        clauses.append(c.platform == _value(platform))
    if since is not None:
        clauses.append(c.created_at >= since)
    if until is not None:
        clauses.append(c.created_at < until)
    term = (search or "").strip()
    if term:
        clauses.append(
            or_(
                c.fingerprint.startswith(term, autoescape=True),
                c.incident_id.icontains(term, autoescape=True),
                c.pipeline_id.icontains(term, autoescape=True),
                c.task_id.icontains(term, autoescape=True),
                c.summary.icontains(term, autoescape=True),
            )
        )
    return and_(True, *clauses)


__all__ = [
    "TERMINAL_STATES",
    "CLOSED_STATES",
    "artifacts",
    "audit_events",
    "audit_values",
    "event_json",
    "incident_columns",
    "incident_filters",
    "row_to_artifact",
    "row_to_audit",
    "row_to_incident",
    "upsert_insert",
]
