"""Read queries over incidents: one filter model, one visibility predicate, ordering and paging.

Everything that lists, counts or aggregates incidents builds its WHERE clause here from an
`IncidentFilter` and a `Visibility`, so a page, its total and the overview always agree and
never leak an incident the caller may not read. Aggregates are computed by the database: the
overview reads a few rows whatever the number of incidents.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
)

from patchit_provider.engine.models import (
    MAX_PAGE,
    AuditKind,
    IncidentFilter,
    IncidentState,
    Outcome,
    Platform,
    Visibility,
)
from patchit_provider.engine.store.schema import audit_events, incidents, occurrences

c = incidents.c

# The columns of a listing row: an incident document may hold a 256 KB log, a page needs none of it.
SUMMARY_COLUMNS = (
    c.incident_id,
    c.event_id,
    c.state,
    c.pipeline_id,
    c.run_id,
    c.task_id,
    c.platform,
    c.category,
    c.outcome,
    c.fingerprint,
    c.summary,
    c.occurrences,
    c.created_at,
    c.updated_at,
)
NEWEST_FIRST = (c.created_at.desc(), c.incident_id.desc())


def page(limit: int, offset: int) -> tuple[int, int]:
    """Bounded paging: 0..MAX_PAGE rows from offset >= 0 (a caller pages beyond MAX_PAGE)."""
    return min(max(0, int(limit)), MAX_PAGE), max(0, int(offset))


def visible(visibility: Visibility) -> ColumnElement[bool]:
    """SQL form of Visibility.allows."""
    airflow = c.platform == Platform.AIRFLOW.value
    if visibility.dag_ids is None:
        own: ColumnElement[bool] = airflow
    elif visibility.dag_ids:
        own = and_(airflow, c.pipeline_id.in_(sorted(visibility.dag_ids)))
    else:
        own = false()
    if visibility.external:
        return true() if visibility.dag_ids is None else or_(own, c.platform != Platform.AIRFLOW.value)
    return own


def matching(flt: IncidentFilter) -> ColumnElement[bool]:
    """The filter's WHERE clause. `since` is inclusive, `until` exclusive (adjacent windows do
    not overlap); without a state, grouped incidents (occurrences of another one) are left out."""
    clauses: list[ColumnElement[bool]] = []
    if flt.state is not None:
        clauses.append(c.state == flt.state.value)
    else:
        clauses.append(c.state != IncidentState.GROUPED.value)
    if flt.category is not None:
        clauses.append(c.category == flt.category.value)
    if flt.pipeline_id is not None:
        clauses.append(c.pipeline_id == flt.pipeline_id)
    if flt.platform is not None:
        clauses.append(c.platform == flt.platform.value)
    if flt.since is not None:
        clauses.append(c.created_at >= flt.since)
    if flt.until is not None:
        clauses.append(c.created_at < flt.until)
    term = (flt.search or "").strip()
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
    return and_(true(), *clauses)


def where(flt: IncidentFilter, visibility: Visibility) -> ColumnElement[bool]:
    return and_(visible(visibility), matching(flt))


def listing(flt: IncidentFilter, visibility: Visibility, limit: int, offset: int, *columns: Any) -> Select[Any]:
    """Newest first, paged; whole rows unless `columns` are named."""
    limit, offset = page(limit, offset)
    cols = columns or (incidents,)
    return select(*cols).where(where(flt, visibility)).order_by(*NEWEST_FIRST).limit(limit).offset(offset)


def counting(flt: IncidentFilter, visibility: Visibility) -> Select[Any]:
    return select(func.count()).select_from(incidents).where(where(flt, visibility))


def of_run(visibility: Visibility, dag_id: str, run_id: str, task_id: str | None, limit: int) -> Select[Any]:
    """Listing rows of one Airflow DAG run (or one task of it), newest first."""
    clause = and_(
        visible(visibility), c.platform == Platform.AIRFLOW.value, c.pipeline_id == dag_id, c.run_id == run_id
    )
    if task_id:
        clause = and_(clause, c.task_id == task_id)
    return select(*SUMMARY_COLUMNS).where(clause).order_by(*NEWEST_FIRST).limit(page(limit, 0)[0])


def overview(conn: Connection, flt: IncidentFilter, visibility: Visibility, top: int) -> dict[str, Any]:
    """Figures of the overview page, each one SQL aggregate:

    - failure time: the failure's own end time (its event's `detected_at`, on the incident's
      occurrence row); `event.received` only for an incident without that row;
    - RCA time: its first `triage.completed` (the RCA report is written with the triage);
    - validated-patch time: its last `validation.finished`, for incidents whose outcome is
      `patch_validated` (the last validation decides the outcome);
    - fix rate: incidents with outcome `patch_validated` / incidents with any outcome.
    """
    clause = where(flt, visibility)
    # One scan for the total and the three breakdowns: counts per (category, outcome, state).
    cells = (
        conn.execute(
            select(func.coalesce(c.category, "untriaged"), func.coalesce(c.outcome, "pending"), c.state, func.count())
            .where(clause)
            .group_by(c.category, c.outcome, c.state)
        )
        .tuples()
        .all()
    )
    total = sum(int(n) for *_, n in cells)
    by_category = _tally((str(cat), int(n)) for cat, _, _, n in cells)
    by_outcome = _tally((str(out), int(n)) for _, out, _, n in cells)
    by_state = _tally((str(state), int(n)) for _, _, state, n in cells)
    failures = func.sum(c.occurrences)
    top_rows = conn.execute(
        select(c.pipeline_id, c.platform, func.count().label("incidents"), failures.label("failures"))
        .where(clause)
        .group_by(c.pipeline_id, c.platform)
        .order_by(failures.desc(), func.count().desc(), c.pipeline_id)
        .limit(max(0, int(top)))
    ).all()
    rca, rca_count, fix, fix_count = _timings(conn, clause)
    validated = by_outcome.get(Outcome.PATCH_VALIDATED.value, 0)
    decided = sum(n for key, n in by_outcome.items() if key != "pending")
    return {
        "total": total,
        "by_category": by_category,
        "by_outcome": by_outcome,
        "by_state": by_state,
        "mean_seconds_to_rca": rca,
        "rca_count": rca_count,
        "mean_seconds_to_validated_patch": fix,
        "validated_patch_count": fix_count,
        "fix_rate": round(validated / decided, 4) if decided else None,
        "top_pipelines": [
            {
                "pipeline_id": r.pipeline_id,
                "platform": r.platform,
                "incidents": int(r.incidents),
                "failures": int(r.failures or 0),
            }
            for r in top_rows
        ],
    }


def _tally(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts per key, largest first (ties by key), as the page lists them."""
    counts: dict[str, int] = {}
    for key, n in pairs:
        counts[key] = counts.get(key, 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _timings(conn: Connection, clause: ColumnElement[bool]) -> tuple[float | None, int, float | None, int]:
    """(mean seconds to RCA, incidents with an RCA time, mean seconds to a validated patch, incidents
    with one): per incident its first/last audit times, then the means, in one statement."""
    a = audit_events.c
    own = occurrences.c
    per_incident = (
        select(
            func.coalesce(func.min(own.detected_at), func.min(case((a.kind == AuditKind.EVENT_RECEIVED, a.at)))).label(
                "received"
            ),
            func.min(case((a.kind == AuditKind.TRIAGE_COMPLETED, a.at))).label("rca"),
            func.max(
                case((and_(a.kind == AuditKind.VALIDATION_FINISHED, c.outcome == Outcome.PATCH_VALIDATED.value), a.at))
            ).label("validated"),
        )
        .select_from(
            audit_events.join(incidents, c.incident_id == a.incident_id).outerjoin(
                occurrences, and_(own.incident_id == c.incident_id, own.event_id == c.event_id)
            )
        )
        .where(clause)
        .where(a.kind.in_([AuditKind.EVENT_RECEIVED, AuditKind.TRIAGE_COMPLETED, AuditKind.VALIDATION_FINISHED]))
        .group_by(a.incident_id)
        .subquery()
    )
    t = per_incident.c
    to_rca = _micros(conn, t.received, t.rca)
    to_fix = _micros(conn, t.received, t.validated)
    row = conn.execute(
        select(func.avg(to_rca), func.count(to_rca), func.avg(to_fix), func.count(to_fix)).select_from(per_incident)
    ).one()
    return _mean(row[0]), int(row[1]), _mean(row[2]), int(row[3])


def _micros(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """Microseconds from `start` to `end` (NULL when either is), exact on both backends: SQLite
    holds UTC datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text, PostgreSQL as timestamps."""
    if conn.dialect.name == "sqlite":

        def micros(value: Any) -> ColumnElement[Any]:
            return cast(func.strftime("%s", value), Integer) * 1_000_000 + cast(func.substr(value, 21, 6), Integer)

        return micros(end) - micros(start)
    return func.extract("epoch", end - start) * 1_000_000


def _mean(micros: Any) -> float | None:
    return None if micros is None else round(float(micros) / 1_000_000, 3)
