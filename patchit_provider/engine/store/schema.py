"""Tables of the incident store, and their idempotent creation.

JSON lives in TEXT columns written by pydantic (`model_dump_json`), so SQLite and PostgreSQL
store byte-identical documents and reading back is plain `model_validate_json`. Columns next
to the document exist only to filter, sort and count without parsing it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from patchit_provider.engine.store.errors import SchemaVersionError

# Bump when a migration is added to MIGRATIONS below.
SCHEMA_VERSION = 1

# Any constant works: it only serializes concurrent schema creation on one PostgreSQL database.
_PG_SCHEMA_LOCK = 0x5041_5443  # "PATC"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends: SQLite keeps no zone, so store naive UTC there
    and give the zone back on read; comparisons in filters then agree on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()

schema_version = Table(
    "patchit_schema_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(64), primary_key=True),
    Column("event_id", String(250), nullable=False, unique=True),
    Column("fingerprint", String(250)),
    Column("state", String(32), nullable=False),
    Column("pipeline_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("task_id", String(250)),
    Column("platform", String(32), nullable=False),
    Column("category", String(64)),
    Column("outcome", String(32)),
    Column("summary", Text),  # triage summary, for search
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Counters owned by the store (atomic UPDATE ... + 1); the document's copies are ignored.
    Column("occurrences", Integer, nullable=False, default=1),
    Column("audit_seq", Integer, nullable=False, default=0),
    Column("doc", Text, nullable=False),
)
# Every listing sorts by created_at: composite indexes serve filter and order at once.
Index("ix_incidents_created", incidents.c.created_at, incidents.c.incident_id)
Index("ix_incidents_state", incidents.c.state, incidents.c.created_at)
Index("ix_incidents_category", incidents.c.category, incidents.c.created_at)
Index("ix_incidents_pipeline", incidents.c.pipeline_id, incidents.c.created_at)
Index("ix_incidents_platform", incidents.c.platform, incidents.c.created_at)
Index("ix_incidents_fingerprint", incidents.c.fingerprint, incidents.c.created_at)

occurrences = Table(
    "occurrences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), ForeignKey("incidents.incident_id"), nullable=False),
    Column("event_id", String(250), nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("event", Text, nullable=False),
    # Per incident, not global: an event that opened its own incident can later be counted
    # as an occurrence of the older open incident with the same fingerprint.
    UniqueConstraint("incident_id", "event_id", name="uq_occurrences_incident_event"),
)
Index("ix_occurrences_event", occurrences.c.event_id)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), ForeignKey("incidents.incident_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(128), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("incident_id", "seq", name="uq_audit_incident_seq"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), ForeignKey("incidents.incident_id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("media_type", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("incident_id", "name", name="uq_artifacts_incident_name"),
)

# The notification ledger (engine/notify): one row per message sent or held back, per sink. It
# is here, not in a process, so every worker shares one rate limit. A new table needs no
# migration (create_all adds it to an existing database), so SCHEMA_VERSION stays as it is.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sink", String(250), nullable=False),
    Column("thread_key", String(250), nullable=False),
    Column("incident_id", String(64)),  # no foreign key: a summary has no incident
    Column("kind", String(32), nullable=False),  # the moment ("opened", ...) or "summary"
    Column("category", String(64)),
    Column("pipeline_id", String(250)),
    Column("sent_at", UTCDateTime, nullable=False),
    # Held back (rate limit, or a retryable failure): to be reported by the next summary.
    Column("suppressed", Boolean, nullable=False, default=False),
    Column("summary_id", Integer),  # the summary row that reported this held-back row
    Column("status", String(16), nullable=False),  # sending, sent, failed, suppressed
    Column("detail", Text),  # why a send failed (redacted)
    Column("retry_at", UTCDateTime),  # the sink asked to wait until then (HTTP 429 Retry-After)
)
Index("ix_notifications_sink_sent", notifications.c.sink, notifications.c.sent_at)
Index("ix_notifications_pending", notifications.c.sink, notifications.c.suppressed, notifications.c.summary_id)

# Rollout runs (engine/store/rollouts.py): one row per run (the RolloutRun document), and the
# clear journal: "about to clear member M" / "cleared M", so a retried task never clears twice.
# New tables, no migration (create_all adds them).
rollout_runs = Table(
    "rollout_runs",
    metadata,
    Column("rollout_id", String(250), primary_key=True),
    Column("subject", String(250), nullable=False),
    Column("state", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("doc", Text, nullable=False),
)
Index("ix_rollout_runs_subject", rollout_runs.c.subject, rollout_runs.c.created_at)
Index("ix_rollout_runs_created", rollout_runs.c.created_at, rollout_runs.c.rollout_id)

rollout_clears = Table(
    "rollout_clears",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", String(250), ForeignKey("rollout_runs.rollout_id"), nullable=False),
    Column("member", String(1100), nullable=False),
    Column("phase", String(16), nullable=False),  # "clearing" (about to clear), "cleared"
    Column("try_before", Integer),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("rollout_id", "member", "phase", name="uq_rollout_clears_member_phase"),
)

# Vulnerability findings (engine/store/vulns.py): one row per finding (the VulnRecord document);
# package, state and deadline beside it to filter and sort. New table, no migration.
vuln_findings = Table(
    "vuln_findings",
    metadata,
    Column("finding_id", String(250), primary_key=True),
    Column("repo", String(1000), nullable=False),
    Column("package", String(250), nullable=False),
    Column("state", String(32), nullable=False),
    Column("deadline", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("doc", Text, nullable=False),
)
Index("ix_vuln_findings_deadline", vuln_findings.c.deadline, vuln_findings.c.finding_id)

# version -> function(conn) bringing a database from version-1 to version. Empty for now.
MIGRATIONS: dict[int, object] = {}


def ensure_schema(conn: Connection) -> int:
    """Create missing tables and indexes, record or upgrade the schema version; returns it.

    Runs inside the caller's write transaction, which on SQLite is BEGIN IMMEDIATE and on
    PostgreSQL takes an advisory lock, so processes opening the store together do not race.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
    metadata.create_all(conn, checkfirst=True)
    now = datetime.now(timezone.utc)
    found = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1)).scalar()
    if found is None:
        conn.execute(insert(schema_version).values(id=1, version=SCHEMA_VERSION, updated_at=now))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"store schema version {found} is newer than this PATCHIT's {SCHEMA_VERSION}; upgrade PATCHIT"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)  # type: ignore[operator]
        conn.execute(schema_version.update().where(schema_version.c.id == 1).values(version=version, updated_at=now))
    return SCHEMA_VERSION
