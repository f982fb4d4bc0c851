"""The replay with the failed run's values: a TaskFlow task taking an upstream XCom and a template
is called in the sandbox with what the failed try received (ReplayInputs), failing without the
patch and passing with it; a replay that cannot be made is a distinct `not_run` state."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from patchit_testing import amout_event, amout_triage

from patchit_provider.engine.evidence_inputs import fetch_replay_inputs, not_plain_json, parse_artifact
from patchit_provider.engine.models import (
    CheckResult,
    FailureEvent,
    PatchProposal,
    ReplayInputs,
    ReplayXCom,
    Triage,
    ValidationResult,
)
from patchit_provider.engine.patching import make_diff
from patchit_provider.engine.settings import PatchitSettings

SETTINGS = PatchitSettings(validation_timeout=240)
DAG = textwrap.dedent(
    '''\
    """Orders in any currency, converted at a rate given by a template."""
    from datetime import datetime

    from airflow.sdk import dag, task


    @task
    def extract_orders() -> list[dict]:
        raise RuntimeError("reads a file that only exists in production")


    @task
    def total_usd(orders: list[dict], rate: str) -> float:
        total = 0.0
        for order in orders:
            amount = order["amount"]
            if order["currency"] != "USD":
                amount = amout * float(rate)
            total += amount
        return round(total, 2)


    @dag(dag_id="orders_fx", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, params={"rate": "1.1"})
    def orders_fx():
        total_usd(extract_orders(), rate="{{ params.rate }}")


    orders_fx()
    '''
)
TYPO, FIX, WRONG = "amount = amout * float(rate)", "amount = amount * float(rate)", "amount = amuont * float(rate)"


@pytest.fixture
def fx_repo(tmp_path):
    root = tmp_path / "pipelines"
    (root / "dags").mkdir(parents=True)
    (root / "dags" / "orders_fx.py").write_text(DAG)
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "fx"]):
        subprocess.run(
            cmd,
            cwd=root,
            check=True,
            env={"PATH": "/usr/bin:/bin", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "HOME": str(tmp_path)}
            | {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"},
        )
    return root


def _event(root) -> FailureEvent:
    return amout_event("orders_fx", "manual__2026-12-02", "total_usd", root / "dags" / "orders_fx.py")


def _triage() -> Triage:
    return amout_triage("f1e2d3c4b5a69788", "NameError in dags/orders_fx.py:17", "dags/orders_fx.py", 17)


def _patch(root, new: str) -> PatchProposal:
    text = (root / "dags" / "orders_fx.py").read_text()
    path = "dags/orders_fx.py"
    return PatchProposal(producer="llm:test/m", diff=make_diff(root, {path: text.replace(TYPO, new)}), files=[path])


def _inputs(orders: list[dict], rate: str = "1.1") -> ReplayInputs:
    return ReplayInputs(
        dag_id="orders_fx",
        run_id="manual__2026-12-02",
        task_id="total_usd",
        xcoms=[ReplayXCom(task_id="extract_orders", value=orders)],
        rendered_fields={"op_args": [orders], "op_kwargs": {"rate": rate}, "templates_dict": None},
    )


def _replay(result: ValidationResult) -> CheckResult:
    return next(c for c in result.checks if c.name == "replay")


@pytest.mark.integration
def test_the_failed_runs_xcom_and_rendered_template_reproduce_the_failure_and_the_fix_passes(fx_repo):
    from patchit_provider.engine.validation import validate

    inputs = _inputs([{"amount": 10, "currency": "EUR"}, {"amount": 5, "currency": "USD"}])
    result = validate(_patch(fx_repo, FIX), _event(fx_repo), _triage(), fx_repo, SETTINGS, inputs)
    replay = _replay(result)
    assert result.passed and result.replay == "reproduced_and_fixed" and result.replayed, result.checks
    assert replay.status == "passed"
    assert "unpatched: NameError reproduced with the failed run's XCom extract_orders" in replay.output
    assert "rendered op_kwargs['rate']" in replay.output and "patched: total_usd" in replay.output
    assert result.not_replayed is None and result.approval_reason is None

    # A fix that is no fix: reproduced, and the patched callable still fails.
    wrong = validate(_patch(fx_repo, WRONG), _event(fx_repo), _triage(), fx_repo, SETTINGS, inputs)
    assert not wrong.passed and _replay(wrong).status == "failed"
    assert "still fails" in _replay(wrong).output and "amuont" in _replay(wrong).output


@pytest.mark.integration
def test_without_the_failed_runs_values_the_replay_is_not_run_and_replay_required_asks_a_person(fx_repo):
    from patchit_provider.engine.validation import validate

    strict = SETTINGS.model_copy(update={"replay_required": True})
    result = validate(_patch(fx_repo, FIX), _event(fx_repo), _triage(), fx_repo, strict, None)
    replay = _replay(result)
    assert result.passed and not result.replayed and result.replay == "checks_only"
    assert replay.status == "not_run" and replay.output.startswith("not replayed: op_args[0] is an XCom")
    assert result.not_replayed and "were not fetched" in result.not_replayed
    assert result.approval_reason and "replay_required" in result.approval_reason

    # Values that reach the callable only as a serde envelope are not replayed either, and say why.
    tuple_xcom = _inputs([]).model_copy(
        update={"xcoms": [ReplayXCom(task_id="extract_orders", problem="a serialized builtins.tuple, not plain JSON")]}
    )
    again = validate(_patch(fx_repo, FIX), _event(fx_repo), _triage(), fx_repo, SETTINGS, tuple_xcom)
    assert _replay(again).status == "not_run" and "builtins.tuple" in again.not_replayed
    assert again.approval_reason is None  # replay_required is off by default


class FakeTaskApi:
    """The four REST calls, answering as Airflow 3.3 does (shapes checked against the real API)."""

    def __init__(self, xcoms: dict[str, object], fail: set[str] = frozenset()) -> None:
        self.xcoms, self.fail, self.calls = xcoms, fail, []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise TimeoutError("timed out after 10 s")

    def get_task_instance(self, dag_id, run_id, task_id, map_index=-1):
        self._call("ti")
        return {"try_number": 1, "rendered_fields": {"op_args": [], "op_kwargs": {"rate": "1.1", "token": "s3cr3t"}}}

    def get_dag_tasks(self, dag_id):
        self._call("tasks")
        return [
            {"task_id": "extract_orders", "downstream_task_ids": ["total_usd"]},
            {"task_id": "pair", "downstream_task_ids": ["total_usd"]},
            {"task_id": "unrelated", "downstream_task_ids": []},
            {"task_id": "total_usd", "downstream_task_ids": []},
        ]

    def list_xcom_entries(self, dag_id, run_id, task_id, limit=100):
        self._call(f"list:{task_id}")
        return [{"key": "return_value", "map_index": -1, "task_id": task_id}] if task_id in self.xcoms else []

    def get_xcom_entry(self, dag_id, run_id, task_id, key, map_index=-1):
        self._call(f"get:{task_id}")
        return {"key": key, "value": self.xcoms[task_id]}


def test_fetch_keeps_upstream_json_values_and_says_why_others_are_left_out():
    api = FakeTaskApi(
        {
            "extract_orders": [{"amount": 10, "currency": "EUR"}],
            "pair": {"__classname__": "builtins.tuple", "__version__": 1, "__data__": [1, 2]},
            "unrelated": "never asked for",
        }
    )
    event = FailureEvent(pipeline_id="orders_fx", run_id="r1", task_id="total_usd", try_number=1)
    inputs = fetch_replay_inputs(event, api)
    assert "list:unrelated" not in api.calls  # only the failed task's upstream tasks
    by_task = {x.task_id: x for x in inputs.xcoms}
    assert by_task["extract_orders"].value == [{"amount": 10, "currency": "EUR"}]
    assert by_task["pair"].value is None and "builtins.tuple, not plain JSON" in by_task["pair"].problem
    assert inputs.rendered_fields["op_kwargs"]["rate"] == "1.1"
    assert "s3cr3t" not in inputs.model_dump_json()  # redacted like all evidence
    assert parse_artifact(inputs.model_dump_json()) == inputs


def test_fetch_never_raises_and_records_what_could_not_be_fetched():
    api = FakeTaskApi({"extract_orders": [1]}, fail={"ti", "get:extract_orders"})
    event = FailureEvent(pipeline_id="orders_fx", run_id="r1", task_id="total_usd")
    inputs = fetch_replay_inputs(event, api)
    assert any("task instance could not be fetched: TimeoutError" in p for p in inputs.problems)
    assert inputs.xcoms[0].problem.startswith("not fetchable: TimeoutError")
    assert fetch_replay_inputs(event.model_copy(update={"task_id": None}), api) is None
    big = FakeTaskApi({"extract_orders": ["x" * 300_000]})
    assert "larger than 256 KiB" in fetch_replay_inputs(event, big).xcoms[0].problem


def test_plain_json_only():
    assert not_plain_json({"a": [1, 2.5, None, True, "x"]}) is None
    assert "datetime" in not_plain_json({"when": {"__classname__": "datetime.datetime", "__data__": 1}})
    assert not_plain_json(b"raw") == "a bytes, not JSON"


def test_a_not_run_check_is_its_own_state():
    assert CheckResult(name="replay", passed=True).status == "passed"
    assert CheckResult.model_validate({"name": "replay", "passed": False}).status == "failed"  # older records
    assert CheckResult(name="replay", passed=True, status="not_run").status == "not_run"
    with pytest.raises(ValueError):
        CheckResult(name="replay", passed=False, status="passed")
