"""IncidentStore: the incidents of PATCHIT with their occurrences, audit trail and artifacts.

One short transaction per call. Writes that must be race-free are single atomic statements
(counter UPDATE ... + 1, INSERT ... ON CONFLICT) inside a write transaction, so they hold on
SQLite (one writer at a time, BEGIN IMMEDIATE) and PostgreSQL (row locks, READ COMMITTED)
alike. Every write redacts what it stores (engine.redaction), so no caller can bypass it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.engine import URL

from patchit_provider.engine.models import (
    EVERYTHING,
    Artifact,
    AuditEvent,
    FailureEvent,
    Incident,
    IncidentFilter,
    IncidentState,
    Platform,
    Visibility,
    utcnow,
)
from patchit_provider.engine.redaction import redact_artifact_content, redact_obj
from patchit_provider.engine.store import queries, sql
from patchit_provider.engine.store.database import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, StoreDatabase
from patchit_provider.engine.store.errors import IncidentNotFoundError, StoreError
from patchit_provider.engine.store.schema import artifacts, audit_events, incidents, occurrences


def new_incident_id() -> str:
    """Short enough to say aloud and type in a URL, random enough never to collide."""
    return "inc-" + secrets.token_hex(6)


def open_store(
    url: str | URL, *, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> IncidentStore:
    """Open (and create or upgrade the schema of) the store at `url`: `sqlite:///path` or
    `postgresql+psycopg://user:pw@host/db`. Connects at once, so a bad URL fails here."""
    return IncidentStore(url, timeout=timeout, connect_timeout=connect_timeout)


class IncidentStore(StoreDatabase):
    """Connection plumbing (engine, schema on open, read()/write(), error translation, fork
    safety): StoreDatabase."""

    label = "incident store"

    # -- incidents --------------------------------------------------------------------------

    def create_incident(self, event: FailureEvent) -> tuple[Incident, bool]:
        """A new incident for `event`, or (the incident already holding it, False): capture may
        deliver the same failure twice (listener and notifier, retried triggers)."""
        event = redact_obj(event)[0]
        for _ in range(3):
            with self.write() as conn:
                existing = self._by_event(conn, event.event_id)
                if existing is not None:
                    return existing, False
                now = utcnow()
                incident = Incident(incident_id=new_incident_id(), event=event, created_at=now, updated_at=now)
                stmt = (
                    sql.upsert_insert(conn, incidents)
                    .values(
                        incident_id=incident.incident_id,
                        event_id=event.event_id,
                        created_at=now,
                        occurrences=1,
                        audit_seq=0,
                        **sql.incident_columns(incident),
                    )
                    .on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(incidents.c.incident_id)  # rowcount is unreliable with RETURNING
                )
                if conn.execute(stmt).first() is not None:
                    conn.execute(
                        insert(occurrences).values(
                            incident_id=incident.incident_id,
                            event_id=event.event_id,
                            detected_at=event.detected_at,
                            event=sql.event_json(event),
                        )
                    )
                    return incident, True
                # Lost a race on PostgreSQL: the winner has committed; read its incident.
                existing = self._by_event(conn, event.event_id)
                if existing is not None:
                    return existing, False
        raise StoreError(f"incident store {self.safe_url}: could not create incident for {event.event_id}")

    def get_incident(self, incident_id: str) -> Incident | None:
        with self.read() as conn:
            row = conn.execute(select(incidents).where(incidents.c.incident_id == incident_id)).first()
        return sql.row_to_incident(row) if row else None

    def get_incident_by_event(self, event_id: str) -> Incident | None:
        """The incident `event_id` opened, else the newest one it was counted as an occurrence of."""
        with self.read() as conn:
            return self._by_event(conn, event_id)

    def _by_event(self, conn: Connection, event_id: str) -> Incident | None:
        row = conn.execute(select(incidents).where(incidents.c.event_id == event_id)).first()
        if row is None:
            row = conn.execute(
                select(incidents)
                .join(occurrences, occurrences.c.incident_id == incidents.c.incident_id)
                .where(occurrences.c.event_id == event_id)
                .order_by(incidents.c.created_at.desc())
                .limit(1)
            ).first()
        return sql.row_to_incident(row) if row else None

    def save_incident(self, incident: Incident) -> Incident:
        """Store the whole incident (each stage's output) and refresh the indexed columns.
        `occurrences` is not written: add_occurrence owns that counter."""
        saved: Incident = redact_obj(incident.model_copy(update={"updated_at": utcnow()}))[0]
        with self.write() as conn:
            count = conn.execute(
                update(incidents)
                .where(incidents.c.incident_id == saved.incident_id)
                .values(**sql.incident_columns(saved))
            ).rowcount
            if count != 1:
                raise IncidentNotFoundError(f"no incident {saved.incident_id!r} in {self.safe_url}")
            current: int = conn.execute(
                select(incidents.c.occurrences).where(incidents.c.incident_id == saved.incident_id)
            ).scalar_one()
        return saved.model_copy(update={"occurrences": current})

    def find_open_by_fingerprint(
        self,
        fingerprint: str,
        *,
        exclude: str | None = None,
        platform: Platform | str | None = None,
        pipeline_id: str | None = None,
    ) -> Incident | None:
        """The oldest incident with this fingerprint that still takes occurrences of its cause;
        with `platform` / `pipeline_id`, only within that scope (the one grouping uses)."""
        with self.read() as conn:
            return self._open_by_fingerprint(conn, fingerprint, exclude, platform, pipeline_id)

    def _open_by_fingerprint(
        self,
        conn: Connection,
        fingerprint: str,
        exclude: str | None,
        platform: Platform | str | None = None,
        pipeline_id: str | None = None,
    ) -> Incident | None:
        query = (
            select(incidents)
            .where(incidents.c.fingerprint == fingerprint)
            .where(incidents.c.state.not_in([s.value for s in sql.CLOSED_STATES]))
            .order_by(incidents.c.created_at.asc(), incidents.c.incident_id.asc())
            .limit(1)
        )
        if exclude is not None:
            query = query.where(incidents.c.incident_id != exclude)
        if platform is not None:
            query = query.where(incidents.c.platform == getattr(platform, "value", platform))
        if pipeline_id is not None:
            query = query.where(incidents.c.pipeline_id == pipeline_id)
        row = conn.execute(query).first()
        return sql.row_to_incident(row) if row else None

    def group_by_fingerprint(self, incident: Incident) -> Incident | None:
        """Count `incident` as an occurrence of the open incident with its fingerprint in the same
        (platform, pipeline_id) scope, if there is one, and mark it grouped; atomically, so a storm
        of the same cause opens one incident. Never across scopes: an incident's page shows its
        occurrences to the readers of its own DAG only. Returns the incident it was grouped into,
        or None when it stays on its own."""
        if not incident.fingerprint:
            return None
        incident = redact_obj(incident)[0]
        event = incident.event
        fingerprint = incident.fingerprint or ""
        with self.write() as conn:
            if conn.dialect.name == "postgresql":  # serialize per scope (SQLite writes are already serial)
                key = "\x1f".join((event.platform.value, event.pipeline_id, fingerprint))
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            primary = self._open_by_fingerprint(
                conn, fingerprint, incident.incident_id, event.platform, event.pipeline_id
            )
            if primary is None:
                return None
            inserted = conn.execute(
                sql.upsert_insert(conn, occurrences)
                .values(
                    incident_id=primary.incident_id,
                    event_id=event.event_id,
                    detected_at=event.detected_at,
                    event=sql.event_json(event),
                )
                .on_conflict_do_nothing(index_elements=["incident_id", "event_id"])
                .returning(occurrences.c.id)
            ).first()
            if inserted is not None:
                conn.execute(
                    update(incidents)
                    .where(incidents.c.incident_id == primary.incident_id)
                    .values(occurrences=incidents.c.occurrences + 1)
                )
            grouped = incident.model_copy(
                update={"state": IncidentState.GROUPED, "grouped_into": primary.incident_id, "updated_at": utcnow()}
            )
            conn.execute(
                update(incidents)
                .where(incidents.c.incident_id == incident.incident_id)
                .values(**sql.incident_columns(grouped))
            )
        return self.get_incident(primary.incident_id)

    def bulk_load(self, items: list[Incident], audit: list[AuditEvent] | None = None) -> None:
        """Insert new incidents (and audit events of them, seq as given) in one transaction:
        imports, benchmarks and test fixtures. Redacted like every other write."""
        rows = []
        for incident in items:
            incident = redact_obj(incident)[0]
            rows.append(
                {
                    "incident_id": incident.incident_id,
                    "event_id": incident.event.event_id,
                    "created_at": incident.created_at,
                    "occurrences": incident.occurrences,
                    "audit_seq": 0,
                    **sql.incident_columns(incident),
                }
            )
        trail = [redact_obj(event)[0] for event in audit or []]
        with self.write() as conn:
            if rows:
                conn.execute(insert(incidents), rows)
            if trail:
                conn.execute(insert(audit_events), [sql.audit_values(e, e.seq or 0) for e in trail])
                seqs: dict[str, int] = {}
                for e in trail:
                    seqs[e.incident_id] = max(seqs.get(e.incident_id, 0), e.seq or 0)
                for incident_id, seq in seqs.items():
                    conn.execute(update(incidents).where(incidents.c.incident_id == incident_id).values(audit_seq=seq))

    # -- occurrences ------------------------------------------------------------------------

    def add_occurrence(self, incident_id: str, event: FailureEvent) -> bool:
        """Count `event` as another occurrence of the incident; False if it already was."""
        event = redact_obj(event)[0]
        with self.write() as conn:
            self._require(conn, incident_id)
            stmt = (
                sql.upsert_insert(conn, occurrences)
                .values(
                    incident_id=incident_id,
                    event_id=event.event_id,
                    detected_at=event.detected_at,
                    event=sql.event_json(event),
                )
                .on_conflict_do_nothing(index_elements=["incident_id", "event_id"])
                .returning(occurrences.c.id)  # a row back means it was inserted
            )
            if conn.execute(stmt).first() is None:
                return False
            conn.execute(
                update(incidents)
                .where(incidents.c.incident_id == incident_id)
                .values(occurrences=incidents.c.occurrences + 1)
            )
            return True

    def occurrences(self, incident_id: str) -> list[FailureEvent]:
        """Every event counted for the incident, first one first."""
        with self.read() as conn:
            rows = conn.execute(
                select(occurrences.c.event)
                .where(occurrences.c.incident_id == incident_id)
                .order_by(occurrences.c.detected_at, occurrences.c.id)
            ).all()
        return [FailureEvent.model_validate_json(row.event) for row in rows]

    def _require(self, conn: Connection, incident_id: str) -> None:
        if conn.execute(select(incidents.c.incident_id).where(incidents.c.incident_id == incident_id)).first() is None:
            raise IncidentNotFoundError(f"no incident {incident_id!r} in {self.safe_url}")

    # -- audit trail ------------------------------------------------------------------------

    def audit(
        self,
        incident_id: str,
        kind: str,
        *,
        actor: str,
        message: str = "",
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEvent:
        """The one way into the audit trail: who (`actor`: "patchit", a user name, a DAG) did
        what (`kind`, an AuditKind) to which incident. Returns the stored event with its seq."""
        if not actor.strip():
            raise StoreError("an audit event needs an actor")
        event = AuditEvent(
            incident_id=incident_id, kind=kind, actor=actor, message=message, data=data or {}, at=at or utcnow()
        )
        return self._append_audit(event)

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        """`audit()` for an event already built (its actor included)."""
        return self.audit(
            event.incident_id, event.kind, actor=event.actor, message=event.message, data=event.data, at=event.at
        )

    def _append_audit(self, event: AuditEvent) -> AuditEvent:
        """Append to the incident's trail; seq is 1, 2, 3, ... per incident with no gaps, even
        with many writers (the counter bump row-locks the incident until commit)."""
        event = redact_obj(event)[0]
        with self.write() as conn:
            bumped = conn.execute(
                update(incidents)
                .where(incidents.c.incident_id == event.incident_id)
                .values(audit_seq=incidents.c.audit_seq + 1)
            ).rowcount
            if bumped != 1:
                raise IncidentNotFoundError(f"no incident {event.incident_id!r} in {self.safe_url}")
            seq: int = conn.execute(
                select(incidents.c.audit_seq).where(incidents.c.incident_id == event.incident_id)
            ).scalar_one()
            conn.execute(insert(audit_events).values(**sql.audit_values(event, seq)))
        return event.model_copy(update={"seq": seq})

    def audit_trail(self, incident_id: str) -> list[AuditEvent]:
        with self.read() as conn:
            rows = conn.execute(
                select(audit_events).where(audit_events.c.incident_id == incident_id).order_by(audit_events.c.seq)
            ).all()
        return [sql.row_to_audit(row) for row in rows]

    # -- artifacts --------------------------------------------------------------------------

    def put_artifact(self, artifact: Artifact) -> None:
        """Insert or replace the incident's artifact of that name (a re-run stage overwrites)."""
        values = artifact.model_dump(include={"incident_id", "name", "media_type", "content", "created_at"})
        values["content"] = redact_artifact_content(artifact.name, artifact.media_type, artifact.content)
        with self.write() as conn:
            self._require(conn, artifact.incident_id)
            stmt = sql.upsert_insert(conn, artifacts).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["incident_id", "name"],
                    set_={
                        "media_type": stmt.excluded.media_type,
                        "content": stmt.excluded.content,
                        "created_at": stmt.excluded.created_at,
                    },
                )
            )

    def get_artifact(self, incident_id: str, name: str) -> Artifact | None:
        with self.read() as conn:
            row = conn.execute(
                select(artifacts).where(artifacts.c.incident_id == incident_id, artifacts.c.name == name)
            ).first()
        return sql.row_to_artifact(row) if row else None

    def list_artifacts(self, incident_id: str) -> list[str]:
        """Artifact names of the incident, sorted."""
        with self.read() as conn:
            return list(
                conn.execute(
                    select(artifacts.c.name).where(artifacts.c.incident_id == incident_id).order_by(artifacts.c.name)
                ).scalars()
            )

    # -- queries: one filter model, one visibility predicate ----------------------------------

    def list_incidents(
        self,
        flt: IncidentFilter | None = None,
        /,
        *,
        visibility: Visibility = EVERYTHING,
        limit: int = 50,
        offset: int = 0,
        **fields: Any,
    ) -> list[Incident]:
        """Whole incidents, newest first, paged (at most MAX_PAGE). The filter is an
        IncidentFilter, or its fields as keywords (`state=..., pipeline_id=...`)."""
        stmt = queries.listing(_filter(flt, fields), visibility, limit, offset)
        with self.read() as conn:
            rows = conn.execute(stmt).all()
        return [sql.row_to_incident(row) for row in rows]

    def count_incidents(
        self, flt: IncidentFilter | None = None, /, *, visibility: Visibility = EVERYTHING, **fields: Any
    ) -> int:
        """How many incidents list_incidents pages through (same filter, same visibility)."""
        with self.read() as conn:
            return int(conn.execute(queries.counting(_filter(flt, fields), visibility)).scalar_one())

    def list_summaries(
        self, flt: IncidentFilter, visibility: Visibility, *, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Listing rows (queries.SUMMARY_COLUMNS, no documents) in list_incidents' order."""
        stmt = queries.listing(flt, visibility, limit, offset, *queries.SUMMARY_COLUMNS)
        with self.read() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]

    def page_summaries(
        self, flt: IncidentFilter, visibility: Visibility, *, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, listing rows) read in one transaction, so the total matches the page."""
        with self.read() as conn:
            total = int(conn.execute(queries.counting(flt, visibility)).scalar_one())
            stmt = queries.listing(flt, visibility, limit, offset, *queries.SUMMARY_COLUMNS)
            return total, [dict(row._mapping) for row in conn.execute(stmt)]

    def run_summaries(
        self, visibility: Visibility, *, dag_id: str, run_id: str, task_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Listing rows of one Airflow DAG run (or one task of it), newest first."""
        with self.read() as conn:
            return [
                dict(row._mapping) for row in conn.execute(queries.of_run(visibility, dag_id, run_id, task_id, limit))
            ]

    def overview(self, flt: IncidentFilter, visibility: Visibility, *, top: int = 10) -> dict[str, Any]:
        """Counts by category, outcome and state, mean times to RCA and to a validated patch,
        fix rate and the `top` pipelines by failures: aggregates computed by the database."""
        with self.read() as conn:
            return queries.overview(conn, flt, visibility, top)

    def get_visible(self, incident_id: str, visibility: Visibility) -> Incident | None:
        """The incident, or None when it does not exist or the caller may not read it (one answer)."""
        incident = self.get_incident(incident_id)
        return incident if incident is not None and visibility.allows(incident) else None


def _filter(flt: IncidentFilter | None, fields: dict[str, Any]) -> IncidentFilter:
    """The filter model, from a model or from its fields given as keywords (None: any)."""
    if flt is not None and fields:
        raise TypeError("give an IncidentFilter or filter keywords, not both")
    if flt is not None:
        return flt
    return IncidentFilter.model_validate({k: v for k, v in fields.items() if v is not None})
