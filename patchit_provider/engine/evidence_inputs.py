"""What the failed try received, for validation's replay: the XComs of the tasks it pulls from and
its rendered template fields, fetched through the Airflow REST API when evidence is collected.

The API is a `TaskApi` (hooks/api.py's PatchitApiHook implements it; every call has the hook's
timeout). Values are kept only as JSON data: an XCom is read as stored (`deserialize=false`, so
nothing is unpickled on either side), and a value that is not plain JSON (serde's
`__classname__` envelopes for tuples, datetimes, dataclasses...), too large, or not fetchable is
recorded with the reason instead, so the replay can say why it is not possible. Never raises:
what could not be fetched is in `ReplayInputs.problems`.

Which XComs: those of the failed task's direct upstream tasks in the same run (what TaskFlow
arguments pull); an explicit `xcom_pull` in a template is already resolved in the rendered
fields. The result is redacted like all evidence and bounded (MAX_REPLAY_* in models.py).
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Protocol

from patchit_provider.engine.models import (
    MAX_REPLAY_INPUT_BYTES,
    MAX_REPLAY_VALUE_BYTES,
    MAX_REPLAY_XCOMS,
    FailureEvent,
    Platform,
    ReplayInputs,
    ReplayXCom,
)
from patchit_provider.engine.redaction import redact_obj

ARTIFACT = "replay_inputs.json"
DEADLINE_SECONDS = 30.0  # all the calls of one fetch together
# serde's markers for values JSON cannot hold (airflow.sdk.serde): not replayable as data.
SERDE_MARKERS = ("__classname__", "__type", "__var", "__data__", "__version__")
MAX_PROBLEM_CHARS = 300


class TaskApi(Protocol):
    """The Airflow REST API calls the fetch needs (PatchitApiHook implements them)."""

    def get_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]: ...
    def get_dag_tasks(self, dag_id: str) -> list[dict[str, Any]]: ...
    def list_xcom_entries(self, dag_id: str, run_id: str, task_id: str, limit: int = 100) -> list[dict[str, Any]]: ...
    def get_xcom_entry(
        self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1
    ) -> dict[str, Any]: ...


def _problem(what: str, exc: BaseException) -> str:
    return f"{what}: {type(exc).__name__}: {' '.join(str(exc).split())}"[:MAX_PROBLEM_CHARS]


def not_plain_json(value: Any, depth: int = 0) -> str | None:
    """None when `value` is plain JSON data a callable would have received as is, else why not."""
    if depth > 64:
        return "nested too deeply"
    if value is None or isinstance(value, (bool, int, float, str)):
        return None
    if isinstance(value, list):
        return next((why for why in (not_plain_json(item, depth + 1) for item in value) if why), None)
    if isinstance(value, dict):
        if any(key in value for key in SERDE_MARKERS):
            return f"a serialized {value.get('__classname__') or value.get('__type') or 'object'}, not plain JSON"
        return next((why for why in (not_plain_json(item, depth + 1) for item in value.values()) if why), None)
    return f"a {type(value).__name__}, not JSON"


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str))


def _xcom(api: TaskApi, event: FailureEvent, task_id: str, entry: dict[str, Any]) -> ReplayXCom:
    key = str(entry.get("key") or "return_value")
    map_index = int(entry.get("map_index", -1))
    try:
        value = api.get_xcom_entry(event.pipeline_id, event.run_id, task_id, key, map_index).get("value")
    except Exception as exc:  # noqa: BLE001 - any API failure makes the value unavailable, never the stage
        return ReplayXCom(task_id=task_id, key=key, map_index=map_index, problem=_problem("not fetchable", exc))
    why = not_plain_json(value)
    if why is None and _size(value) > MAX_REPLAY_VALUE_BYTES:
        why = f"larger than {MAX_REPLAY_VALUE_BYTES // 1024} KiB"
    if why:
        return ReplayXCom(task_id=task_id, key=key, map_index=map_index, problem=why)
    return ReplayXCom(task_id=task_id, key=key, map_index=map_index, value=value)


def fetch_replay_inputs(event: FailureEvent, api: TaskApi, deadline: float = DEADLINE_SECONDS) -> ReplayInputs | None:
    """The failed Airflow task's inputs (None for other platforms or without a task), redacted.
    An API with a `session()` (PatchitApiHook) makes all the calls on one client and token."""
    if event.platform is not Platform.AIRFLOW or not event.task_id:
        return None
    opener: Callable[[], AbstractContextManager[Any]] = getattr(api, "session", None) or nullcontext
    try:
        with opener():
            return _fetch(event, event.task_id, api, deadline)
    except Exception as exc:  # noqa: BLE001 - e.g. the token request itself failed
        return ReplayInputs(
            dag_id=event.pipeline_id,
            run_id=event.run_id,
            task_id=event.task_id,
            map_index=event.map_index,
            try_number=event.try_number,
            problems=[_problem("the Airflow API could not be reached", exc)],
        )


def _fetch(event: FailureEvent, task_id: str, api: TaskApi, deadline: float) -> ReplayInputs:
    ends = time.monotonic() + deadline
    inputs = ReplayInputs(
        dag_id=event.pipeline_id,
        run_id=event.run_id,
        task_id=task_id,
        map_index=event.map_index,
        try_number=event.try_number,
    )
    problems: list[str] = []
    try:
        ti = api.get_task_instance(event.pipeline_id, event.run_id, task_id, event.map_index)
        rendered = ti.get("rendered_fields") or {}
        if not isinstance(rendered, dict):
            problems.append("the task instance's rendered fields are not a JSON object")
        elif _size(rendered) > MAX_REPLAY_VALUE_BYTES:
            problems.append(f"the rendered template fields are larger than {MAX_REPLAY_VALUE_BYTES // 1024} KiB")
        else:
            inputs.rendered_fields = rendered
        if event.try_number is not None and ti.get("try_number") not in (None, event.try_number):
            problems.append(
                f"the task instance is at try {ti.get('try_number')}, the failure was try {event.try_number}: "
                "its rendered fields may be a later try's"
            )
    except Exception as exc:  # noqa: BLE001
        problems.append(_problem("the task instance could not be fetched", exc))
    try:
        tasks = api.get_dag_tasks(event.pipeline_id)
        upstream = sorted(str(task["task_id"]) for task in tasks if task_id in (task.get("downstream_task_ids") or []))
    except Exception as exc:  # noqa: BLE001
        problems.append(_problem("the DAG's tasks could not be fetched", exc))
        upstream = []
    xcoms: list[ReplayXCom] = []
    total = 0
    for up in upstream:
        if time.monotonic() > ends:
            problems.append(f"stopped after {deadline:g} s: the XComs of {up} and later tasks were not fetched")
            break
        try:
            entries = api.list_xcom_entries(event.pipeline_id, event.run_id, up)
        except Exception as exc:  # noqa: BLE001
            problems.append(_problem(f"the XComs of {up} could not be listed", exc))
            continue
        for entry in entries:
            if len(xcoms) >= MAX_REPLAY_XCOMS:
                problems.append(f"more than {MAX_REPLAY_XCOMS} upstream XComs: the rest were not fetched")
                break
            xcom = _xcom(api, event, up, entry)
            size = _size(xcom.value)
            if xcom.problem is None and total + size > MAX_REPLAY_INPUT_BYTES:
                xcom = xcom.model_copy(
                    update={
                        "value": None,
                        "problem": f"the inputs together exceed {MAX_REPLAY_INPUT_BYTES // 1024} KiB",
                    }
                )
            total += size if xcom.problem is None else 0
            xcoms.append(xcom)
    inputs.xcoms = xcoms
    inputs.problems = problems
    redacted: ReplayInputs = redact_obj(inputs)[0]
    return redacted


def parse_artifact(content: str | None) -> ReplayInputs | None:
    """The stored artifact back as ReplayInputs; None when absent or unreadable (the store's
    redaction of the text could in theory break its JSON: the replay then says it has no inputs)."""
    if not content:
        return None
    try:
        return ReplayInputs.model_validate_json(content)
    except ValueError:
        return None
