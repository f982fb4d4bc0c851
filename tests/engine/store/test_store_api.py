"""The store API: one IncidentFilter, one Visibility, bounded paging, SQL aggregates, and the one
audit write with an actor. Runs on SQLite and (with PATCHIT_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError
from store_factories import event, triaged

from patchit_provider.engine.models import (
    AuditEvent,
    AuditKind,
    Incident,
    IncidentFilter,
    IncidentState,
    Outcome,
    Platform,
    Visibility,
)
from patchit_provider.engine.store import StoreError, queries
from patchit_provider.engine.taxonomy import Category

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[3]


def seed(store) -> dict[str, Incident]:
    """sales (Airflow), hr (Airflow), a dbt model and a Spark job: one incident each."""
    made = {}
    for n, (pipeline, platform) in enumerate(
        [("sales", Platform.AIRFLOW), ("hr", Platform.AIRFLOW), ("models", Platform.DBT), ("etl", Platform.SPARK)]
    ):
        incident, _ = store.create_incident(
            event(pipeline, f"r{n}", platform=platform, detected_at=T0 + timedelta(hours=n))
        )
        made[pipeline] = store.save_incident(
            triaged(
                incident, category=Category.CODE_ERROR if n % 2 else Category.DATA_QUALITY, fingerprint=f"fp-{pipeline}"
            )
        )
    return made


def ids(rows) -> list[str]:
    return [r["incident_id"] if isinstance(r, dict) else r.incident_id for r in rows]


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        (Visibility(), ["etl", "models", "hr", "sales"]),
        (Visibility(dag_ids=frozenset({"sales"}), external=False), ["sales"]),
        (Visibility(dag_ids=frozenset({"sales", "nope"}), external=True), ["etl", "models", "sales"]),
        (Visibility(dag_ids=frozenset(), external=False), []),
        (Visibility(dag_ids=frozenset(), external=True), ["etl", "models"]),
    ],
)
def test_visibility_scopes_listing_count_summaries_and_lookup(store, visibility, expected):
    made = seed(store)
    want = [made[name].incident_id for name in expected]
    flt = IncidentFilter()
    assert ids(store.list_incidents(flt, visibility=visibility)) == want
    assert ids(store.list_summaries(flt, visibility)) == want
    assert store.count_incidents(flt, visibility=visibility) == len(want)
    assert store.page_summaries(flt, visibility, limit=2) == (len(want), store.list_summaries(flt, visibility, limit=2))
    for name, incident in made.items():
        seen = store.get_visible(incident.incident_id, visibility)
        assert (seen is not None) == (name in expected)
        assert visibility.allows(incident) == (name in expected)


def test_filter_model_and_keywords_agree(store):
    made = seed(store)
    by_model = store.list_incidents(IncidentFilter(category=Category.CODE_ERROR, since=T0 + timedelta(minutes=30)))
    by_keywords = store.list_incidents(category="code.error", since=T0 + timedelta(minutes=30))
    assert ids(by_model) == ids(by_keywords) == [made["etl"].incident_id, made["hr"].incident_id]
    assert store.count_incidents(platform="airflow", search="SAL") == 1
    with pytest.raises(TypeError):
        store.list_incidents(IncidentFilter(), state="triaged")
    with pytest.raises(ValidationError):
        store.list_incidents(state="no-such-state")
    with pytest.raises(ValidationError):
        IncidentFilter(search="x" * 201)
    with pytest.raises(ValidationError):  # a naive time is ambiguous: refused, not guessed
        IncidentFilter(since=datetime(2026, 1, 1))


def test_paging_is_bounded(store, monkeypatch):
    seed(store)
    monkeypatch.setattr(queries, "MAX_PAGE", 3)
    assert len(store.list_incidents(limit=1_000_000)) == 3
    assert len(store.list_summaries(IncidentFilter(), Visibility(), limit=1_000_000)) == 3
    assert ids(store.list_incidents(limit=2, offset=-5)) == ids(store.list_incidents(limit=2))
    assert store.list_incidents(limit=-1) == []


def test_run_summaries_are_one_run_of_one_visible_dag(store):
    made = seed(store)
    everyone = Visibility()
    assert ids(store.run_summaries(everyone, dag_id="sales", run_id="r0")) == [made["sales"].incident_id]
    assert store.run_summaries(everyone, dag_id="sales", run_id="r0", task_id="other") == []
    assert store.run_summaries(Visibility(dag_ids=frozenset({"hr"})), dag_id="sales", run_id="r0") == []
    assert store.run_summaries(everyone, dag_id="models", run_id="r2") == []  # not an Airflow DAG


def test_overview_means_are_exact_to_the_microsecond(store):
    """Aggregates come from SQL; the means equal the exact arithmetic over the audit trail, counted
    from the failure's own end time (the event's detected_at), not from when PATCHIT received it."""
    made = seed(store)
    delays = {"sales": (12.345678, 300.000001), "hr": (0.000001, None), "models": (7.5, 90.25), "etl": (None, None)}
    for name, (rca, fix) in delays.items():
        incident = made[name]
        received = incident.event.detected_at
        store.audit(incident.incident_id, AuditKind.EVENT_RECEIVED, actor="patchit", at=received + timedelta(seconds=4))
        if rca is not None:
            store.audit(
                incident.incident_id, AuditKind.TRIAGE_COMPLETED, actor="patchit", at=received + timedelta(seconds=rca)
            )
        if fix is not None:
            store.audit(
                incident.incident_id,
                AuditKind.VALIDATION_FINISHED,
                actor="patchit",
                at=received + timedelta(seconds=fix),
                data={"passed": True},
            )
            store.save_incident(
                store.get_incident(incident.incident_id).model_copy(
                    update={"outcome": Outcome.PATCH_VALIDATED, "state": IncidentState.VALIDATED}
                )
            )
    got = store.overview(IncidentFilter(), Visibility())
    assert got["mean_seconds_to_rca"] == round((12.345678 + 0.000001 + 7.5) / 3, 3)
    assert got["rca_count"] == 3
    assert got["mean_seconds_to_validated_patch"] == round((300.000001 + 90.25) / 2, 3)
    assert got["validated_patch_count"] == 2
    assert got["total"] == 4 and got["by_outcome"] == {"patch_validated": 2, "pending": 2}
    assert got["fix_rate"] == 1.0
    only_hr = store.overview(IncidentFilter(), Visibility(dag_ids=frozenset({"hr"}), external=False))
    assert (only_hr["total"], only_hr["mean_seconds_to_rca"], only_hr["mean_seconds_to_validated_patch"]) == (
        1,
        0.0,
        None,
    )
    empty = store.overview(IncidentFilter(pipeline_id="nothing"), Visibility())
    assert (empty["total"], empty["mean_seconds_to_rca"], empty["fix_rate"], empty["top_pipelines"]) == (
        0,
        None,
        None,
        [],
    )


def test_every_audit_write_names_an_actor(store):
    incident, _ = store.create_incident(event())
    stored = store.audit(incident.incident_id, "note", actor="alice", message="approved", data={"n": 1})
    assert (stored.seq, stored.actor) == (1, "alice")
    with pytest.raises(StoreError):
        store.audit(incident.incident_id, "note", actor="  ")
    via_event = store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="note", actor="bob"))
    assert via_event.seq == 2
    assert [(a.seq, a.actor) for a in store.audit_trail(incident.incident_id)] == [(1, "alice"), (2, "bob")]


def test_ui_and_ledger_use_only_the_public_store_api():
    """No private store member, no store table or SQL in the UI and the notifier."""
    offenders = []
    for folder in ("patchit_provider/www", "patchit_provider/engine/notify"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            if re.search(r"\bstore\w*\._(read|write|engine)\b|store\.schema|store\.sql\b|store\.queries", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
