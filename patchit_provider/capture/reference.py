"""Turn a remediation run's conf into a FailureEvent.

The conf carries references, never a failure's text (Airflow shows a run's conf to every reader
of the remediation DAG): `event_ref`, the id of an event capture or ingest stored in PATCHIT's
store, and/or a task-instance reference {"dag_id", "run_id", "task_id", "try_number"?,
"map_index"?} (a person in the Trigger form, an external system, or capture's fallback when the
store was not reachable in time). For a task-instance reference the rest is fetched through the
Airflow REST API, as worker code may not use the ORM: the task log and the DAG's details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import FailureEvent, Platform, TaskInstanceRef

REF_KEYS = ("dag_id", "run_id", "task_id", "try_number", "map_index")
# Event ids are hex (capture) or the ingest API's run-id-safe ids.
EVENT_REF = re.compile(r"^[A-Za-z0-9_.~:+-]{1,250}$")


class ConfError(InputError, ValueError):
    """The conf is neither a stored event's reference nor a valid task-instance reference."""


@dataclass(frozen=True)
class ConfRefs:
    """What a run's conf points at: a stored event, a task instance, or both (capture sends both)."""

    event_ref: str | None
    task_instance: TaskInstanceRef | None


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:8])


def parse_conf(conf: Mapping[str, Any]) -> ConfRefs:
    """The references of the conf; ConfError says what is wrong and what is expected."""
    if conf.get("event") not in (None, {}, ""):
        raise ConfError(
            "conf['event'] is not accepted: a failure's text never travels in a run's conf. Pass "
            "'event_ref' (the id of an event PATCHIT stored) or a task-instance reference: "
            "'dag_id', 'run_id', 'task_id' (and optionally 'try_number', 'map_index')"
        )
    event_ref = conf.get("event_ref")
    if event_ref in (None, ""):
        event_ref = None
    elif not isinstance(event_ref, str) or not EVENT_REF.match(event_ref):
        raise ConfError("conf['event_ref'] must be an event id (letters, digits and _.~:+-, at most 250)")
    ref = {k: conf[k] for k in REF_KEYS if conf.get(k) not in (None, "")}
    task_instance = None
    if any(k in ref for k in ("dag_id", "run_id", "task_id")):
        try:
            task_instance = TaskInstanceRef.model_validate(ref)
        except ValidationError as exc:
            raise ConfError(f"invalid task-instance reference: {_errors(exc)}") from None
    if event_ref is None and task_instance is None:
        raise ConfError(
            "conf needs either 'event_ref' (the id of an event PATCHIT stored) or a task-instance "
            "reference: 'dag_id', 'run_id', 'task_id' (and optionally 'try_number', 'map_index')"
        )
    return ConfRefs(event_ref, task_instance)


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


def resolve_conf(
    conf: Mapping[str, Any],
    api_factory: Callable[[], Any],
    *,
    stored: Callable[[str], FailureEvent | None] = lambda event_ref: None,
    log_tail_chars: int = 262_144,
) -> FailureEvent:
    """The stored event `event_ref` names (`stored` looks it up), else the task instance's failure
    fetched through the REST API; ConfError when neither is there."""
    refs = parse_conf(conf)
    if refs.event_ref is not None:
        event = stored(refs.event_ref)
        if event is not None:
            return event
        if refs.task_instance is None:
            raise ConfError(f"no event {refs.event_ref!r} in the PATCHIT store, and no task-instance reference")
    assert refs.task_instance is not None
    return event_from_reference(refs.task_instance, api_factory(), log_tail_chars=log_tail_chars)
