"""Imports a DAG file and replays one task's callable, inside a subprocess started by validation.

Run as a script (`python runner.py DAG_FILE DAG_ID TASK_ID ROOT RESULT_JSON [INPUTS_JSON]`), never
imported by the engine: this is where the pipeline's own code (and Airflow) gets imported, so it
happens in a throwaway process with its own AIRFLOW_HOME, a timeout and bounded output. It imports
nothing of PATCHIT's. The result goes to RESULT_JSON, because Airflow logs to stdout.

INPUTS_JSON (models.ReplayInputs, fetched when evidence was collected) holds what the failed try
received: the upstream XCom values and the rendered template fields. An argument that is an XComArg
gets its upstream task's XCom value, a templated string its rendered value, a literal stays as it
is; anything else (mapped or zipped XComArgs, values that were not plain JSON or not fetched,
truncated renderings) makes the replay not possible, with the reason. The values are JSON data,
read with json.load: nothing in them is executed.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback
from typing import Any

# Arguments Airflow fills from the task context: a callable that takes them cannot be called
# faithfully outside a task run.
CONTEXT_NAMES = {
    "ti",
    "task_instance",
    "dag_run",
    "dag",
    "task",
    "params",
    "run_id",
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "conf",
    "macros",
    "var",
    "conn",
    "inlets",
    "outlets",
    "inlet_events",
    "outlet_events",
    "triggering_asset_events",
    "templates_dict",
    "map_index_template",
    "prev_start_date_success",
    "prev_end_date_success",
    "start_date",
    "test_mode",
}
MAX_DETAIL = 4000
MISSING = object()
TRUNCATED = "Truncated. You can change this behaviour in [core]max_templated_field_length."


class NotReplayable(Exception):
    """An argument whose value in the failed try cannot be given to the callable."""


def _templated(value: str) -> bool:
    return "{{" in value or "{%" in value


class Inputs:
    """The failed try's values (models.ReplayInputs as JSON), looked up by XComArg and template."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        self.data = data
        self.xcoms = {(x["task_id"], x["key"], x["map_index"]): x for x in (data or {}).get("xcoms", [])}
        self.rendered = (data or {}).get("rendered_fields") or {}
        self.used: list[str] = []

    def _why_missing(self) -> str:
        problems = (self.data or {}).get("problems") or []
        return f" ({'; '.join(problems)[:600]})" if problems else ""

    def xcom(self, arg: Any, where: str) -> Any:
        from airflow.sdk.definitions.xcom_arg import PlainXComArg

        if not isinstance(arg, PlainXComArg):
            raise NotReplayable(f"{where} is a {type(arg).__name__} (mapped, zipped or concatenated XComs)")
        if self.data is None:
            raise NotReplayable(f"{where} is an XCom and the failed run's values were not fetched")
        task_id, key = arg.operator.task_id, arg.key
        found = self.xcoms.get((task_id, key, -1))
        if found is None:
            if any(k[0] == task_id and k[1] == key for k in self.xcoms):
                raise NotReplayable(f"{where} pulls the XCom of the mapped task {task_id!r}")
            raise NotReplayable(f"{where}: the XCom {key!r} of task {task_id!r} was not fetched{self._why_missing()}")
        if found.get("problem"):
            raise NotReplayable(f"{where}: the XCom {key!r} of task {task_id!r} is {found['problem']}")
        self.used.append(f"XCom {task_id}.{key}" if key != "return_value" else f"XCom {task_id}")
        return found.get("value")

    def template(self, value: str, rendered: Any, where: str) -> Any:
        if self.data is None:
            raise NotReplayable(f"{where} is a template and the failed run's rendered fields were not fetched")
        if rendered is MISSING:
            raise NotReplayable(f"{where} is a template without a rendered value{self._why_missing()}")
        if isinstance(rendered, str) and rendered.startswith(TRUNCATED):
            raise NotReplayable(f"{where}: Airflow stored only a truncated rendering")
        self.used.append(f"rendered {where}")
        return rendered


def _at(rendered: Any, key: Any) -> Any:
    if isinstance(rendered, dict):
        return rendered.get(key, MISSING)
    if isinstance(rendered, list) and isinstance(key, int) and 0 <= key < len(rendered):
        return rendered[key]
    return MISSING


def _resolve(value: Any, rendered: Any, inputs: Inputs, where: str) -> Any:
    """The value the failed try's callable received for `value` (an op_args / op_kwargs item)."""
    from airflow.sdk.definitions.xcom_arg import XComArg

    if isinstance(value, XComArg):
        return inputs.xcom(value, where)
    if isinstance(value, str):
        return inputs.template(value, rendered, where) if _templated(value) else value
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_resolve(item, _at(rendered, i), inputs, f"{where}[{i}]") for i, item in enumerate(value)]
        return type(value)(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _resolve(item, _at(rendered, key), inputs, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (set, frozenset)) and all(
        v is None or isinstance(v, (bool, int, float, bytes)) or (isinstance(v, str) and not _templated(v))
        for v in value
    ):
        return value
    raise NotReplayable(f"{where} is a {type(value).__name__}, which Airflow may render in a real run")


def _replay(task: Any, inputs: Inputs) -> dict[str, Any]:
    from airflow.providers.standard.operators.python import PythonOperator

    kinds = {cls.__name__ for cls in type(task).__mro__}
    if not isinstance(task, PythonOperator) or "_BasePythonVirtualenvOperator" in kinds:
        return {"status": "not_possible", "detail": f"{type(task).__name__} is not a plain PythonOperator / @task"}
    func = task.python_callable
    try:
        args = _resolve(list(task.op_args or ()), inputs.rendered.get("op_args", MISSING), inputs, "op_args")
        kwargs = _resolve(dict(task.op_kwargs or {}), inputs.rendered.get("op_kwargs", MISSING), inputs, "op_kwargs")
    except NotReplayable as exc:
        return {"status": "not_possible", "detail": str(exc)[:MAX_DETAIL]}
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()) or CONTEXT_NAMES & set(params):
        return {"status": "not_possible", "detail": "the callable takes the task context"}
    try:
        inspect.signature(func).bind(*args, **kwargs)
    except TypeError as exc:
        return {"status": "not_possible", "detail": f"the callable cannot be called with its op_args/op_kwargs: {exc}"}
    given = f" with the failed run's {', '.join(inputs.used)}" if inputs.used else ""
    try:
        func(*args, **kwargs)
    except BaseException as exc:  # the replay's verdict, reported to the parent
        return {
            "status": "failed",
            "error_type": type(exc).__name__,
            "detail": traceback.format_exc()[-MAX_DETAIL:],
            "inputs": given,
        }
    return {"status": "ok", "detail": f"{getattr(func, '__name__', 'callable')}{given} returned normally"}


def _load_inputs(path: str | None) -> Inputs:
    if not path:
        return Inputs(None)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return Inputs(None)
    return Inputs(data if isinstance(data, dict) else None)


def run(dag_file: str, dag_id: str, task_id: str, root: str, inputs_path: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"import": None, "replay": None}
    sys.path[:0] = [os.path.dirname(dag_file), root]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dag_file, safe_mode=False, load_op_links=False)
    if bag.import_errors:
        result["import"] = {"ok": False, "detail": "\n".join(bag.import_errors.values())[-MAX_DETAIL:]}
        return result
    dag = bag.dags.get(dag_id)
    if dag is None:
        result["import"] = {"ok": False, "detail": f"the file defines no DAG {dag_id!r} (found: {sorted(bag.dags)})"}
        return result
    result["import"] = {"ok": True, "detail": f"DAG {dag_id!r} with {len(dag.task_dict)} task(s)"}
    if task_id:
        task = dag.task_dict.get(task_id)
        result["replay"] = (
            _replay(task, _load_inputs(inputs_path))
            if task is not None
            else {"status": "not_possible", "detail": f"DAG {dag_id!r} has no task {task_id!r}"}
        )
    return result


def main(argv: list[str]) -> int:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # our own directory must not shadow the pipeline's modules
    dag_file, dag_id, task_id, root, out = argv[1:6]
    inputs_path = argv[6] if len(argv) > 6 else None
    try:
        result = run(dag_file, dag_id, task_id, root, inputs_path)
    except BaseException:  # an import that kills the runner is still a result
        result = {"import": {"ok": False, "detail": traceback.format_exc()[-MAX_DETAIL:]}, "replay": None}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
