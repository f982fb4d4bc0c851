"""What makes the root cause fast (docs/architecture.md, "Latency"): the failure's own end time on
the event, the scheduler preloading PATCHIT for its forks, and several stages per task without
losing which stage failed."""

from __future__ import annotations

import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest

from patchit_provider.engine.stages.base import StageKey

pytestmark = pytest.mark.integration


def _ti(**extra):
    dag = types.SimpleNamespace(dag_id="orders_daily", tags=["sales"], fileloc="/srv/pipelines/dags/orders.py")
    task = types.SimpleNamespace(dag=dag, task_type="PythonOperator", owner="data")
    return types.SimpleNamespace(
        dag_id="orders_daily", run_id="manual__1", task_id="load", map_index=-1, try_number=1, task=task, **extra
    )


def test_the_event_carries_the_failures_own_end_time():
    from patchit_provider.capture.event import build_event

    ended = datetime.now(timezone.utc) - timedelta(seconds=42)
    assert build_event(_ti(end_date=ended), "boom").detected_at == ended
    # no usable end time (none, naive, in the future): the moment capture saw the failure
    for end in (None, ended.replace(tzinfo=None), datetime.now(timezone.utc) + timedelta(hours=2)):
        before = datetime.now(timezone.utc)
        detected = build_event(_ti(end_date=end), "boom").detected_at
        assert before <= detected <= datetime.now(timezone.utc)


def test_only_a_scheduler_with_a_local_executor_preloads():
    from patchit_provider.capture.warm import forks_tasks

    assert forks_tasks(["airflow", "scheduler", "--skip-serve-logs"], "LocalExecutor")
    assert forks_tasks(["airflow", "scheduler"], "airflow.executors.local_executor.LocalExecutor")
    assert not forks_tasks(["airflow", "scheduler"], "CeleryExecutor")
    assert not forks_tasks(["airflow", "api-server"], "LocalExecutor")
    assert not forks_tasks(["airflow", "dag-processor"], "LocalExecutor")
    assert not forks_tasks(["pytest"], "LocalExecutor")


def test_preload_reports_what_it_could_not_import_and_runs_once(monkeypatch):
    from patchit_provider.capture import warm

    monkeypatch.setattr(warm, "_done", [])
    assert warm.preload(("json", "patchit_provider.no_such_module")) == ["patchit_provider.no_such_module"]
    assert warm.preload(("patchit_provider.no_such_module",)) == []  # once per process


SCHEDULER_START = """
import sys
sys.argv = ["airflow", "scheduler"]
from patchit_provider.plugins.listener import on_starting
before = "patchit_provider.engine.pipeline" in sys.modules
on_starting(component=object())
from patchit_provider.capture.warm import MODULES
print(before, all(name in sys.modules for name in MODULES))
"""


@pytest.mark.parametrize(("executor", "expected"), [("LocalExecutor", "False True"), ("CeleryExecutor", "False False")])
def test_the_scheduler_starts_with_patchit_imported_for_its_forks(executor, expected, tmp_path):
    """The listener's on_starting hook, in a process that looks like `airflow scheduler`."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run([sys.executable, "-c", SCHEDULER_START], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == expected


class _Remediator:
    """Records the stages asked for; raises in the one named `fails`."""

    def __init__(self, fails: StageKey | None = None) -> None:
        self.fails, self.ran = fails, []

    def run_stage(self, key, incident_id):
        self.ran.append(key)
        if key is self.fails:
            raise RuntimeError("the log said: password=hunter2")
        state = types.SimpleNamespace(value="triaged")
        return types.SimpleNamespace(incident_id=incident_id, state=state, outcome=None)


def _operator(cls):
    return cls(task_id=f"t_{cls.__name__.lower()}")


def test_one_task_runs_its_stages_in_order(monkeypatch):
    from patchit_provider.operators import remediation as operators

    monkeypatch.setattr(operators, "_mask_task_connections", lambda store, incident_id: None)
    remediator = _Remediator()
    assert _operator(operators.PatchOperator).run_stages(remediator, None, "inc-1") == "inc-1"
    assert remediator.ran == [StageKey.READ, StageKey.PROPOSE, StageKey.VALIDATE]


@pytest.mark.parametrize(
    ("cls", "fails", "ran"),
    [
        ("AnalyseOperator", StageKey.EVIDENCE, [StageKey.EVIDENCE]),
        ("AnalyseOperator", StageKey.TRIAGE, [StageKey.EVIDENCE, StageKey.TRIAGE]),
        ("PatchOperator", StageKey.PROPOSE, [StageKey.READ, StageKey.PROPOSE]),
    ],
)
def test_a_failing_stage_names_itself_and_stops_its_task(monkeypatch, cls, fails, ran):
    from airflow.sdk.exceptions import AirflowException

    from patchit_provider.operators import remediation as operators

    monkeypatch.setattr(operators, "_mask_task_connections", lambda store, incident_id: None)
    remediator = _Remediator(fails=fails)
    with pytest.raises(AirflowException) as failed:
        _operator(getattr(operators, cls)).run_stages(remediator, None, "inc-1")
    assert f"PATCHIT {fails.value} failed for incident inc-1: RuntimeError" in str(failed.value)
    assert "hunter2" not in str(failed.value)  # the detail is in the audit trail, not the task log
    assert remediator.ran == ran
