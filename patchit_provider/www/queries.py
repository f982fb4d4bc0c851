"""Read-only queries of the UI, scoped to the DAGs a user may read.

The store's `list_incidents` filters by one pipeline; the UI needs "any of these N DAGs" inside
the same indexed query (so paging and counts never leak or skip hidden incidents), lists of
columns only (an incident document may hold a 256 KB log), and overview aggregates over every
visible incident. These are built here from the store's own tables and filter builder, on the
store's read connection; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select

from patchit_provider.engine.models import AuditKind, Incident, IncidentState, Outcome, Platform
from patchit_provider.engine.store import sql
from patchit_provider.engine.store.schema import audit_events, incidents
from patchit_provider.www.auth import Scope

# States in which PATCHIT is still working on an incident (pages refresh while one is listed).
RUNNING_STATES = frozenset(s for s in IncidentState if s not in sql.TERMINAL_STATES)

SUMMARY_COLUMNS = (
    incidents.c.incident_id,
    incidents.c.event_id,
    incidents.c.state,
    incidents.c.pipeline_id,
    incidents.c.run_id,
    incidents.c.task_id,
    incidents.c.platform,
    incidents.c.category,
    incidents.c.outcome,
    incidents.c.fingerprint,
    incidents.c.summary,
    incidents.c.occurrences,
    incidents.c.created_at,
    incidents.c.updated_at,
)


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    category: str | None = None
    pipeline_id: str | None = None
    platform: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None

    def store_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _read(store):
    # The store's read transaction (timeouts, error translation); no public equivalent yet.
    return store._read()


def visible(scope: Scope) -> ColumnElement[bool]:
    """SQL form of Scope.can_see."""
    c = incidents.c
    own = and_(c.platform == Platform.AIRFLOW.value, c.pipeline_id.in_(sorted(scope.dag_ids))) if scope.dag_ids else false()
    if scope.sees_external:
        return or_(own, c.platform != Platform.AIRFLOW.value)
    return own


def _where(scope: Scope, filters: Filters) -> ColumnElement[bool]:
    return and_(visible(scope), sql.incident_filters(**filters.store_kwargs()))


def list_summaries(store, scope: Scope, filters: Filters, limit: int, offset: int) -> list[dict[str, Any]]:
    """Newest first, columns only (the same order and filters as IncidentStore.list_incidents)."""
    stmt = (
        select(*SUMMARY_COLUMNS)
        .where(_where(scope, filters))
        .order_by(incidents.c.created_at.desc(), incidents.c.incident_id.desc())
        .limit(max(0, limit))
        .offset(max(0, offset))
    )
    with _read(store) as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def count(store, scope: Scope, filters: Filters) -> int:
    stmt = select(func.count()).select_from(incidents).where(_where(scope, filters))
    with _read(store) as conn:
        return int(conn.execute(stmt).scalar_one())


def get_visible(store, scope: Scope, incident_id: str) -> Incident | None:
    """The incident, or None when it does not exist or the user may not see it (same answer)."""
    incident = store.get_incident(incident_id)
    return incident if incident is not None and scope.can_see(incident) else None


def for_run(store, scope: Scope, dag_id: str, run_id: str, task_id: str | None) -> list[dict[str, Any]]:
    """Incidents of one DAG run (or one task of it), newest first."""
    c = incidents.c
    where = and_(visible(scope), c.platform == Platform.AIRFLOW.value, c.pipeline_id == dag_id, c.run_id == run_id)
    if task_id:
        where = and_(where, c.task_id == task_id)
    stmt = select(*SUMMARY_COLUMNS).where(where).order_by(c.created_at.desc(), c.incident_id.desc()).limit(50)
    with _read(store) as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def overview(store, scope: Scope, filters: Filters, top: int = 10) -> dict[str, Any]:
    """Figures of the overview page. Definitions (the test recomputes them from the store API):

    - failure time: the incident's first `event.received` audit event;
    - RCA time: its first `triage.completed` (the RCA report is written with the triage);
    - validated-patch time: its last `validation.finished`, for incidents whose outcome is
      `patch_validated` (the last validation decides the outcome);
    - fix rate: incidents with outcome `patch_validated` / incidents with any outcome.
    """
    c = incidents.c
    where = _where(scope, filters)
    with _read(store) as conn:
        total = int(conn.execute(select(func.count()).select_from(incidents).where(where)).scalar_one())
        by_category = _group(conn, func.coalesce(c.category, "untriaged"), where)
        by_outcome = _group(conn, func.coalesce(c.outcome, "pending"), where)
        by_state = _group(conn, c.state, where)
        failures = func.sum(c.occurrences)
        top_rows = conn.execute(
            select(c.pipeline_id, c.platform, func.count().label("incidents"), failures.label("failures"))
            .where(where)
            .group_by(c.pipeline_id, c.platform)
            .order_by(failures.desc(), func.count().desc(), c.pipeline_id)
            .limit(top)
        ).all()
        a = audit_events.c
        timing_rows = conn.execute(
            select(
                a.incident_id,
                func.min(case((a.kind == AuditKind.EVENT_RECEIVED, a.at))).label("received"),
                func.min(case((a.kind == AuditKind.TRIAGE_COMPLETED, a.at))).label("rca"),
                func.max(
                    case((and_(a.kind == AuditKind.VALIDATION_FINISHED, c.outcome == Outcome.PATCH_VALIDATED.value), a.at))
                ).label("validated"),
            )
            .select_from(audit_events.join(incidents, incidents.c.incident_id == a.incident_id))
            .where(where)
            .where(a.kind.in_([AuditKind.EVENT_RECEIVED, AuditKind.TRIAGE_COMPLETED, AuditKind.VALIDATION_FINISHED]))
            .group_by(a.incident_id)
        ).all()
    to_rca = [_seconds(r.received, r.rca) for r in timing_rows if r.received and r.rca]
    to_fix = [_seconds(r.received, r.validated) for r in timing_rows if r.received and r.validated]
    validated = by_outcome.get(Outcome.PATCH_VALIDATED.value, 0)
    decided = sum(n for key, n in by_outcome.items() if key != "pending")
    return {
        "total": total,
        "by_category": by_category,
        "by_outcome": by_outcome,
        "by_state": by_state,
        "mean_seconds_to_rca": _mean(to_rca),
        "rca_count": len(to_rca),
        "mean_seconds_to_validated_patch": _mean(to_fix),
        "validated_patch_count": len(to_fix),
        "fix_rate": round(validated / decided, 4) if decided else None,
        "top_pipelines": [
            {"pipeline_id": r.pipeline_id, "platform": r.platform, "incidents": int(r.incidents), "failures": int(r.failures or 0)}
            for r in top_rows
        ],
    }


def _group(conn, key, where) -> dict[str, int]:
    rows = conn.execute(select(key.label("key"), func.count()).where(where).group_by(key).order_by(func.count().desc(), key))
    return {str(k): int(n) for k, n in rows}


def _seconds(start: datetime, end: datetime) -> float:
    return (_aware(end) - _aware(start)).total_seconds()


def _aware(value: datetime | str) -> datetime:
    # min()/max() over CASE lose the column type on some backends: parse what comes back.
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
