"""The root cause where the failure is: evidence and triage inside capture, within its bound.

A failing task's process already holds the failure, and (with the scheduler's preload,
capture/warm.py) PATCHIT's code: collecting evidence and triaging there takes a fraction of a
second, where a remediation task waits for the scheduler, an executor slot and a process first
(docs/architecture.md, "Latency"). Capture runs the same registered stages through
`Remediator.run_stage` as the remediation DAG, so the audit trail, the RCA and the notifications
are the same; it runs them only with the time left of `capture_timeout`, and when they do not
finish in time the remediation run's `analyse` task does them (`analysed_by_capture`).
"""

from __future__ import annotations

import logging
from typing import Any

from patchit_provider.capture.bounded import run_within

log = logging.getLogger(__name__)

# What capture runs, in order (the first stages of the `analyse` task).
STAGES = ("evidence", "triage")


def analyse_event(event: Any, settings: Any) -> str | None:
    """Evidence and triage of the stored incident of `event`; its state, or None when it is not
    stored or already analysed. Raises what a stage raises (the stage recorded it)."""
    from patchit_provider.engine.models import IncidentState
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.stages.base import StageKey
    from patchit_provider.hooks.masking import install_airflow_masking
    from patchit_provider.hooks.store import PatchitStoreHook

    store = PatchitStoreHook(settings=settings).get_store()
    try:
        incident = store.get_incident_by_event(event.event_id)
        if incident is None or incident.state is not IncidentState.RECEIVED or incident.remediation_run_id:
            return None  # a run has taken it on already: the run analyses it
        conn_ids = incident.event.metadata.get("conn_ids") or []
        install_airflow_masking([str(c) for c in conn_ids if isinstance(c, str)])
        remediator = Remediator(store, settings, notifier=notifier_or_none(store, settings))
        for key in STAGES:
            incident = remediator.run_stage(StageKey(key), incident.incident_id)
        return str(incident.state.value)
    finally:
        store.close()


def notifier_or_none(store: Any, settings: Any) -> Any:
    """The webhook notifier of `[patchit]` (capture and the remediation tasks); a broken webhook
    set-up is logged, not fatal."""
    try:
        from patchit_provider.notifications.webhook import build_notifier

        return build_notifier(store, settings)
    except Exception as exc:  # noqa: BLE001 - notifications never decide how capture ends
        log.warning("PATCHIT: webhook notifications disabled: %s", exc)
        return None


def analyse_within(event: Any, settings: Any, budget: float) -> bool:
    """analyse_event() in a daemon thread joined for `budget` seconds; True when it finished.
    Never raises. A thread still running when the task process exits ends with it (a partial
    write rolls back); the run then analyses the incident."""
    if budget <= 0:
        return False
    done = run_within(lambda: analyse_event(event, settings), budget, "patchit-capture-analyse")
    if not done.finished:
        log.info("PATCHIT: triage did not finish within %.1fs of capture; the remediation run does it", budget)
        return False
    if done.error is not None:
        log.warning(
            "PATCHIT: triage in capture failed (%s); the remediation run tries again", type(done.error).__name__
        )
        return False
    return done.value is not None


def analysed_by_capture(store: Any, incident: Any, first_run: bool) -> bool:
    """Whether the remediation run may skip evidence and triage: capture did them (the run is the
    first to take the incident on, the incident is triaged and its RCA is written, or it was
    grouped into an open one). A re-analysis asked by a person is never a first run."""
    from patchit_provider.engine.models import IncidentState

    if not first_run or incident.triage is None or incident.evidence is None:
        return False
    if incident.state is IncidentState.GROUPED:
        return True
    return incident.state is IncidentState.TRIAGED and store.get_artifact(incident.incident_id, "rca.md") is not None


def complete_replay_inputs(store: Any, incident: Any, task_api: Any) -> None:
    """The failed try's upstream XComs and rendered fields for validation's replay, which the
    evidence stage fetches through the REST API when the run collects the evidence: when capture
    collected it, the run fetches them here, the same way (engine/evidence_inputs.py)."""
    from patchit_provider.engine.evidence_inputs import ARTIFACT, fetch_replay_inputs
    from patchit_provider.engine.models import Artifact

    if task_api is None or store.get_artifact(incident.incident_id, ARTIFACT) is not None:
        return
    inputs = fetch_replay_inputs(incident.event, task_api)
    if inputs is not None:
        store.put_artifact(
            Artifact(
                incident_id=incident.incident_id,
                name=ARTIFACT,
                content=inputs.model_dump_json(),
                media_type="application/json",
            )
        )
