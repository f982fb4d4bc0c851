"""Start the remediation DAG for one FailureEvent, at most once per failure.

The run id is derived from the event id, so the listener and the notifier (or a retry of the
capture) reaching the same failure ask for the same run, and the second ask is a harmless
duplicate. Channels, in order: the Task SDK supervisor (in a task process: no credentials, the
same message TriggerDagRunOperator sends), then the REST API through `[patchit] api_conn_id`.
The conf is a reference to the event stored by capture (see `remediation_conf`).
"""

from __future__ import annotations

import logging
from typing import Any

from patchit_provider.engine.constants import (
    MAX_RUN_ID_CHARS,
    REMEDIATION_DAG_ID,
    RUN_ID_PREFIX,
    TRIGGER_CREATED,
    TRIGGER_DUPLICATE,
)
from patchit_provider.engine.models import FailureEvent, Platform

log = logging.getLogger(__name__)

CREATED, DUPLICATE = TRIGGER_CREATED, TRIGGER_DUPLICATE


def remediation_run_id(event: FailureEvent) -> str:
    """Deterministic, within Airflow's run-id alphabet (event ids are hex)."""
    return f"{RUN_ID_PREFIX}{event.event_id}"[:MAX_RUN_ID_CHARS]


def remediation_conf(event: FailureEvent) -> dict[str, Any]:
    """A reference, never the event's text: Airflow's API shows a run's conf to every reader of
    the remediation DAG, whatever DAG failed. The event itself is in PATCHIT's store (under its
    DAG's permissions); for an Airflow task the task-instance ids come along, so the run can
    still fetch the failure through the REST API when capture could not store it in time."""
    conf: dict[str, Any] = {"event_ref": event.event_id}
    if event.platform is Platform.AIRFLOW and event.task_id:
        conf.update(dag_id=event.pipeline_id, run_id=event.run_id, task_id=event.task_id, map_index=event.map_index)
        if event.try_number:
            conf["try_number"] = event.try_number
    return conf


def _task_channel() -> Any | None:
    """The supervisor comms of a *task* process, or None (DAG processor, scheduler, API server).

    The DAG processor also sets SUPERVISOR_COMMS, but its supervisor does not understand
    TriggerDagRun and would never answer: only a decoder of task messages (or dag.test()'s
    in-process comms, which have no decoder) qualifies.
    """
    try:
        from airflow.sdk.execution_time import comms, task_runner
    except ImportError:
        return None
    channel = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if channel is None or not hasattr(comms, "TriggerDagRun"):
        return None
    decoder = getattr(channel, "body_decoder", None)
    if decoder is not None and getattr(decoder, "_type", comms.ToTask) is not comms.ToTask:
        return None
    return channel


def trigger_via_supervisor(event: FailureEvent, dag_id: str = REMEDIATION_DAG_ID) -> str | None:
    """CREATED / DUPLICATE, or None when this process has no usable task channel."""
    channel = _task_channel()
    if channel is None:
        return None
    from airflow.sdk.execution_time.comms import ErrorResponse, TriggerDagRun

    answer = channel.send(TriggerDagRun(dag_id=dag_id, run_id=remediation_run_id(event), conf=remediation_conf(event)))
    if isinstance(answer, ErrorResponse):
        if str(getattr(answer.error, "value", answer.error)) == "DAGRUN_ALREADY_EXISTS":
            return DUPLICATE
        raise RuntimeError(f"supervisor refused TriggerDagRun: {answer.error} {answer.detail}")
    return CREATED


def trigger_via_api(event: FailureEvent, api_conn_id: str, timeout: float, dag_id: str = REMEDIATION_DAG_ID) -> str:
    from patchit_provider.hooks.api import PatchitApiHook

    hook = PatchitApiHook(api_conn_id, timeout=timeout)
    return hook.trigger_dag_run(dag_id, remediation_run_id(event), remediation_conf(event))


def trigger_remediation(event: FailureEvent, *, api_conn_id: str, timeout: float, use_supervisor: bool = True) -> str:
    """Supervisor first (when allowed and available), REST API otherwise or when it fails."""
    if use_supervisor:
        try:
            result = trigger_via_supervisor(event)
            if result is not None:
                return result
        except Exception as exc:  # the channel is internal API: fall back, never fail
            detail = getattr(exc, "detail", None) or getattr(getattr(exc, "response", None), "text", "")
            log.warning("PATCHIT: supervisor trigger failed (%s %s); using the REST API", exc, str(detail)[:300])
    return trigger_via_api(event, api_conn_id, timeout)
