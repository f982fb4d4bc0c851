"""Turn a remediation run's conf into a FailureEvent.

Two accepted shapes: {"event": {...FailureEvent...}} (what capture sends) or a task-instance
reference {"dag_id", "run_id", "task_id", "try_number"?, "map_index"?} (a person in the Trigger
form, an external system). For a reference the rest is fetched through the Airflow REST API, as
worker code may not use the ORM: the task log and the DAG's details (file location, tags).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pydantic import ValidationError

from patchit_provider.engine.models import FailureEvent, Platform, TaskInstanceRef

REF_KEYS = ("dag_id", "run_id", "task_id", "try_number", "map_index")


class ConfError(ValueError):
    """The conf is neither a valid event nor a valid task-instance reference."""


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:8])


def parse_conf(conf: Mapping[str, Any]) -> FailureEvent | TaskInstanceRef:
    """The event, or the reference to resolve; ConfError says what is wrong and what is expected."""
    event = conf.get("event")
    if event not in (None, {}, ""):
        if not isinstance(event, Mapping):
            raise ConfError(f"conf['event'] must be a JSON object (a FailureEvent), got {type(event).__name__}")
        try:
            return FailureEvent.model_validate(dict(event))
        except ValidationError as exc:
            raise ConfError(f"conf['event'] is not a valid FailureEvent: {_errors(exc)}") from exc
    ref = {k: conf[k] for k in REF_KEYS if conf.get(k) not in (None, "")}
    if not any(k in ref for k in ("dag_id", "run_id", "task_id")):
        raise ConfError(
            "conf needs either 'event' (a FailureEvent object) or a task-instance reference: "
            "'dag_id', 'run_id', 'task_id' (and optionally 'try_number', 'map_index')"
        )
    try:
        return TaskInstanceRef.model_validate(ref)
    except ValidationError as exc:
        raise ConfError(f"invalid task-instance reference: {_errors(exc)}") from exc


def event_from_reference(ref: TaskInstanceRef, api: Any, *, log_tail_chars: int = 262_144) -> FailureEvent:
    """Fetch log and DAG details through `api` (a PatchitApiHook) and build the event."""
    try_number = ref.try_number
    if try_number is None:
        ti = api.get_task_instance(ref.dag_id, ref.run_id, ref.task_id, ref.map_index)
        try_number = int(ti.get("try_number") or 1)
    log_text = api.get_task_log(ref.dag_id, ref.run_id, ref.task_id, try_number, ref.map_index, log_tail_chars)
    details = api.get_dag_details(ref.dag_id)
    tags = sorted(t.get("name", "") if isinstance(t, Mapping) else str(t) for t in details.get("tags") or [])
    metadata = {
        "source": "reference",
        "tags": tags,
        "owners": details.get("owners") or [],
        "bundle_name": details.get("bundle_name"),
        "bundle_version": details.get("bundle_version"),
        "relative_fileloc": details.get("relative_fileloc"),
    }
    return FailureEvent(
        platform=Platform.AIRFLOW,
        pipeline_id=ref.dag_id,
        run_id=ref.run_id,
        task_id=ref.task_id,
        map_index=ref.map_index,
        try_number=try_number,
        log_text=log_text or None,
        log_uri=(
            f"/api/v2/dags/{ref.dag_id}/dagRuns/{ref.run_id}/taskInstances/{ref.task_id}/logs/{try_number}"
            + (f"?map_index={ref.map_index}" if ref.map_index >= 0 else "")
        ),
        code_path=details.get("fileloc"),
        metadata={k: v for k, v in metadata.items() if v not in (None, "", [])},
    )


def resolve_conf(conf: Mapping[str, Any], api_factory: Callable[[], Any], *, log_tail_chars: int = 262_144) -> FailureEvent:
    parsed = parse_conf(conf)
    if isinstance(parsed, FailureEvent):
        return parsed
    return event_from_reference(parsed, api_factory(), log_tail_chars=log_tail_chars)
