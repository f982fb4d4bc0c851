"""Airflow-side failure capture: the single entry for the listener and the notifier.

`capture_failure` collects the facts, stores the event in PATCHIT's store (PATCHIT's own
database, not Airflow's metadata DB), in a task process collects evidence and triages it with
the time left (capture/analyse.py: the root cause is on the incident's page seconds after the
failure), starts the remediation DAG with a reference to it and returns. The event's text never goes into the run's conf, which Airflow shows to every reader of
the remediation DAG. It runs the work in a daemon thread joined with `[patchit]
capture_timeout`, and never raises: a failing task must fail for its own reason, not PATCHIT's,
and must not wait on PATCHIT.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

from patchit_provider.capture.bounded import run_within
from patchit_provider.engine.constants import REMEDIATION_DAG_ID

log = logging.getLogger(__name__)

OWN_DAG_IDS = frozenset({REMEDIATION_DAG_ID})


def is_watched(dag_id: str | None, tags: Any, settings: Any, *, explicit: bool) -> bool:
    """Whether a failure of this DAG is PATCHIT's business.

    `explicit` is the notifier (a per-DAG opt-in, so `watch` does not apply); PATCHIT's own DAGs
    and `ignore_dags` are never captured, or a failing remediation would remediate itself.
    """
    if not dag_id or dag_id in OWN_DAG_IDS or dag_id in settings.ignore_dags:
        return False
    if explicit:
        return True
    if settings.watch == "all":
        return True
    if settings.watch == "tagged":
        return settings.watch_tag in {str(t) for t in (tags or ())}
    return False


# Background triggers started by long-lived server processes (scheduler, API server); kept so
# tests and shutdown can wait for them.
_background: list[threading.Thread] = []


# Share of `capture_timeout` the store may take; the rest is left for triage and the trigger.
STORE_SHARE = 0.5
# Of `capture_timeout`, what triage in capture leaves for the trigger at least.
TRIGGER_SHARE = 0.2


def store_event(event: Any, settings: Any, budget: float) -> bool:
    """Open the incident for `event` in PATCHIT's store within `budget` seconds.

    False when the store is slow or unavailable: the run is still started, and its receive
    stage then fetches the failure through the REST API from the task-instance ids in the conf.
    A store write that finishes after the budget is harmless (receive is idempotent by event id).
    """

    def work() -> str:
        from patchit_provider.engine.pipeline import Remediator
        from patchit_provider.hooks.store import PatchitStoreHook

        store = PatchitStoreHook(settings=settings).get_store()
        try:
            return Remediator(store, settings).receive(event).incident_id
        finally:
            store.close()

    done = run_within(work, budget, "patchit-capture-store")
    if not done.finished:
        log.warning("PATCHIT: the incident store took longer than %.1fs; the run will fetch the failure", budget)
        return False
    if done.error is not None:
        error = done.error
        log.warning(
            "PATCHIT: incident store unavailable (%s: %s); the run will fetch the failure", type(error).__name__, error
        )
        return False
    return True


def _trigger(event: Any, settings: Any, use_supervisor: bool, result: dict, started: float | None = None) -> None:
    """Store, then (in a task process: `started` is when capture began) triage with the time left
    but a TRIGGER_SHARE, then start the run. Triage goes before the trigger so that the run
    finds the incident triaged (and skips those stages) instead of triaging it a second time."""
    from patchit_provider.capture.trigger import remediation_run_id, trigger_remediation

    stored = store_event(event, settings, settings.capture_timeout * STORE_SHARE)
    if stored and started is not None:
        from patchit_provider.capture.analyse import analyse_within

        left = settings.capture_timeout * (1 - TRIGGER_SHARE) - (time.monotonic() - started)
        if analyse_within(event, settings, left):
            log.info("PATCHIT: event %s triaged in capture", event.event_id)
    outcome = trigger_remediation(
        event, api_conn_id=settings.api_conn_id, timeout=settings.capture_timeout, use_supervisor=use_supervisor
    )
    result.update(event_id=event.event_id, run_id=remediation_run_id(event), outcome=outcome)
    log.info("PATCHIT: event %s %s", event.event_id, "stored" if stored else "not stored")


def _start_background(event: Any, settings: Any) -> None:
    def work() -> None:
        try:
            result: dict = {}
            _trigger(event, settings, False, result)
            log.info("PATCHIT: remediation run %s (%s)", result.get("run_id"), result.get("outcome"))
        except Exception as exc:
            log.warning("PATCHIT: capture failed: %s: %s", type(exc).__name__, exc)

    _background[:] = [t for t in _background if t.is_alive()]
    thread = threading.Thread(target=work, name="patchit-capture", daemon=True)
    thread.start()
    _background.append(thread)


def wait_for_background(timeout: float | None = None) -> None:
    """Let server-side triggers finish (tests; a process about to exit)."""
    for thread in list(_background):
        thread.join(timeout)
        if not thread.is_alive():
            _background.remove(thread)


def capture_failure(
    task_instance: Any,
    error: BaseException | str | None,
    *,
    context: Mapping[str, Any] | None = None,
    source: str = "listener",
    settings: Any = None,
) -> dict[str, Any] | None:
    """Build the event and trigger the remediation run, within the time bound.

    Returns {"event_id", "run_id", "outcome"} when done in time, else None. Never raises.
    """
    try:
        if settings is None:
            from patchit_provider.config import load_settings

            settings = load_settings()
        from patchit_provider.capture.event import build_event

        result: dict[str, Any] = {}
        # The supervisor channel only exists in the task process, i.e. with a live exception.
        in_task = isinstance(error, BaseException)

        if source.endswith(":server"):
            # Scheduler / API server: read the ORM object here (it belongs to this thread's
            # session), then trigger in the background: the scheduler loop never waits on PATCHIT.
            event = build_event(task_instance, error, context=context, source=source)
            _start_background(event, settings)
            return {"event_id": event.event_id, "outcome": "triggering in the background"}

        started = time.monotonic()

        def work() -> None:
            event = build_event(task_instance, error, context=context, source=source)
            _trigger(event, settings, in_task, result, started if in_task else None)

        done = run_within(work, settings.capture_timeout, "patchit-capture")
        if not done.finished:
            log.warning("PATCHIT: capture took longer than %.1fs; abandoned", settings.capture_timeout)
            return None
        if done.error is not None:
            log.warning("PATCHIT: capture failed: %s: %s", type(done.error).__name__, done.error)
            return None
        log.info("PATCHIT: remediation run %s (%s)", result.get("run_id"), result.get("outcome"))
        return result
    except Exception as exc:
        try:
            log.warning("PATCHIT: capture failed: %s", exc)
        except Exception:
            pass
        return None
