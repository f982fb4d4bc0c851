"""(c) Capture never hurts the task: bounded in time, never raising, and quiet when it should be."""

from __future__ import annotations

import json
import time
import types

import pytest

pytestmark = pytest.mark.integration


def _ti(dag_id="orders_daily", state="failed", tags=("sales",), try_number=1, run_id="manual__2026-01-01"):
    dag = types.SimpleNamespace(dag_id=dag_id, tags=list(tags), fileloc="/srv/pipelines/dags/orders.py")
    task = types.SimpleNamespace(dag=dag, task_type="PythonOperator", owner="data")
    return types.SimpleNamespace(
        dag_id=dag_id,
        run_id=run_id,
        task_id="summarize_orders",
        map_index=-1,
        try_number=try_number,
        state=state,
        task=task,
        hostname="worker-1",
    )


def _live_error() -> NameError:
    try:
        order_total = 1  # noqa: F841
        return order_totl  # noqa: F821
    except NameError as exc:
        return exc


@pytest.fixture()
def calls(monkeypatch):
    """Record capture_failure calls made by the listener instead of capturing."""
    import patchit_provider.capture as capture

    seen: list = []
    monkeypatch.setattr(capture, "capture_failure", lambda ti, error, **kw: seen.append((ti, error, kw)))
    return seen


def _fire(ti, error="boom"):
    from patchit_provider.plugins.listener import on_task_instance_failed

    return on_task_instance_failed(previous_state="running", task_instance=ti, error=error)


def test_retry_captures_nothing(calls):
    _fire(_ti(state="up_for_retry"), _live_error())
    assert calls == []


def test_final_failure_is_captured(calls):
    _fire(_ti(), _live_error())
    assert len(calls) == 1 and calls[0][2]["source"] == "listener"


def test_patchit_own_and_ignored_dags_capture_nothing(calls, patchit_env):
    patchit_env(ignore_dags="legacy_dag, other")
    for dag_id in ("patchit_remediation", "legacy_dag"):
        _fire(_ti(dag_id=dag_id))
    assert calls == []


@pytest.mark.parametrize(
    ("watch", "tags", "captured"),
    [("all", (), True), ("tagged", ("patchit",), True), ("tagged", ("sales",), False), ("none", ("patchit",), False)],
)
def test_watch_setting(calls, patchit_env, watch, tags, captured):
    patchit_env(watch=watch)
    _fire(_ti(tags=tags))
    assert bool(calls) is captured


def test_notifier_is_an_opt_in_regardless_of_watch(calls, patchit_env, monkeypatch):
    import patchit_provider.capture as capture  # noqa: F401  (imported before the DAG, as a task process does)
    from patchit_provider.notifications.patchit import PatchitNotifier

    from airflow.sdk import DAG

    patchit_env(watch="none")
    PatchitNotifier()({"ti": _ti(), "dag": DAG("orders_daily", tags=["sales"]), "exception": _live_error()})
    assert len(calls) == 1 and calls[0][2]["source"] == "notifier"
    calls.clear()
    PatchitNotifier()({"ti": _ti(dag_id="patchit_remediation"), "dag": None})
    assert calls == []


def test_network_refused_returns_fast_without_raising(airflow_db, patchit_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_API", "http://admin:admin@127.0.0.1:9")
    patchit_env(capture_timeout="5")
    start = time.monotonic()
    assert _fire(_ti(), "Executor reported the task as failed") is None
    assert time.monotonic() - start < 5


def test_slow_api_never_makes_the_scheduler_wait(airflow_db, patchit_env, fake_api):
    import patchit_provider.capture.event  # noqa: F401  (a scheduler pays this import once)
    from patchit_provider.capture import wait_for_background

    fake_api.delay = 5.0
    patchit_env(capture_timeout="0.5")
    start = time.monotonic()
    _fire(_ti(), "Executor reported the task as failed")
    assert time.monotonic() - start < 1.5, "the scheduler loop must not wait for the API"
    wait_for_background(10)
    assert fake_api.requests  # it did try, in the background, bounded by its own timeout


def test_hanging_supervisor_channel_is_abandoned_at_the_time_bound(airflow_db, patchit_env, monkeypatch):
    from airflow.sdk.execution_time import task_runner

    class Hanging:
        def send(self, msg):
            time.sleep(5)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Hanging(), raising=False)
    patchit_env(capture_timeout="0.5")
    start = time.monotonic()
    assert _fire(_ti(), _live_error()) is None
    assert time.monotonic() - start < 1.5


@pytest.mark.parametrize("broken", ["build_event", "load_settings"])
def test_raising_inside_capture_never_escapes(airflow_db, monkeypatch, broken):
    import patchit_provider.capture.event as event
    import patchit_provider.config as config

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(event if broken == "build_event" else config, broken, boom)
    assert _fire(_ti(), _live_error()) is None


def test_rest_fallback_triggers_once_then_duplicate(airflow_db, fake_api, patchit_env):
    from patchit_provider.capture import capture_failure

    patchit_env(capture_timeout="10")
    first = capture_failure(_ti(), "Executor reported the task as failed")
    again = capture_failure(_ti(), "Executor reported the task as failed")
    assert first["outcome"] == "created" and again["outcome"] == "duplicate"
    assert first["run_id"] == again["run_id"] == f"patchit__{first['event_id']}"
    assert len(fake_api.runs) == 1
    (body,) = fake_api.runs.values()
    assert body["logical_date"] is None and body["dag_run_id"] == first["run_id"]
    # the conf is a reference: the event's text is in PATCHIT's store, not in the run
    assert body["conf"] == {
        "event_ref": first["event_id"],
        "dag_id": "orders_daily",
        "run_id": "manual__2026-01-01",
        "task_id": "summarize_orders",
        "map_index": -1,
        "try_number": 1,
    }
    store = _store()
    try:
        stored = store.get_incident_by_event(first["event_id"]).event
    finally:
        store.close()
    assert stored.error.model_dump() == {
        "type": "AirflowExternalFailure",
        "message": "Executor reported the task as failed",
        "traceback": None,
        "frames": [],
    }
    posts = [r["path"] for r in fake_api.requests if r["method"] == "POST"]
    assert posts == ["/auth/token", "/api/v2/dags/patchit_remediation/dagRuns"] * 2


def _store():
    from patchit_provider.config import load_settings
    from patchit_provider.hooks.store import PatchitStoreHook

    return PatchitStoreHook(settings=load_settings()).get_store()


@pytest.mark.parametrize("store_problem", ["slow", "unavailable"])
def test_slow_or_unavailable_store_still_starts_the_run_in_time(
    airflow_db, fake_api, patchit_env, monkeypatch, tmp_path, store_problem
):
    """The store write is bounded by its share of capture_timeout; without it the run is still
    started, with the task-instance ids its receive stage fetches the failure by, never the text."""
    from patchit_provider.capture import capture_failure
    from patchit_provider.engine.store import StoreUnavailableError
    from patchit_provider.hooks.store import PatchitStoreHook

    def slow(self):
        time.sleep(5)
        raise StoreUnavailableError("too late")

    def unavailable(self):
        raise StoreUnavailableError("incident store postgresql://patchit@db/patchit unavailable: refused")

    monkeypatch.setattr(PatchitStoreHook, "get_store", slow if store_problem == "slow" else unavailable)
    patchit_env(capture_timeout="1.5", store_path=tmp_path / "patchit.db")
    start = time.monotonic()
    # a string error, as in the scheduler: the REST channel (the fake API) is the one used
    result = capture_failure(_ti(run_id=f"manual__{store_problem}"), "NameError: name 'order_totl' is not defined")
    assert time.monotonic() - start < 2.0
    assert result is not None and result["outcome"] == "created"
    (body,) = fake_api.runs.values()
    assert body["conf"] == {
        "event_ref": result["event_id"],
        "dag_id": "orders_daily",
        "run_id": f"manual__{store_problem}",
        "task_id": "summarize_orders",
        "map_index": -1,
        "try_number": 1,
    }
    assert "order_totl" not in json.dumps(fake_api.requests)  # no text of the failure left the task


def test_only_a_task_process_channel_is_used_for_triggering(airflow_db, monkeypatch):
    """The DAG processor's comms decode other messages: TriggerDagRun would never be answered."""
    import socket

    from airflow.dag_processing.processor import ToDagProcessor, ToManager
    from airflow.sdk.execution_time import comms, task_runner
    from pydantic import TypeAdapter

    from patchit_provider.capture.trigger import _task_channel

    left, right = socket.socketpair()
    try:
        task = comms.CommsDecoder[comms.ToTask, comms.ToSupervisor](socket=left)
        processor = comms.CommsDecoder[ToDagProcessor, ToManager](
            socket=right, body_decoder=TypeAdapter[ToDagProcessor](ToDagProcessor)
        )
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", task, raising=False)
        assert _task_channel() is task
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", processor, raising=False)
        assert _task_channel() is None
        monkeypatch.delattr(task_runner, "SUPERVISOR_COMMS", raising=False)
        assert _task_channel() is None
    finally:
        left.close()
        right.close()


def test_event_from_live_exception_keeps_the_hint_and_frames():
    from patchit_provider.capture.event import build_event

    event = build_event(_ti(), _live_error())
    assert event.error.type == "NameError"
    assert event.error.traceback.rstrip().endswith("Did you mean: 'order_total'?")
    assert event.error.frames[-1].function == "_live_error"
    assert event.code_path == "/srv/pipelines/dags/orders.py"
    assert event.metadata["operator"] == "PythonOperator" and event.metadata["hostname"] == "worker-1"
    assert build_event(_ti(), "x").event_id == event.event_id  # same failure, same id
