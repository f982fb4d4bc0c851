"""Build a FailureEvent from what Airflow hands a listener or a failure callback.

Three shapes arrive here: a RuntimeTaskInstance with the live exception (task process), an ORM
TaskInstance with a string error (scheduler / API server), and a callback context dict. Only
attribute reads happen (on an ORM TI at most a lazy load of its DAG row, allowed in those
processes): no network, no reading of the log file.
"""

from __future__ import annotations

import os
import socket
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from patchit_provider.capture.suggest import with_hint
from patchit_provider.engine.models import ErrorInfo, FailureEvent, Frame, Platform
from patchit_provider.hooks.masking import masked

# `type` of an ErrorInfo when Airflow only gives a string (task killed, marked failed by a person).
EXTERNAL_ERROR_TYPE = "AirflowExternalFailure"
MAX_FRAMES = 60
LOG_TEMPLATE = "dag_id={dag_id}/run_id={run_id}/task_id={task_id}/{map}attempt={attempt}.log"


def error_info(error: BaseException | str | None) -> ErrorInfo | None:
    """The exception's type, message, formatted traceback (with "Did you mean") and frames."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        frames = [
            Frame(path=fs.filename, line=fs.lineno, function=fs.name, code=(fs.line or None))
            for fs in traceback.extract_tb(error.__traceback__)[-MAX_FRAMES:]
        ]
        return ErrorInfo(
            type=type(error).__name__,
            message=str(error),
            traceback=with_hint("".join(traceback.format_exception(error)), error),
            frames=frames,
        )
    return ErrorInfo(type=EXTERNAL_ERROR_TYPE, message=str(error))


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """getattr that also survives properties raising (detached ORM objects, unset SDK fields)."""
    try:
        return getattr(obj, name, default)
    except Exception:
        return default


def _dag_of(ti: Any, context: Mapping[str, Any] | None) -> Any:
    dag = (context or {}).get("dag")
    if dag is None:
        dag = _get(_get(ti, "task"), "dag")
    return dag


def _code_path(ti: Any, dag: Any) -> str | None:
    """The absolute DAG file: the parsed DAG's fileloc, else the bundle path + relative fileloc."""
    fileloc = _get(dag, "fileloc")
    bundle_path = _get(_get(ti, "bundle_instance"), "path")
    dag_model = None
    if not fileloc:
        dag_model = _get(ti, "dag_model")  # ORM TI (scheduler / API server): already loaded there
        fileloc = _get(dag_model, "fileloc")
    if fileloc and not os.path.isabs(fileloc) and bundle_path:
        fileloc = os.path.join(os.fspath(bundle_path), fileloc)
    return os.fspath(fileloc) if fileloc else None


def _local_log_path(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int | None) -> str | None:
    """The default-template log file, when it exists on this host (checked with one stat)."""
    if not try_number:
        return None
    try:
        from airflow.sdk.configuration import conf

        base = conf.get("logging", "base_log_folder", fallback="")
    except Exception:
        return None
    if not base:
        return None
    rel = LOG_TEMPLATE.format(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map=f"map_index={map_index}/" if map_index >= 0 else "",
        attempt=try_number,
    )
    path = os.path.join(os.path.expanduser(base), rel)
    return path if os.path.isfile(path) else None


MAX_CONN_IDS = 20


def _conn_ids(task: Any) -> list[str]:
    """Ids (never values) of the connections the failed operator names (`*conn_id` attributes):
    the remediation tasks fetch those connections' secrets to mask them exactly."""
    try:
        attributes = vars(task) if task is not None else {}
    except TypeError:
        return []
    ids = {v for k, v in attributes.items() if k.endswith("conn_id") and isinstance(v, str) and 0 < len(v) <= 250}
    return sorted(ids)[:MAX_CONN_IDS]


def _metadata(ti: Any, dag: Any, source: str) -> dict[str, Any]:
    task = _get(ti, "task")
    bundle = _get(ti, "bundle_instance")
    dag_model = _get(ti, "dag_model") if bundle is None else None
    meta: dict[str, Any] = {
        "source": source,
        "hostname": _get(ti, "hostname") or socket.gethostname(),
        "operator": _get(task, "task_type") or _get(ti, "operator"),
        "owner": _get(task, "owner"),
        "tags": sorted(str(t) for t in (_get(dag, "tags") or [])),
        "bundle_name": _get(bundle, "name") or _get(dag_model, "bundle_name"),
        "bundle_version": _get(bundle, "version") or _get(dag_model, "bundle_version"),
        "relative_fileloc": _get(dag, "relative_fileloc") or _get(dag_model, "relative_fileloc"),
        "max_tries": _get(ti, "max_tries"),
        "ui_url": _get(ti, "log_url"),
        "conn_ids": _conn_ids(task),
    }
    return {k: v for k, v in meta.items() if v not in (None, "", [])}


def failed_at(ti: Any) -> datetime:
    """When the task failed: the task instance's end_date (set by the task runner when the task
    raised, by the scheduler or API server when they failed it), else now. Latency figures
    (the Overview's "failure -> RCA", benchmarks/latency.py) count from this moment."""
    now = datetime.now(timezone.utc)
    end = _get(ti, "end_date")
    if isinstance(end, datetime) and end.tzinfo is not None and now - timedelta(days=1) <= end <= now:
        return end.astimezone(timezone.utc)
    return now


def build_event(
    task_instance: Any,
    error: BaseException | str | None,
    *,
    context: Mapping[str, Any] | None = None,
    source: str = "listener",
) -> FailureEvent:
    """FailureEvent for one failed task instance (any of the three shapes above)."""
    ti = task_instance if task_instance is not None else (context or {}).get("ti")
    if ti is None:
        raise ValueError("no task instance to build a failure event from")
    dag = _dag_of(ti, context)
    dag_id = _get(ti, "dag_id") or _get(dag, "dag_id")
    run_id = _get(ti, "run_id")
    task_id = _get(ti, "task_id")
    map_index = _get(ti, "map_index")
    map_index = -1 if map_index is None else int(map_index)
    try_number = _get(ti, "try_number")
    return FailureEvent(
        platform=Platform.AIRFLOW,
        pipeline_id=str(dag_id),
        run_id=str(run_id),
        task_id=task_id,
        map_index=map_index,
        try_number=try_number,
        detected_at=failed_at(ti),
        error=masked(error_info(error)),  # Airflow's masker knows this task's secrets here
        code_path=_code_path(ti, dag),
        log_uri=_local_log_path(dag_id, run_id, task_id, map_index, try_number),
        metadata=_metadata(ti, dag, source),
    )
