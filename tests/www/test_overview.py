"""The overview's figures equal figures computed directly from the store's public API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from www_factories import T0, add_incident

from patchit_provider.engine.models import AuditKind, IncidentState, Outcome, Platform
from patchit_provider.engine.taxonomy import Category


def expected(store, visible) -> dict:
    """Recompute with list_incidents + audit_trail, using the definitions of queries.overview."""
    incidents = [i for i in store.list_incidents(limit=100_000) if visible(i)]
    by_category, by_outcome, per_pipeline = {}, {}, {}
    to_rca, to_fix = [], []
    for inc in incidents:
        cat = inc.triage.category.value if inc.triage else "untriaged"
        by_category[cat] = by_category.get(cat, 0) + 1
        out = inc.outcome.value if inc.outcome else "pending"
        by_outcome[out] = by_outcome.get(out, 0) + 1
        key = (inc.event.pipeline_id, inc.event.platform.value)
        per_pipeline[key] = per_pipeline.get(key, 0) + inc.occurrences
        trail = store.audit_trail(inc.incident_id)
        received = [inc.event.detected_at]  # from the failure's own end time, not from event.received
        rca = [a.at for a in trail if a.kind == AuditKind.TRIAGE_COMPLETED]
        fixed = [a.at for a in trail if a.kind == AuditKind.VALIDATION_FINISHED and a.data.get("passed")]
        if received and rca:
            to_rca.append((min(rca) - min(received)).total_seconds())
        if received and fixed and inc.outcome is Outcome.PATCH_VALIDATED:
            to_fix.append((max(fixed) - min(received)).total_seconds())
    decided = sum(n for k, n in by_outcome.items() if k != "pending")
    return {
        "total": len(incidents),
        "by_category": by_category,
        "by_outcome": by_outcome,
        "mean_seconds_to_rca": round(sum(to_rca) / len(to_rca), 3) if to_rca else None,
        "mean_seconds_to_validated_patch": round(sum(to_fix) / len(to_fix), 3) if to_fix else None,
        "fix_rate": round(by_outcome.get("patch_validated", 0) / decided, 4) if decided else None,
        "top": sorted(per_pipeline.items(), key=lambda kv: -kv[1])[0] if per_pipeline else None,
    }


@pytest.fixture
def history(store):
    plan = [
        ("sales_daily", Category.SCHEMA_MISSING_COLUMN, Outcome.PATCH_VALIDATED, IncidentState.PUBLISHED, 30, 400),
        ("sales_daily", Category.CODE_ERROR, Outcome.PATCH_VALIDATED, IncidentState.VALIDATED, 12.5, 95),
        ("sales_daily", Category.CODE_ERROR, Outcome.PATCH_REJECTED, IncidentState.REJECTED, 44, None),
        ("hr_payroll", Category.INFRA_NETWORK, Outcome.NO_PATCH, IncidentState.NO_PATCH, 8, None),
        ("hr_payroll", Category.DATA_QUALITY, Outcome.NO_PATCH, IncidentState.ESCALATED, 61, None),
        ("hr_payroll", None, None, IncidentState.RECEIVED, None, None),
        ("dbt_models", Category.SCHEMA_MISSING_RELATION, Outcome.PATCH_VALIDATED, IncidentState.PUBLISHED, 20, 1200),
    ]
    for n, (pipeline, category, outcome, state, rca, fix) in enumerate(plan):
        platform = Platform.DBT if pipeline.startswith("dbt") else Platform.AIRFLOW
        inc = add_incident(
            store,
            pipeline,
            run=f"r{n}",
            platform=platform,
            category=category,
            outcome=outcome,
            state=state,
            rca_after=rca,
            validated_after=fix,
            received_at=T0 + timedelta(hours=n),
        )
        for k in range(n % 3):  # some incidents failed again
            store.add_occurrence(
                inc.incident_id, inc.event.model_copy(update={"event_id": f"{inc.event.event_id}-{k}"})
            )
    return store


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("viewer", lambda i: True),
        ("alice", lambda i: i.event.pipeline_id == "sales_daily"),
        ("bob", lambda i: i.event.pipeline_id in ("hr_payroll", "dbt_models")),
    ],
)
def test_overview_json_equals_figures_from_the_store(client, headers_for, history, user, visible):
    got = client.get("/api/overview", headers=headers_for(user)).json()
    want = expected(history, visible)
    assert got["total"] == want["total"]
    assert got["by_category"] == want["by_category"]
    assert got["by_outcome"] == want["by_outcome"]
    assert got["mean_seconds_to_rca"] == pytest.approx(want["mean_seconds_to_rca"])
    assert got["mean_seconds_to_validated_patch"] == pytest.approx(want["mean_seconds_to_validated_patch"])
    assert got["fix_rate"] == pytest.approx(want["fix_rate"])
    top = got["top_pipelines"][0]
    assert ((top["pipeline_id"], top["platform"]), top["failures"]) == want["top"]


def test_known_figures(client, headers_for, history):
    got = client.get("/api/overview", headers=headers_for("viewer")).json()
    assert got["mean_seconds_to_rca"] == pytest.approx((30 + 12.5 + 44 + 8 + 61 + 20) / 6)
    assert got["mean_seconds_to_validated_patch"] == pytest.approx((400 + 95 + 1200) / 3)
    assert got["fix_rate"] == pytest.approx(3 / 6, abs=1e-4)
