"""Statement builders and row <-> contract conversion, kept apart from the transaction logic."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row

from patchit_provider.engine.models import (
    CLOSED_STATES,
    TERMINAL_STATES,
    Artifact,
    AuditEvent,
    FailureEvent,
    Incident,
)
from patchit_provider.engine.store.errors import StoreError
from patchit_provider.engine.store.schema import artifacts, audit_events, incidents  # noqa: F401  (re-exported)


def dump(model: BaseModel) -> str:
    """JSON of a contract, refusing one that would not read back: `model_copy(update=...)`
    skips validation, and a wrong-typed field would otherwise be stored and fail every read."""
    try:
        return model.model_dump_json(warnings="error")
    except PydanticSerializationError as exc:
        detail = " ".join(str(exc).split())
        raise StoreError(f"refusing to store a malformed {type(model).__name__}: {detail}") from None


def upsert_insert(conn: Connection, table: Table) -> PgInsert | SqliteInsert:
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


def row_to_incident(row: Row[Any]) -> Incident:
    incident = Incident.model_validate_json(row.doc)
    # The counter column is authoritative: add_occurrence bumps it without rewriting doc.
    if incident.occurrences != row.occurrences:
        incident = incident.model_copy(update={"occurrences": row.occurrences})
    return incident


def row_to_audit(row: Row[Any]) -> AuditEvent:
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


def row_to_artifact(row: Row[Any]) -> Artifact:
    return Artifact(
        incident_id=row.incident_id,
        name=row.name,
        media_type=row.media_type,
        content=row.content,
        created_at=row.created_at,
    )


def event_json(event: FailureEvent) -> str:
    return dump(event)


__all__ = [
    "TERMINAL_STATES",
    "CLOSED_STATES",
    "artifacts",
    "audit_events",
    "audit_values",
    "event_json",
    "incident_columns",
    "row_to_artifact",
    "row_to_audit",
    "row_to_incident",
    "upsert_insert",
]
