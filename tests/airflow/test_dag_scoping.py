"""The authorization matrix: nothing of a failure reaches a user who cannot read the failing DAG.

A real failure of DAG `payroll_daily` (Y: a traceback with a secret-looking DSN in it) is
captured and remediated for real (dag.test()) up to the approval step. While the step waits,
Airflow's own API app (in process, with the per-DAG RestrictedAuthManager of tests/www) and
PATCHIT's app are asked as `xavier`, who may read and answer HITL on `patchit_remediation` and
read `orders_daily` (X) but has no rights on Y: run conf, runs, task instances, XComs, task logs,
HITL details and every PATCHIT route hold no text of Y's failure, and his answers are refused
(Airflow's `PATCH .../hitlDetails` with 403, PATCHIT's approve with 404: he cannot even learn the
incident exists), leaving the patch unpublished.
`yolanda`, who may edit Y, then approves on the PATCHIT page and the patch is published.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

Y_DAG = "payroll_daily"
REMEDIATION = "patchit_remediation"
SECRET = "XyzzyPa55-7731"
# Text of Y's failure: the misspelt name, the code lines of the traceback, the hint, the secret.
MARKERS = ("totl_salary", SECRET, "Did you mean", "Traceback", "round(", "NameError", "salaries")

PAYROLL_DAG = f'''\
"""Monthly payroll totals (a DAG for PATCHIT's DAG-scoping test)."""

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from patchit_provider.notifications.patchit import PatchitNotifier


def _total(salaries, dsn=None):
    total_salary = sum(salaries)
    return round(totl_salary, 2)


def _connect():
    return None


def load_payroll():
    _connect()
    return _total([5200.0, 6100.5], dsn="postgresql://payroll:{SECRET}@db.internal/payroll")


with DAG(dag_id="{Y_DAG}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    PythonOperator(task_id="load_payroll", python_callable=load_payroll, on_failure_callback=PatchitNotifier())
'''

USERS = {"admin": "admin", "xavier": "op", "yolanda": "op"}
SCOPES = {"xavier": {"orders_daily", REMEDIATION}, "yolanda": {Y_DAG, REMEDIATION}}


def _load_dag(path: Path):
    """Import the DAG file as a bundle parse would (conftest's dag_loader is function-scoped)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"patchit_it_{Y_DAG}_scoping", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.dag.fileloc = str(path)
    return module.dag


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


class Apps:
    """Airflow's API app and PATCHIT's app, with real JWTs of the restricted users."""

    def __init__(self, store_url: str) -> None:
        from airflow.api_fastapi.app import create_app, get_auth_manager, purge_cached_app
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from fastapi.testclient import TestClient

        from patchit_provider.engine.store import open_store
        from patchit_provider.www import create_app as create_patchit_app

        purge_cached_app()
        self.airflow = TestClient(create_app("core"))
        manager = get_auth_manager()
        self.tokens = {
            name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role)) for name, role in USERS.items()
        }
        self.store = open_store(store_url)
        self.patchit = TestClient(
            create_patchit_app(lambda: self.store), base_url="http://testserver/patchit", root_path="/patchit"
        )

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str):
        return self.airflow.get(path, headers=self.headers(user))

    def close(self) -> None:
        self.store.close()


def _leaks(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def _awaiting_approval_run() -> str | None:
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalar(
            select(TI.run_id).where(TI.dag_id == REMEDIATION, TI.task_id == "approval", TI.state == "awaiting_input")
        )


def _matrix(apps: Apps, incident_id: str, run_id: str, repo: Path) -> dict:
    """Everything `xavier` gets from both APIs while Y's patch waits for approval, and his answers."""
    from patchit_provider.www import csrf

    seen: dict[str, object] = {}
    runs = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns")
    seen["GET dagRuns"] = (runs.status_code, runs.text)
    run_ids = [run["dag_run_id"] for run in runs.json()["dag_runs"]]
    seen["run ids"] = run_ids
    for rid in run_ids:
        one = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns/{rid}")
        seen[f"GET dagRuns/{rid}"] = (one.status_code, one.text)
        tis = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns/{rid}/taskInstances")
        seen[f"GET {rid} taskInstances"] = (tis.status_code, tis.text)
        for ti in tis.json().get("task_instances", []):
            task = ti["task_id"]
            xcoms = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns/{rid}/taskInstances/{task}/xcomEntries")
            seen[f"GET xcomEntries {task}"] = (xcoms.status_code, xcoms.text)
            for entry in xcoms.json().get("xcom_entries", []):
                value = apps.get(
                    "xavier",
                    f"/api/v2/dags/{REMEDIATION}/dagRuns/{rid}/taskInstances/{task}/xcomEntries/{entry['key']}",
                )
                seen[f"GET xcom {task}/{entry['key']}"] = (value.status_code, value.text)
            for try_number in range(1, max(1, ti.get("try_number") or 1) + 1):
                logs = apps.get(
                    "xavier",
                    f"/api/v2/dags/{REMEDIATION}/dagRuns/{rid}/taskInstances/{task}"
                    f"/logs/{try_number}?full_content=true",
                )
                seen[f"GET logs {task}/{try_number}"] = (logs.status_code, logs.text)
    for dag in ("~", REMEDIATION):  # "~" is every DAG the auth manager lets him list
        hitl = apps.get("xavier", f"/api/v2/dags/{dag}/dagRuns/~/hitlDetails")
        seen[f"GET hitlDetails {dag}"] = (hitl.status_code, hitl.text)
    one = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns/{run_id}/taskInstances/approval/-1/hitlDetails")
    seen["GET hitlDetails of the step"] = (one.status_code, one.text)
    for path in (
        "/",
        f"/incidents/{incident_id}",
        "/api/incidents",
        f"/api/incidents/{incident_id}",
        "/overview",
        "/api/overview",
        f"/runs?dag_id={REMEDIATION}&run_id={run_id}",
        f"/runs?dag_id={Y_DAG}&run_id=x",
        f"/api/incidents?q={incident_id}",
        "/api/incidents?q=totl",
    ):
        page = apps.patchit.get(path, headers=apps.headers("xavier"))
        seen[f"PATCHIT {path}"] = (page.status_code, page.text)
    # his answers, while the step waits
    for user in ("xavier", "admin"):
        patched = apps.airflow.patch(
            f"/api/v2/dags/{REMEDIATION}/dagRuns/{run_id}/taskInstances/approval/-1/hitlDetails",
            json={"chosen_options": ["Approve"], "params_input": {"reason": ""}},
            headers=apps.headers(user),
        )
        seen[f"PATCH hitlDetails as {user}"] = (patched.status_code, patched.text)
    token = csrf.issue("xavier")
    apps.patchit.cookies.set(csrf.COOKIE, token)
    approve = apps.patchit.post(
        f"/incidents/{incident_id}/approve",
        data={"csrf_token": token},
        headers={**apps.headers("xavier"), "Origin": "http://testserver"},
        follow_redirects=False,
    )
    apps.patchit.cookies.clear()
    seen["PATCHIT approve as xavier"] = (approve.status_code, approve.text)
    seen["branches after refusals"] = _git(repo, "branch", "--list", "patchit/*")
    seen["state after refusals"] = apps.store.get_incident(incident_id).state.value
    return seen


def _approve_as_editor(apps: Apps, incident_id: str) -> dict:
    import re

    page = apps.patchit.get(f"/incidents/{incident_id}", headers=apps.headers("yolanda"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    answer = apps.patchit.post(
        f"/incidents/{incident_id}/approve",
        data={"csrf_token": token.group(1) if token else ""},
        headers={**apps.headers("yolanda"), "Origin": "http://testserver"},
        follow_redirects=False,
    )
    return {"page": (page.status_code, page.text), "approve": answer.status_code}


@pytest.fixture(scope="module")
def scoped(request, airflow_db, tmp_path_factory, remediation_dag, dags_folder):
    """Y fails for real, is captured, remediated up to the approval step, checked, then approved."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "www"))
    import patchit_www_auth

    base = tmp_path_factory.mktemp("scoping")
    repo = base / "payroll"
    (repo / "dags").mkdir(parents=True)
    (repo / "dags" / "payroll_scoping.py").write_text(PAYROLL_DAG)
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "payroll"]):
        _git(repo, *cmd)
    # Airflow runs the copy in its DAG bundle (dag.test() needs a serialized DAG); `repo_map`
    # names the repository it comes from, as a deployment that ships DAGs from git would.
    deployed = dags_folder / "payroll_scoping.py"
    deployed.write_text(PAYROLL_DAG)

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    with create_session() as session:
        before = set(session.scalars(select(DagRun.run_id).where(DagRun.dag_id == REMEDIATION)))
    result = types.SimpleNamespace(repo=repo)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__AUTH_MANAGER", "patchit_www_auth.RestrictedAuthManager")
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{r}" for u, r in USERS.items()))
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
        mp.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(base / "patchit.db"))
        mp.setenv("AIRFLOW__PATCHIT__APPROVAL", "always")
        mp.setenv("AIRFLOW__PATCHIT__REPO_MAP", json.dumps({Y_DAG: str(repo)}))
        for user, dags in SCOPES.items():
            mp.setitem(patchit_www_auth.RESTRICTED, user, dags)
        apps = Apps(f"sqlite:///{base / 'patchit.db'}")
        try:
            failing = _load_dag(deployed)
            assert str(failing.test().state) == "failed"
            with create_session() as session:
                (result.conf,) = session.scalars(
                    select(DagRun.conf).where(DagRun.dag_id == REMEDIATION, DagRun.run_id.not_in(before))
                )
            incident = apps.store.get_incident_by_event(result.conf["event_ref"])
            assert incident is not None, "capture stored the event before starting the run"
            result.incident_id = incident.incident_id

            def checker():
                try:
                    deadline = time.monotonic() + 240
                    while (run_id := _awaiting_approval_run()) is None and time.monotonic() < deadline:
                        time.sleep(0.3)
                    result.run_id = run_id
                    result.matrix = _matrix(apps, result.incident_id, run_id, repo)
                    result.editor = _approve_as_editor(apps, result.incident_id)
                except BaseException as exc:  # surfaced by the tests
                    result.error = exc

            result.error = None
            thread = threading.Thread(target=checker, daemon=True)
            thread.start()
            # dag.test() writes the task logs to stdout/stderr: pytest's capture holds them
            capture = request.config.pluginmanager.getplugin("capturemanager")
            result.logs_captured = capture is not None and capture.is_globally_capturing()
            if result.logs_captured:
                capture.read_global_capture()  # drop what came before the remediation run
            result.dag_run = remediation_dag.test(run_conf=dict(result.conf))
            thread.join(10)
            result.task_output = "\n".join(capture.read_global_capture()) if result.logs_captured else ""
            result.incident = apps.store.get_incident(result.incident_id)
            result.audit = apps.store.audit_trail(result.incident_id)
            result.hitl_after = apps.get("xavier", f"/api/v2/dags/{REMEDIATION}/dagRuns/~/hitlDetails").text
            result.xcom_approval = apps.get(
                "xavier",
                f"/api/v2/dags/{REMEDIATION}/dagRuns/{result.dag_run.run_id}/taskInstances/approval"
                "/xcomEntries/return_value",
            ).text
            yield result
        finally:
            apps.close()
            deployed.unlink()
            with create_session() as session:
                new = set(session.scalars(select(DagRun.run_id).where(DagRun.dag_id == REMEDIATION))) - before
                session.execute(
                    delete(TaskInstance).where(TaskInstance.dag_id == REMEDIATION, TaskInstance.run_id.in_(new))
                )
                session.execute(delete(DagRun).where(DagRun.dag_id == REMEDIATION, DagRun.run_id.in_(new)))
            from airflow.api_fastapi.app import purge_cached_app

            purge_cached_app()


def test_the_run_is_real_and_waited_for_approval(scoped):
    assert scoped.error is None, scoped.error
    assert scoped.run_id == scoped.dag_run.run_id
    assert set(scoped.conf) == {"event_ref", "dag_id", "run_id", "task_id", "map_index", "try_number"}
    assert scoped.incident.event.pipeline_id == Y_DAG
    assert scoped.incident.event.error.type == "NameError"  # the failure itself is in PATCHIT's store


def test_airflow_api_shows_no_text_of_the_failure_to_a_reader_of_another_dag(scoped):
    matrix = scoped.matrix
    assert len(matrix["run ids"]) >= 2  # capture's run and the one dag.test() executed
    airflow_answers = {k: v for k, v in matrix.items() if k.startswith("GET")}
    assert airflow_answers["GET dagRuns"][0] == 200 and airflow_answers[f"GET hitlDetails {REMEDIATION}"][0] == 200
    assert airflow_answers["GET hitlDetails ~"][0] in (200, 403)
    assert "event_ref" in airflow_answers["GET dagRuns"][1]  # he does see the runs, as references
    assert scoped.incident_id in airflow_answers[f"GET hitlDetails {REMEDIATION}"][1]  # and the request, as ids
    assert any(k.startswith("GET xcom ") for k in airflow_answers), "XComs were read"
    leaks = {name: _leaks(text) for name, (code, text) in airflow_answers.items() if _leaks(text)}
    assert leaks == {}


def test_patchit_routes_show_nothing_of_it_to_him(scoped):
    answers = {k: v for k, v in scoped.matrix.items() if k.startswith("PATCHIT /")}
    assert answers[f"PATCHIT /incidents/{scoped.incident_id}"][0] == 404
    assert answers[f"PATCHIT /api/incidents/{scoped.incident_id}"][0] == 404
    assert json.loads(answers["PATCHIT /api/incidents"][1])["total"] == 0
    leaks = {name: _leaks(text) for name, (code, text) in answers.items() if _leaks(text)}
    assert leaks == {}
    assert all(scoped.incident_id not in text for code, text in answers.values())


def test_his_answers_are_refused_and_nothing_is_published(scoped):
    matrix = scoped.matrix
    assert matrix["PATCH hitlDetails as xavier"][0] == 403
    assert matrix["PATCH hitlDetails as admin"][0] == 403  # assigned to PATCHIT's approval identity
    assert matrix["PATCHIT approve as xavier"][0] == 404  # he cannot read the DAG: not even its existence shows
    assert matrix["branches after refusals"] == "" and matrix["state after refusals"] == "validated"


def test_an_editor_of_the_failing_dag_approves_on_the_patchit_page(scoped):
    code, page = scoped.editor["page"]
    assert code == 200 and "totl_salary" in page  # the evidence is there, behind its DAG's checks
    assert scoped.editor["approve"] == 303
    assert str(scoped.dag_run.state) == "success"
    assert scoped.incident.state.value == "published"
    granted = [a for a in scoped.audit if a.kind == "approval.granted"]
    assert [a.actor for a in granted] == ["yolanda"]
    assert _git(scoped.repo, "branch", "--list", "patchit/*").strip() == f"patchit/{scoped.incident.fingerprint}"
    assert _leaks(scoped.hitl_after) == [] and "yolanda" in scoped.hitl_after
    assert _leaks(scoped.xcom_approval) == [] and "Approve" in scoped.xcom_approval


def test_the_remediation_task_logs_name_ids_and_outcomes_only(scoped):
    if not scoped.logs_captured:
        pytest.skip("run without -s: the task logs are read from pytest's output capture")
    assert f"PATCHIT incident {scoped.incident_id}" in scoped.task_output  # the logs were captured
    assert f"PATCHIT publish: incident {scoped.incident_id} is published" in scoped.task_output
    # The same output holds the in-process API server's own tracebacks (it tries a log server while
    # the matrix reads task logs), so "Traceback" alone says nothing here: Y's failure text would.
    specific = [marker for marker in MARKERS if marker != "Traceback"]
    lines = [line for line in scoped.task_output.splitlines() if any(marker in line for marker in specific)]
    assert lines == []
