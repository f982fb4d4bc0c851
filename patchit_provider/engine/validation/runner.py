"""Imports a DAG file and replays one task's callable, inside a subprocess started by validation.

Run as a script (`python runner.py DAG_FILE DAG_ID TASK_ID ROOT RESULT_JSON`), never imported by
the engine: this is where the pipeline's own code (and Airflow) gets imported, so it happens in a
throwaway process with its own AIRFLOW_HOME, a timeout and bounded output. It imports nothing of
PATCHIT's. The result goes to RESULT_JSON, because Airflow logs to stdout.
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


def _plain(value: object) -> bool:
    """Literal arguments only: XComArgs and Jinja templates need a real task run."""
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return True
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def _replay(task: Any) -> dict[str, Any]:
    from airflow.providers.standard.operators.python import PythonOperator

    kinds = {cls.__name__ for cls in type(task).__mro__}
    if not isinstance(task, PythonOperator) or "_BasePythonVirtualenvOperator" in kinds:
        return {"status": "not_possible", "detail": f"{type(task).__name__} is not a plain PythonOperator / @task"}
    func, args, kwargs = task.python_callable, list(task.op_args or ()), dict(task.op_kwargs or {})
    if not (_plain(args) and _plain(kwargs)):
        return {"status": "not_possible", "detail": "the callable's arguments are XComs or templates"}
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()) or CONTEXT_NAMES & set(params):
        return {"status": "not_possible", "detail": "the callable takes the task context"}
    try:
        inspect.signature(func).bind(*args, **kwargs)
    except TypeError as exc:
        return {"status": "not_possible", "detail": f"the callable cannot be called with its op_args/op_kwargs: {exc}"}
    try:
        func(*args, **kwargs)
    except BaseException as exc:  # the replay's verdict, reported to the parent
        return {"status": "failed", "error_type": type(exc).__name__, "detail": traceback.format_exc()[-MAX_DETAIL:]}
    return {"status": "ok", "detail": f"{getattr(func, '__name__', 'callable')} returned normally"}


def run(dag_file: str, dag_id: str, task_id: str, root: str) -> dict[str, Any]:
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
            _replay(task)
            if task is not None
            else {"status": "not_possible", "detail": f"DAG {dag_id!r} has no task {task_id!r}"}
        )
    return result


def main(argv: list[str]) -> int:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # our own directory must not shadow the pipeline's modules
    dag_file, dag_id, task_id, root, out = argv[1:6]
    try:
        result = run(dag_file, dag_id, task_id, root)
    except BaseException:  # an import that kills the runner is still a result
        result = {"import": {"ok": False, "detail": traceback.format_exc()[-MAX_DETAIL:]}, "replay": None}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
