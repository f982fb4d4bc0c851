"""(d) A manual trigger with a task-instance reference: the receive stage fetches log and DAG
details through the REST API (a local fake, or httpx.MockTransport, in Airflow's shapes)."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.integration

DAG_ID, RUN_ID, TASK_ID = "orders_daily", "manual__2026-11-22T03:00:00+00:00", "summarize_orders"
TI_PATH = f"/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances/{TASK_ID}"


def log_records(fileloc: str) -> list[dict]:
    """What GET .../logs/1 answers (StructuredLogMessage records of an Airflow 3 JSON log)."""
    return [
        {
            "timestamp": "2026-11-22T03:00:01.100000Z",
            "event": "::group::Pre Execute",
            "level": "info",
            "logger": "task",
        },
        {
            "timestamp": "2026-11-22T03:00:01.500000Z",
            "event": "Task failed with exception",
            "level": "error",
            "logger": "task",
            "error_detail": [
                {
                    "exc_type": "NameError",
                    "exc_value": "name 'order_totl' is not defined",
                    "exc_notes": [],
                    "syntax_error": None,
                    "is_cause": False,
                    "is_group": False,
                    "exceptions": [],
                    "frames": [{"filename": fileloc, "lineno": 14, "name": "summarize_orders"}],
                }
            ],
        },
    ]


def details(fileloc: str) -> dict:
    return {
        "dag_id": DAG_ID,
        "fileloc": fileloc,
        "relative_fileloc": "orders.py",
        "bundle_name": "pipelines",
        "bundle_version": None,
        "owners": ["airflow"],
        "tags": [{"name": "sales", "dag_id": DAG_ID}],
    }


def mock_transport(fileloc: str, seen: list) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, dict(request.url.params)))
        path = request.url.path
        if path == "/auth/token":
            return httpx.Response(201, json={"access_token": "t"})
        assert request.headers["Authorization"] == "Bearer t"
        if path == f"/api/v2/dags/{DAG_ID}/details":
            return httpx.Response(200, json=details(fileloc))
        if path == TI_PATH:
            return httpx.Response(200, json={"task_id": TASK_ID, "try_number": 2, "state": "failed"})
        if path.startswith(TI_PATH + "/logs/"):
            return httpx.Response(200, json={"content": log_records(fileloc), "continuation_token": None})
        return httpx.Response(404, json={"detail": "Not Found"})

    return httpx.MockTransport(handler)


def test_reference_resolves_through_the_rest_api():
    from patchit_provider.capture.reference import resolve_conf
    from patchit_provider.hooks.api import PatchitApiHook

    seen: list = []
    hook = PatchitApiHook(
        base_url="http://airflow.test",
        credentials=("admin", "pw"),
        transport=mock_transport("/opt/airflow/dags/orders.py", seen),
    )
    event = resolve_conf({"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": TASK_ID, "map_index": -1}, lambda: hook)
    assert (event.pipeline_id, event.run_id, event.task_id, event.try_number) == (DAG_ID, RUN_ID, TASK_ID, 2)
    assert event.code_path == "/opt/airflow/dags/orders.py"
    assert event.metadata["tags"] == ["sales"] and event.metadata["bundle_name"] == "pipelines"
    records = [json.loads(line) for line in event.log_text.splitlines()]
    assert records[-1]["error_detail"][0]["exc_type"] == "NameError"
    log_calls = [s for s in seen if "/logs/" in s[1]]
    assert log_calls == [("GET", TI_PATH + "/logs/2", {"full_content": "true", "map_index": "-1"})]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({}, "conf needs either 'event_ref'"),
        ({"event": "oops"}, "is not accepted: a failure's text"),
        ({"event": {"pipeline_id": "x"}}, "a failure's text never travels in a run's conf"),
        ({"event_ref": "../../etc/passwd"}, "must be an event id"),
        ({"event_ref": {"id": 1}}, "must be an event id"),
        ({"dag_id": "x", "run_id": "r"}, "invalid task-instance reference: task_id"),
        ({"dag_id": "x", "run_id": "r", "task_id": "t", "try_number": 0}, "try_number"),
    ],
)
def test_malformed_conf_says_what_is_expected(conf, message):
    from patchit_provider.capture.reference import ConfError, parse_conf

    with pytest.raises(ConfError, match=message.replace("(", r"\(")):
        parse_conf(conf)


def test_event_ref_is_looked_up_and_falls_back_to_the_task_instance():
    from patchit_provider.capture.reference import ConfError, resolve_conf
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.hooks.api import PatchitApiHook

    stored = FailureEvent(pipeline_id=DAG_ID, run_id=RUN_ID, task_id=TASK_ID, try_number=2, log_text="kept")
    lookup = {stored.event_id: stored}.get
    no_api = lambda: pytest.fail("a stored event needs no REST call")  # noqa: E731
    assert resolve_conf({"event_ref": stored.event_id}, no_api, stored=lookup) is stored
    with pytest.raises(ConfError, match="no event 'gone' in the PATCHIT store"):
        resolve_conf({"event_ref": "gone"}, no_api, stored=lookup)
    # capture could not store it in time: the task-instance ids next to the reference are used
    seen: list = []
    hook = PatchitApiHook(
        base_url="http://airflow.test",
        credentials=("admin", "pw"),
        transport=mock_transport("/opt/airflow/dags/orders.py", seen),
    )
    conf = {"event_ref": "gone", "dag_id": DAG_ID, "run_id": RUN_ID, "task_id": TASK_ID, "try_number": 2}
    event = resolve_conf(conf, lambda: hook, stored=lookup)
    assert event.event_id == stored.event_id and event.metadata["source"] == "reference"


def test_receive_stage_builds_the_event_from_the_fetched_log(
    fake_api, remediation_dag, pipeline_repo_root, remediation_runs
):
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.hooks.store import PatchitStoreHook

    fileloc = str(pipeline_repo_root / "dags" / "orders.py")
    fake_api.logs[TI_PATH + "/logs/1"] = log_records(fileloc)
    fake_api.details[f"/api/v2/dags/{DAG_ID}/details"] = details(fileloc)
    before = remediation_runs()
    conf = {"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": TASK_ID, "try_number": 1}
    dag_run = remediation_dag.test(run_conf=conf, mark_success_pattern=r"(?!analyse$).*")
    assert str(dag_run.state) == "success"
    store = PatchitStoreHook(settings=PatchitSettings()).get_store()
    try:
        # the analyse task triages it too: it may be grouped into an open incident of an earlier test
        incident = store.get_incident_by_event(
            FailureEvent(pipeline_id=DAG_ID, run_id=RUN_ID, task_id=TASK_ID, map_index=-1, try_number=1).event_id
        )
        assert incident is not None and incident.event.run_id == RUN_ID
    finally:
        store.close()
    assert incident.event.code_path == fileloc and incident.event.try_number == 1
    assert "order_totl" in incident.event.log_text
    assert incident.event.metadata["source"] == "reference"
    # the manual run itself is not a failure to capture, and no capture ran
    assert len(remediation_runs()) == len(before) + 1


def test_malformed_conf_fails_receive_and_patchit_does_not_capture_itself(remediation_dag, remediation_runs):
    before = remediation_runs()
    dag_run = remediation_dag.test(run_conf={"event": {"pipeline_id": "x"}})
    assert str(dag_run.state) == "failed"
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert states["analyse"] == "failed" and states["publish"] == "upstream_failed"
    after = remediation_runs()
    assert len(after) == len(before) + 1  # only the dag.test() run itself, no capture of it
