"""PATCHIT inside the real Airflow UI, in real headless Chromium (Debian's, through Playwright).

One `airflow standalone` with the provider (see conftest.py) for the whole module. The tests run
in file order and share what they found (`found`): a failing `orders_etl` run (scenario
`code_typo`) is triggered first; while PATCHIT remediates it, an event whose log holds
`<script>` is ingested and its incident page checked for escaping; then the UI is walked as a
person would: home, Browse -> PATCHIT, the incident (diff, timeline), the DAG run's PATCHIT tab,
and the approval gate. Every step leaves a screenshot in test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.browser

INCIDENT_TIMEOUT = 150  # seconds from the trigger to a validated patch (about 40 s seen here)
PUBLISH_TIMEOUT = 90
SETTLED = {"validated", "published"}
DEAD_ENDS = {"escalated", "no_patch", "rejected", "failed"}
XSS = "<script>window.__patchitXss = 1</script>"


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def found() -> dict:
    return {}


@pytest.fixture(scope="module")
def code_typo_run(failing_runs) -> str:
    """The failing pipeline run: orders_etl with {"scenario": "code_typo"} (NameError 'amout'),
    triggered with the other browser tests' runs at the session's start (conftest.failing_runs)."""
    return failing_runs["code_typo"]


def incidents(api) -> list[dict]:
    resp = api.get("/patchit/api/incidents", limit=100)
    resp.raise_for_status()
    return resp.json()["incidents"]


def wait_for_incident(api, run_id: str, states: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            rows = [row for row in incidents(api) if row["run_id"] == run_id]
        except httpx.HTTPError as exc:  # a busy 2-core machine: the API server may be slow
            rows, last = [], f"{type(exc).__name__}"
        if rows:
            last = rows[0]
            if last["state"] in states:
                return last
            assert last["state"] not in DEAD_ENDS, f"PATCHIT gave up on the code_typo failure: {last}"
        time.sleep(3)
    pipeline = api.run_state("orders_etl", run_id)
    remediation = [(r["dag_run_id"], r["state"]) for r in api.runs("patchit_remediation")]
    pytest.fail(
        f"no incident in {states} for {run_id} after {timeout:.0f}s: last {last}; "
        f"orders_etl run {pipeline}; remediation runs {remediation}"
    )


def audit_kinds(api, incident_id: str) -> list[str]:
    resp = api.get(f"/patchit/api/incidents/{incident_id}")
    return [a["kind"] for a in resp.json().get("audit", [])] if resp.status_code == 200 else []


def test_ingested_log_with_script_tag_renders_as_text(base, code_typo_run, token, page, artifacts, found):
    # Triggered first (code_typo_run) so that PATCHIT works on it meanwhile.
    event = {
        "event_id": f"browser-xss-{uuid.uuid4().hex[:12]}",
        "platform": "generic",
        "pipeline_id": "nightly_export",
        "run_id": "browser-xss-run",
        "task_id": "export",
        "error": {"type": "RuntimeError", "message": f"export failed near {XSS}"},
        "log_text": f"INFO starting export\nERROR row 17: {XSS}\nRuntimeError: export failed\n",
    }
    resp = httpx.post(
        f"{base}/patchit/events/ingest", json=event, timeout=60, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.text
    incident_id = resp.json()["incident_id"]

    page.goto(f"{base}/patchit/incidents/{incident_id}")
    page.locator("#evidence").wait_for()
    shot(page, artifacts, "01-ingested-script-tag-escaped")
    assert XSS in page.locator("#evidence").inner_text()  # shown, literally, as text
    assert page.evaluate("window.__patchitXss") is None  # and never run
    assert page.locator("script", has_text="__patchitXss").count() == 0
    assert "&lt;script&gt;" in page.content()


def test_home_and_browse_patchit_nav(base, code_typo_run, api, page, artifacts, found):
    page.goto(f"{base}/")
    page.get_by_text("Active Dags").wait_for()
    page.wait_for_load_state("networkidle")
    shot(page, artifacts, "02-airflow-home")

    # Wait here (bounded) for PATCHIT's incident of the failing run, so the list shows it.
    found["incident"] = wait_for_incident(api, code_typo_run, SETTLED, INCIDENT_TIMEOUT)

    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="PATCHIT").click()
    # Airflow 3.3 mirrors a nav view's iframe location into the address bar once the iframe has
    # loaded (ui: /plugin/<url_route> + the iframe's path, replace): /plugin/patchit, then
    # /plugin/patchit/patchit/. Either is PATCHIT's page; which one Playwright sees first is a race.
    page.wait_for_url(re.compile(r"/plugin/patchit(?:/patchit/.*)?$"))
    frame = page.frame_locator("iframe").first
    frame.get_by_role("link", name="Incidents").wait_for()
    row = frame.locator("tr", has_text=code_typo_run)
    row.wait_for()
    assert "code.error" in row.inner_text()
    shot(page, artifacts, "03-browse-patchit-incidents")


def test_incident_shows_the_diff_and_the_timeline(code_typo_run, page, artifacts, found):
    incident = found.get("incident") or pytest.fail("no incident from the previous step")
    frame = page.frame_locator("iframe").first
    frame.get_by_role("link", name=incident["incident_id"]).click()
    frame.locator("#patch pre.diff").wait_for()
    additions = frame.locator("#patch .d-add").all_inner_texts()
    deletions = frame.locator("#patch .d-del").all_inner_texts()
    assert any("amout" in line for line in deletions), deletions
    assert any("amount" in line and "amout" not in line for line in additions), additions
    timeline = frame.locator("#timeline").inner_text()
    for kind in ("event.received", "evidence.saved", "triage.completed", "patch.proposed", "validation.finished"):
        assert kind in timeline, timeline
    validation = frame.locator("#validation").inner_text()
    assert "passed" in validation
    # The failed callable was replayed with the run's XComs: NameError before the patch, success after.
    assert "replayed: failed before, passes after" in validation and "not replayed" not in validation, validation
    assert (
        "NameError reproduced with the failed run's XCom extract_orders, XCom extract_customers, XCom fetch_fx_rates"
        in validation
    )
    shot(page, artifacts, "04-incident-in-ui")
    frame.locator("#patch").screenshot(path=str(artifacts / "05-incident-diff.png"))
    frame.locator("#timeline").screenshot(path=str(artifacts / "06-incident-timeline.png"))


def test_dag_run_patchit_tab_shows_the_incident(base, code_typo_run, page, artifacts, found):
    incident = found.get("incident") or pytest.fail("no incident from an earlier step")
    page.goto(f"{base}/dags/orders_etl/runs/{code_typo_run}")
    page.get_by_role("link", name="PATCHIT").click()
    page.wait_for_url(re.compile(r"/plugin/patchit_run$"))
    frame = page.frame_locator("iframe").first
    frame.get_by_text(incident["incident_id"]).wait_for()
    body = frame.locator("body").inner_text()
    assert code_typo_run in body and "transform_orders" in body
    frame.locator("#patch .d-add").first.wait_for()
    shot(page, artifacts, "07-dag-run-patchit-tab")


def test_approve_and_the_remediation_dag_publishes(
    base, code_typo_run, airflow_standalone, api, page, artifacts, found
):
    mode, why = airflow_standalone["approval_gate"]
    if mode == "skip":
        pytest.skip(f"approval step only: {why}")
    # Alone (-k approve) it waits for the incident itself; after the walk it reuses it.
    incident = found.get("incident") or wait_for_incident(api, code_typo_run, SETTLED, INCIDENT_TIMEOUT)
    assert incident["state"] == "validated", f"with [patchit] approval = always it should wait: {incident}"
    # The HITL task must be waiting for input before the answer is given.
    deadline = time.monotonic() + 60
    while "approval.requested" not in audit_kinds(api, incident["incident_id"]):
        assert time.monotonic() < deadline, "no approval.requested in the audit trail after 60s"
        time.sleep(2)
    page.goto(f"{base}/plugin/patchit")
    frame = page.frame_locator("iframe").first
    frame.get_by_role("link", name=incident["incident_id"]).click()
    frame.get_by_role("button", name="Approve").wait_for()
    shot(page, artifacts, "08-approval-requested")
    remediation_run = api.get(f"/patchit/api/incidents/{incident['incident_id']}").json()["incident"][
        "remediation_run_id"
    ]
    if mode == "ui":
        print("\n[browser] approving with the incident page's Approve button")
        # The answer waits until the parked step has settled (approvals.PARK_SETTLE_SECONDS).
        frame.get_by_role("button", name="Approve").click(timeout=90_000)
    else:  # the DAG's gate exists, the page's button does not answer it yet: Airflow's REST API
        print(f"\n[browser] {why}: approving through PATCH .../hitlDetails")
        resp = api.http.patch(
            f"/api/v2/dags/patchit_remediation/dagRuns/{remediation_run}/taskInstances/approval/-1/hitlDetails",
            json={"chosen_options": ["Approve"]},
        )
        assert resp.status_code == 200, resp.text
    published = wait_for_incident(api, code_typo_run, {"published"}, PUBLISH_TIMEOUT)
    run_id = remediation_run
    deadline = time.monotonic() + PUBLISH_TIMEOUT
    while (state := api.run_state("patchit_remediation", run_id)) not in ("success", "failed"):
        assert time.monotonic() < deadline, f"remediation run {run_id} still {state}"
        time.sleep(3)
    assert state == "success", f"remediation run {run_id} ended {state} after the approval"
    page.goto(f"{base}/patchit/incidents/{published['incident_id']}")
    timeline = page.locator("#timeline").inner_text()
    assert "approval.granted" in timeline and "branch.created" in timeline, timeline
    shot(page, artifacts, "09-approved-and-published")
    page.goto(f"{base}/dags/patchit_remediation/runs/{run_id}")
    page.get_by_text("publish").first.wait_for()
    shot(page, artifacts, "10-remediation-run-continued")
