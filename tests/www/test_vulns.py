"""POST /vulns/ingest (pip-audit reports), the Vulnerabilities page and its JSON twin: auth,
4xx with reasons, idempotency, DAG scoping (a finding is seen by readers of an affected DAG, a
finding reaching no DAG by admins only), links to advisories, patch branch and rollout plan."""

from __future__ import annotations

import copy
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "vulns"))
from e2e_fixtures import PIP_AUDIT_REPORT, V31_MEDIUM, git, osv_folder

URL = "/vulns/ingest"
SALES_DAG = """\
from airflow.sdk import DAG, task

with DAG("sales_daily", schedule=None):
    @task
    def load():
        import tinyvuln
        return tinyvuln.render(1)
"""
HR_DAG = """\
from tinyvuln import render
from airflow.sdk import DAG

with DAG("hr_payroll", tags=["critical"], schedule=None):
    pass
"""


@pytest.fixture
def world(tmp_path):
    repo = tmp_path / "pipelines"
    (repo / "dags").mkdir(parents=True)
    (repo / "requirements.txt").write_text("tinyvuln==1.0\nnofix==2.0\nhelper==1.0\n")
    (repo / "dags" / "sales.py").write_text(SALES_DAG)
    (repo / "dags" / "hr.py").write_text(HR_DAG)
    git(repo, "init", "-q")
    return repo, osv_folder(tmp_path / "osv")


@pytest.fixture
def vclient(store, handoff, auth_manager, world):
    from fastapi.testclient import TestClient

    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.www import create_app

    repo, osv = world
    settings = PatchitSettings(osv_dir=str(osv), repo_map={"*": str(repo)})
    app = create_app(lambda: store, hand_off=handoff, settings=settings)
    with TestClient(app, base_url="http://testserver/patchit", root_path="/patchit") as client:
        client.settings = settings
        yield client


def _body(repo, **changes):
    body = {"repository": str(repo), "requirements": "requirements.txt", "report": copy.deepcopy(PIP_AUDIT_REPORT)}
    body.update(changes)
    return body


def _ingest(client, repo, headers_for, user="bob"):
    response = client.post(URL, json=_body(repo), headers=headers_for(user))
    assert response.status_code in (200, 201), response.text
    return {f["package"]: f for f in response.json()["findings"]}


def test_ingest_stores_findings_idempotently(vclient, world, headers_for):
    repo, _ = world
    first = vclient.post(URL, json=_body(repo), headers=headers_for("bob"))
    assert first.status_code == 201, first.text
    body = first.json()
    states = {f["package"]: (f["state"], f["created"]) for f in body["findings"]}
    assert states == {"tinyvuln": ("open", True), "nofix": ("accepted_or_mitigated", True)}
    assert any("PYSEC-2099-77" in s["item"] and "no OSV record" in s["reason"] for s in body["skipped"])
    assert any("internal-lib" in s["item"] for s in body["skipped"])
    assert all(f["url"] == f"/patchit/api/vulns/{f['finding_id']}" for f in body["findings"])
    again = vclient.post(URL, json=_body(repo), headers=headers_for("bob"))
    assert again.status_code == 200 and not any(f["created"] for f in again.json()["findings"])
    assert [f["finding_id"] for f in again.json()["findings"]] == [f["finding_id"] for f in body["findings"]]


def _too_big(repo):
    body = _body(repo)
    body["report"]["dependencies"][0]["vulns"][0]["description"] = "x" * 19_000
    body["report"]["dependencies"] *= 250
    return json.dumps(body)


@pytest.mark.parametrize(
    "case, code, needle",
    [
        ("no_token", 401, "bearer token"),
        ("text_plain", 415, "application/json"),
        ("not_json", 400, "not a JSON document"),
        ("array", 422, "JSON object"),
        ("no_report", 422, "report"),
        ("version_as_number", 422, "version"),
        ("unknown_key", 422, "surprise"),
        ("outside_repo_map", 422, "repo_map"),
        ("requirements_outside", 422, "inside the repository"),
        ("too_big", 413, "larger than"),
    ],
)
def test_bad_bodies_get_4xx_with_reasons(vclient, world, headers_for, tmp_path, case, code, needle):
    repo, _ = world
    headers = {**headers_for("bob"), "Content-Type": "application/json"}
    data = json.dumps(_body(repo))
    if case == "no_token":
        headers.pop("Authorization")
    elif case == "text_plain":
        headers["Content-Type"] = "text/plain"
    elif case == "not_json":
        data = "{not json"
    elif case == "array":
        data = "[]"
    elif case == "no_report":
        data = json.dumps({"repository": str(repo)})
    elif case == "version_as_number":
        body = _body(repo)
        body["report"]["dependencies"][0]["version"] = 1.0
        data = json.dumps(body)
    elif case == "unknown_key":
        data = json.dumps(_body(repo, surprise=True))
    elif case == "outside_repo_map":
        data = json.dumps(_body(tmp_path))
    elif case == "requirements_outside":
        data = json.dumps(_body(repo, requirements="../../etc/passwd"))
    elif case == "too_big":
        data = _too_big(repo)
    response = vclient.post(URL, content=data, headers=headers)
    assert response.status_code == code, response.text
    assert needle in response.text
    with_vulns = vclient.get("/api/vulns", headers=headers_for("admin")).json()
    assert with_vulns["total"] == 0  # nothing stored by a refused request


def test_ingest_needs_the_trigger_permission_and_configured_osv(vclient, world, headers_for):
    repo, _ = world
    assert vclient.post(URL, json=_body(repo), headers=headers_for("alice")).status_code == 403
    vclient.settings.osv_dir = ""
    response = vclient.post(URL, json=_body(repo), headers=headers_for("bob"))
    assert response.status_code == 503 and "osv_dir" in response.text


def test_page_and_json_are_scoped_by_affected_dags(vclient, world, headers_for):
    repo, _ = world
    found = _ingest(vclient, repo, headers_for)
    tiny, nofix = found["tinyvuln"]["finding_id"], found["nofix"]["finding_id"]
    # alice reads sales_daily only: she sees tinyvuln through it, never hr_payroll's name, and not
    # nofix, which no DAG imports (admins only).
    alice = vclient.get("/vulns", headers=headers_for("alice"))
    assert alice.status_code == 200
    assert "tinyvuln 1.0" in alice.text and "nofix" not in alice.text
    assert "sales_daily" in alice.text and "hr_payroll" not in alice.text and "1 DAG(s) you may not read" in alice.text
    assert "https://osv.dev/vulnerability/GHSA-tiny-vuln-0001" in alice.text
    assert "https://github.com/advisories/GHSA-tiny-vuln-0001" in alice.text
    assert "https://www.cve.org/CVERecord?id=CVE-2099-0001" in alice.text
    assert V31_MEDIUM in alice.text and "5.4" in alice.text
    scripts = re.findall(r"<script\b[^>]*>", alice.text)  # external scripts only, never inline
    assert all(re.search(r'\bsrc="/patchit/static/[^"]+"', tag) for tag in scripts), scripts
    assert "unsafe-inline" not in alice.headers["content-security-policy"].split("script-src")[-1].split(";")[0]
    api = vclient.get("/api/vulns", headers=headers_for("alice")).json()
    assert [f["package"] for f in api["findings"]] == ["tinyvuln"]
    assert [d["dag_id"] for d in api["findings"][0]["dags"]] == ["sales_daily"] and api["findings"][0][
        "hidden_dags"
    ] == 1
    assert vclient.get(f"/api/vulns/{nofix}", headers=headers_for("alice")).status_code == 404
    assert vclient.get(f"/vulns/{nofix}", headers=headers_for("alice")).status_code == 404
    viewer = vclient.get("/api/vulns", headers=headers_for("viewer")).json()
    assert [f["package"] for f in viewer["findings"]] == ["tinyvuln"]
    admin = vclient.get("/api/vulns", headers=headers_for("admin")).json()
    assert sorted(f["package"] for f in admin["findings"]) == ["nofix", "tinyvuln"]
    one = vclient.get(f"/api/vulns/{nofix}", headers=headers_for("admin")).json()
    assert (
        one["state"] == "accepted_or_mitigated" and one["expires"] == one["deadline"] and one["fixed_version"] is None
    )
    assert "accept the risk or mitigate" in one["escalation"]
    assert vclient.get(f"/api/vulns/{tiny}").status_code == 401
    assert vclient.get("/vulns").status_code == 401


def test_finding_links_to_its_branch_and_plan(vclient, world, headers_for):
    from patchit_provider.engine.vulns.rollout import plan_fix_rollout
    from patchit_provider.www.vulns import vuln_store

    repo, _ = world
    tiny = _ingest(vclient, repo, headers_for)["tinyvuln"]["finding_id"]
    store = vuln_store(type("R", (), {"app": vclient.app})())
    record = store.get(tiny)
    record.branch, record.commit, record.state = f"patchit/{tiny}", "0123456789abcdef0123", "rollout_planned"
    record.rollout_plan = plan_fix_rollout(record.finding, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    store.save(record)
    page = vclient.get(f"/vulns/{tiny}", headers=headers_for("alice")).text
    assert f"patchit/{tiny}" in page and "rollout_planned" in page and 'id="plan"' in page
    assert "sales_daily" in page and "hr_payroll" not in page  # the plan's waves, scoped too
    listing = vclient.get("/vulns", headers=headers_for("alice")).text
    assert f"/patchit/vulns/{tiny}#plan" in listing and f"/patchit/api/vulns/{tiny}" in listing
    plan = vclient.get(f"/api/vulns/{tiny}", headers=headers_for("admin")).json()["plan"]
    assert plan["valid"] and plan["waves"][0] == ["sales_daily"] and plan["waves"][-1][-1] == "hr_payroll"


def test_a_later_report_with_the_upgraded_version_marks_the_finding_fixed(vclient, world, headers_for):
    repo, _ = world
    tiny = _ingest(vclient, repo, headers_for)["tinyvuln"]["finding_id"]
    body = _body(repo)
    body["report"]["dependencies"][0] = {"name": "tinyvuln", "version": "1.1", "vulns": []}
    response = vclient.post(URL, json=body, headers=headers_for("bob"))
    assert response.status_code == 200, response.text  # no new finding
    states = {
        f["package"]: f["state"] for f in vclient.get("/api/vulns", headers=headers_for("admin")).json()["findings"]
    }
    assert states == {"tinyvuln": "fixed", "nofix": "accepted_or_mitigated"}
    assert "found tinyvuln 1.1" in vclient.get(f"/api/vulns/{tiny}", headers=headers_for("admin")).json()["escalation"]


def test_each_finding_links_to_its_patch_rollout_progress_and_incident(vclient, world, headers_for):
    """Issue 13: a finding links to its patch (branch) and its rollout (page, progress); a finding
    without a fix links to its accept-or-mitigate incident."""
    from patchit_provider.engine.models import MemberRecord, MemberResult, RolloutState, WaveRecord
    from patchit_provider.engine.vulns.rollout import UPGRADE_APPROVAL, plan_fix_rollout, start_upgrade_rollout
    from patchit_provider.www.rollouts import run_records
    from patchit_provider.www.vulns import vuln_store

    repo, _ = world
    found = _ingest(vclient, repo, headers_for)
    tiny, nofix = found["tinyvuln"]["finding_id"], found["nofix"]["finding_id"]
    incident_id = found["nofix"]["incident_id"]
    assert incident_id and found["tinyvuln"]["incident_id"] is None
    request = type("R", (), {"app": vclient.app})()
    store = vuln_store(request)
    record = store.get(tiny)
    record.branch, record.commit, record.state = f"patchit/{tiny}", "0123456789abcdef0123", "rollout_planned"
    record.patch_diff = "--- a/requirements.txt\n+++ b/requirements.txt\n-tinyvuln==1.0\n+tinyvuln==1.1\n"
    record.rollout_plan = plan_fix_rollout(
        record.finding, now=datetime(2026, 12, 1, tzinfo=timezone.utc), approval_points=UPGRADE_APPROVAL
    )
    record = store.save(record)
    runs = run_records(request)
    record, run, _ = start_upgrade_rollout(record, store, runs, "ro-00000000cc01")
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    canary = run.plan.waves[0].members[0]
    done = MemberRecord(member=canary, action="trigger", deployed_at=now, finished_at=now, state="success")
    done.result = MemberResult.SUCCEEDED
    runs.modify(
        run.rollout_id,
        lambda r: r.model_copy(
            update={
                "state": RolloutState.RUNNING,
                "approved_by": {"before_first_wave": "bob"},
                "waves": [WaveRecord(index=0, members=[canary], results=[done], started_at=now, finished_at=now)],
            }
        ),
    )
    admin = vclient.get("/vulns", headers=headers_for("admin")).text
    assert f'href="/patchit/vulns/{tiny}#patch"' in admin  # the patch: its branch, on the finding's page
    assert f'href="/patchit/rollouts/{run.rollout_id}"' in admin  # the rollout's page
    assert f'data-rollout-progress="{run.rollout_id}"' in admin and "running: 1/2 DAGs" in admin
    assert f'href="/patchit/incidents/{incident_id}"' in admin and "accept-or-mitigate incident" in admin
    one = vclient.get(f"/vulns/{tiny}", headers=headers_for("admin")).text
    assert 'id="patch"' in one and "+tinyvuln==1.1" in one and 'id="rollout"' in one
    assert "1 of 2 DAGs finished (1 succeeded, 0 failed" in one
    api = vclient.get(f"/api/vulns/{tiny}", headers=headers_for("admin")).json()
    assert api["rollout"]["rollout_id"] == run.rollout_id and api["rollout"]["percent"] == 50.0
    # alice reads sales_daily only: the rollout also touches hr_payroll, so no link to its page
    alice = vclient.get("/vulns", headers=headers_for("alice")).text
    assert run.rollout_id in alice and f'href="/patchit/rollouts/{run.rollout_id}"' not in alice
    assert vclient.get(f"/rollouts/{run.rollout_id}", headers=headers_for("alice")).status_code == 404
    # the rollout's page links back to the finding and says what it deploys
    page = vclient.get(f"/rollouts/{run.rollout_id}", headers=headers_for("admin")).text
    assert f'href="/patchit/vulns/{tiny}"' in page and "tinyvuln 1.0 &rarr; 1.1" in page
    assert vclient.get(f"/incidents/{incident_id}", headers=headers_for("admin")).status_code == 200
    assert nofix not in alice
