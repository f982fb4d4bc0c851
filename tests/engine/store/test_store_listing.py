"""Listing for the UI and API: filters, newest first, paging, totals; fast at 10,000+."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from store_factories import event, triage, triaged

from patchit_provider.engine.models import Incident, IncidentState, Platform
from patchit_provider.engine.store import sql
from patchit_provider.engine.store.schema import incidents
from patchit_provider.engine.taxonomy import Category

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seed(store) -> list[Incident]:
    """Six incidents, one hour apart, in a known mix of states, categories and pipelines."""
    specs = [
        ("sales_daily", Platform.AIRFLOW, Category.SCHEMA_MISSING_COLUMN, IncidentState.TRIAGED, "fp-aa11"),
        ("sales_daily", Platform.DBT, Category.CODE_ERROR, IncidentState.PUBLISHED, "fp-bb22"),
        ("orders_100%_etl", Platform.AIRFLOW, Category.CODE_ERROR, IncidentState.TRIAGED, "fp-cc33"),
        ("orders_100%_etl", Platform.SPARK, Category.INFRA_NETWORK, IncidentState.ESCALATED, "fp-dd44"),
        ("billing", Platform.AIRFLOW, None, IncidentState.RECEIVED, None),
        ("billing", Platform.AIRFLOW, Category.DATA_QUALITY, IncidentState.ESCALATED, "fp-ee55"),
    ]
    out = []
    for n, (pipeline, platform, category, state, fp) in enumerate(specs):
        incident, _ = store.create_incident(event(pipeline, f"run-{n}", task=f"task_{n}", platform=platform))
        # Backdate creation so the order is known regardless of clock resolution.
        incident = incident.model_copy(update={"created_at": T0 + timedelta(hours=n)})
        with store._write() as conn:
            conn.execute(
                incidents.update()
                .where(incidents.c.incident_id == incident.incident_id)
                .values(created_at=incident.created_at)
            )
        if category is not None:
            incident = triaged(
                incident, state=state, category=category, fingerprint=fp, summary=f"Summary number {n} of {pipeline}"
            )
        out.append(store.save_incident(incident))
    return out


def ids(items) -> list[str]:
    return [i.incident_id for i in items]


def test_filters_and_counts_agree(store):
    made = seed(store)
    newest_first = ids(reversed(made))
    assert ids(store.list_incidents()) == newest_first
    cases = {
        (("state", IncidentState.ESCALATED),): [5, 3],
        (("state", "triaged"),): [2, 0],
        (("category", Category.CODE_ERROR),): [2, 1],
        (("pipeline_id", "billing"),): [5, 4],
        (("platform", Platform.AIRFLOW),): [5, 4, 2, 0],
        (("platform", "airflow"), ("state", "escalated")): [5],
        (("since", T0 + timedelta(hours=2)), ("until", T0 + timedelta(hours=4))): [3, 2],
        (("since", T0 + timedelta(hours=5)),): [5],
        (("until", T0),): [],
    }
    for filters, expected in cases.items():
        kwargs = dict(filters)
        assert ids(store.list_incidents(**kwargs)) == [made[i].incident_id for i in expected], kwargs
        assert store.count_incidents(**kwargs) == len(expected), kwargs


def test_search(store):
    made = seed(store)
    assert ids(store.list_incidents(search="fp-cc")) == [made[2].incident_id]  # fingerprint prefix
    assert ids(store.list_incidents(search="cc33")) == []  # not a prefix
    assert ids(store.list_incidents(search="SUMMARY NUMBER 1 ")) == [made[1].incident_id]  # summary, any case
    assert ids(store.list_incidents(search="task_4")) == [made[4].incident_id]  # task id
    assert ids(store.list_incidents(search=made[3].incident_id)) == [made[3].incident_id]
    assert store.count_incidents(search="100%") == 2  # pipeline; % is literal, not a wildcard
    assert store.count_incidents(search="1_0") == 0  # _ is literal too
    assert store.count_incidents(search="sales", state="published") == 1
    assert store.count_incidents(search="   ") == 6


def test_paging(store):
    made = seed(store)
    newest_first = ids(reversed(made))
    pages = [ids(store.list_incidents(limit=4, offset=o)) for o in (0, 4, 8)]
    assert pages == [newest_first[:4], newest_first[4:], []]
    assert store.list_incidents(limit=0) == []


def test_listing_ten_thousand_incidents(store, record_property):
    """Bulk-load 10,000 rows (as many create_incident calls would) and run the UI's queries on them.

    Their times are printed, not asserted: a wall-clock bound fails on a loaded machine, not on
    slow code. The speed figures are `benchmarks/ui_bench.py` (SQLite, or PostgreSQL with --store)."""
    base, _ = store.create_incident(event("seed", "run-0"))
    categories = list(Category)
    rows = []
    for n in range(10_000):
        inc = Incident(
            incident_id=f"inc-{n:012x}",
            event=event(f"pipe_{n % 100}", f"run-{n}"),
            created_at=T0 + timedelta(seconds=n),
        )
        if n % 3:
            inc = triaged(
                inc,
                state=IncidentState.ESCALATED if n % 2 else IncidentState.TRIAGED,
                category=categories[n % len(categories)],
                fingerprint=f"fp-{n % 500:04d}",
            )
        rows.append(
            {
                "incident_id": inc.incident_id,
                "event_id": inc.event.event_id,
                "created_at": inc.created_at,
                "occurrences": 1,
                "audit_seq": 0,
                **sql.incident_columns(inc),
            }
        )
    with store._write() as conn:
        conn.execute(insert(incidents), rows)

    queries = {
        "newest page": lambda: store.list_incidents(limit=50),
        "page 100": lambda: store.list_incidents(limit=50, offset=5000),
        "by state": lambda: store.list_incidents(state="escalated", limit=50),
        "by category": lambda: store.list_incidents(category=Category.CODE_ERROR, limit=50),
        "by pipeline": lambda: store.list_incidents(pipeline_id="pipe_7", limit=50),
        "count by state": lambda: store.count_incidents(state="triaged"),
        "count all": lambda: store.count_incidents(),
        "search": lambda: store.list_incidents(search="fp-0042", limit=50),
        "open by fingerprint": lambda: store.find_open_by_fingerprint("fp-0124"),
    }
    timings = {}
    for name, run in queries.items():
        run()  # warm
        start = time.perf_counter()
        result = run()
        timings[name] = round((time.perf_counter() - start) * 1000, 1)
        assert result is not None and result != []
    record_property("list_timings_ms", timings)
    print(f"\n[{store.dialect}] 10,001 incidents, query ms: {timings}")
    assert store.count_incidents() == 10_001
    assert ids(store.list_incidents(limit=2)) == [base.incident_id, f"inc-{9999:012x}"]
    assert store.get_incident(base.incident_id) == base
    assert triage().fingerprint  # factory sanity
