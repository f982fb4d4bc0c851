"""PATCHIT's failure listener. Imported in every task process: only `hookimpl` at module top.

It decides whether a failure is PATCHIT's business (final failure, watched DAG, not PATCHIT's own)
and hands it to `capture.capture_failure`; everything else is deferred to that call.
"""

from __future__ import annotations

import logging

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)


def _tags_of(task_instance) -> list:
    """DAG tags from the task's DAG (worker) or the ORM DAG row (scheduler / API server)."""
    dag = getattr(getattr(task_instance, "task", None), "dag", None)
    if dag is not None:
        return list(getattr(dag, "tags", None) or [])
    dag_model = getattr(task_instance, "dag_model", None)
    return [getattr(t, "name", t) for t in (getattr(dag_model, "tags", None) or [])]


@hookimpl
def on_starting(component):
    """In a scheduler with a LocalExecutor (the forks' parent), import PATCHIT's capture and
    remediation code once, so task processes start with it (capture/warm.py)."""
    try:
        from patchit_provider.capture.warm import warm_if_scheduler

        warm_if_scheduler()
    except Exception as exc:  # a listener must never break the component starting
        log.warning("PATCHIT listener: %s", exc)


@hookimpl
def on_task_instance_failed(previous_state, task_instance, error):
    try:
        state = getattr(task_instance, "state", None)
        if str(getattr(state, "value", state)) != "failed":
            return  # up_for_retry: Airflow will try again, nothing to remediate yet
        from patchit_provider.capture import capture_failure, is_watched
        from patchit_provider.config import load_settings

        settings = load_settings()
        if not is_watched(task_instance.dag_id, _tags_of(task_instance), settings, explicit=False):
            return
        source = "listener" if isinstance(error, BaseException) else "listener:server"
        capture_failure(task_instance, error, source=source, settings=settings)
    except Exception as exc:  # a listener must never break the task or the scheduler
        log.warning("PATCHIT listener: %s", exc)
