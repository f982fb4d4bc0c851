"""Pages render what the store holds, escaped; lists page correctly over 10,000 incidents."""

from __future__ import annotations

import re

from www_factories import T0, add_incident, bulk_incidents

from patchit_provider.engine.models import IncidentState, Outcome
from patchit_provider.engine.taxonomy import Category

XSS = "<script>alert(1)</script>"


def test_untrusted_text_renders_as_text(client, headers_for, store):
    incident = add_incident(
        store,
        "sales_daily",
        category=Category.CODE_ERROR,
        summary=f"summary {XSS}",
        log_text=f"INFO start\nERROR {XSS}\n",
        rca=f"# RCA\n{XSS}\n[x](javascript:alert(1))",
        diff=f"--- a/etl.py\n+++ b/etl.py\n@@ -1,2 +1,2 @@\n ctx\n-old {XSS}\n+new {XSS}\n",
        checks=[("pytest", False, f"E {XSS}")],
        publication="javascript:alert(1)",
    )
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("admin"))
    assert page.status_code == 200
    assert "<script>" not in page.text and 'javascript:alert(1)"' not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6  # summary, log, rca, 2 diff lines, check
    assert 'href="javascript:' not in page.text
    # diff lines carry their colour classes
    assert '<span class="d-del">-old &lt;script&gt;' in page.text
    assert '<span class="d-add">+new &lt;script&gt;' in page.text
    assert '<span class="d-hunk">@@ -1,2 +1,2 @@</span>' in page.text
    assert '<span class="d-ctx"> ctx</span>' in page.text
    listing = client.get("/", headers=headers_for("admin"), params={"q": "<script>"})
    assert "<script>" not in listing.text and "&lt;script&gt;" in listing.text


def test_incident_page_sections(client, headers_for, store):
    incident = add_incident(
        store,
        "sales_daily",
        category=Category.SCHEMA_MISSING_COLUMN,
        state=IncidentState.PUBLISHED,
        outcome=Outcome.PATCH_VALIDATED,
        rca_after=3,
        validated_after=9,
        diff="+x\n",
        checks=[("replay", True, "1 passed")],
        publication="https://github.example/acme/pipelines/pull/7",
        rca="# Cause",
    )
    store.add_occurrence(
        incident.incident_id, incident.event.model_copy(update={"event_id": "again-1", "try_number": 2})
    )
    text = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("viewer")).text
    for section in ("timeline", "rca", "evidence", "patch", "validation", "publication", "occurrences"):
        assert f'id="{section}"' in text
    assert text.index("event.received") < text.index("triage.completed") < text.index("validation.finished")
    assert '<a href="https://github.example/acme/pipelines/pull/7"' in text
    assert "Occurrences (2)" in text and "again-1" in text
    assert 'http-equiv="refresh"' not in text  # published: nothing is running


def test_list_filters_and_auto_refresh(client, headers_for, store):
    add_incident(
        store, "sales_daily", run="a", category=Category.CODE_ERROR, state=IncidentState.PUBLISHED, summary="done one"
    )
    add_incident(
        store, "hr_payroll", run="b", category=Category.INFRA_NETWORK, state=IncidentState.NO_PATCH, summary="net down"
    )
    admin = headers_for("admin")
    page = client.get("/", headers=admin)
    assert "done one" in page.text and "net down" in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert "net down" not in client.get("/", headers=admin, params={"category": "code.error"}).text
    assert "done one" not in client.get("/", headers=admin, params={"dag_id": "hr_payroll"}).text
    assert "done one" not in client.get("/", headers=admin, params={"state": "no_patch"}).text
    assert "2 incidents" in client.get("/", headers=admin, params={"state": "", "q": ""}).text  # empty = any
    assert client.get("/", headers=admin, params={"state": "bogus"}).status_code == 422
    # a running incident on the page turns on the refresh
    add_incident(
        store, "sales_daily", run="c", state=IncidentState.TRIAGED, category=Category.CODE_ERROR, summary="busy"
    )
    assert 'http-equiv="refresh"' in client.get("/", headers=admin).text
    assert 'http-equiv="refresh"' not in client.get("/", headers=admin, params={"state": "published"}).text


def test_time_window_and_fingerprint_search(client, headers_for, store):
    add_incident(store, "sales_daily", run="old", category=Category.CODE_ERROR, fingerprint="abc123def", summary="one")
    admin = headers_for("admin")
    assert client.get("/api/incidents", headers=admin, params={"q": "abc123"}).json()["total"] == 1
    assert client.get("/api/incidents", headers=admin, params={"q": "zzz"}).json()["total"] == 0
    assert client.get("/api/incidents", headers=admin, params={"window": "1h"}).json()["total"] == 1
    assert client.get("/api/incidents", headers=admin, params={"until": T0.isoformat()}).json()["total"] == 0


def test_paging_over_10000_incidents(client, headers_for, store):
    bulk_incidents(store, 10_000)
    admin, alice = headers_for("admin"), headers_for("alice")
    first = client.get("/api/incidents", headers=admin, params={"limit": 50}).json()
    assert first["total"] == 10_000
    ids = [row["incident_id"] for row in first["incidents"]]
    assert ids[0] == "inc-bulk009999" and ids[-1] == "inc-bulk009950"  # newest first
    last = client.get("/api/incidents", headers=admin, params={"limit": 50, "offset": 9_950}).json()
    assert last["incidents"][-1]["incident_id"] == "inc-bulk000000"
    # alice reads sales_daily only: every third incident, paged within her scope
    mine = client.get("/api/incidents", headers=alice, params={"limit": 500, "offset": 3_000}).json()
    assert mine["total"] == 3_334 and len(mine["incidents"]) == 334
    assert {row["pipeline_id"] for row in mine["incidents"]} == {"sales_daily"}
    page = client.get("/", headers=alice, params={"page": 67})
    assert page.status_code == 200 and "page 67 of 67" in page.text
    assert len(re.findall(r'href="[^"]*/incidents/inc-bulk', page.text)) == 34
    assert "older &rarr;" not in page.text and "&larr; newer" in page.text
    middle = client.get("/", headers=admin, params={"page": 100, "dag_id": "hr_payroll"})
    assert "page 100 of 67" in middle.text and "No incidents." in middle.text


def test_run_tab_shows_the_incident_or_says_there_is_none(client, headers_for, store):
    incident = add_incident(
        store, "sales_daily", run="manual__1", task="load", category=Category.CODE_ERROR, summary="tab"
    )
    admin = headers_for("admin")
    shown = client.get(
        "/runs", headers=admin, params={"dag_id": "sales_daily", "run_id": "manual__1", "task_id": "load"}
    )
    assert shown.status_code == 200 and incident.incident_id in shown.text and 'id="timeline"' in shown.text
    assert "<nav>" not in shown.text  # embedded in the Airflow tab
    by_run = client.get("/runs", headers=admin, params={"dag_id": "sales_daily", "run_id": "manual__1"})
    assert incident.incident_id in by_run.text
    none = client.get(
        "/runs", headers=admin, params={"dag_id": "sales_daily", "run_id": "manual__1", "task_id": "other"}
    )
    assert none.status_code == 200 and "No incident" in none.text
    assert client.get("/runs", headers=admin, params={"dag_id": "sales_daily"}).status_code == 422


def test_overview_page_renders_charts(client, headers_for, store):
    add_incident(
        store,
        "sales_daily",
        category=Category.CODE_ERROR,
        outcome=Outcome.PATCH_VALIDATED,
        state=IncidentState.VALIDATED,
        rca_after=60,
        validated_after=600,
    )
    text = client.get("/overview", headers=headers_for("admin")).text
    assert "code.error" in text and "<svg" in text and "60.0 s" in text and "10.0 min" in text and "100 %" in text


def test_run_tab_survives_an_unencoded_plus_in_the_run_id(client, headers_for, store):
    run_id = "scheduled__2026-03-01T00:00:00+00:00"
    incident = add_incident(store, "sales_daily", run=run_id, category=Category.CODE_ERROR)
    raw = f"/runs?dag_id=sales_daily&run_id={run_id}&task_id=load"  # '+' as the UI may leave it
    assert incident.incident_id in client.get(raw, headers=headers_for("admin")).text
