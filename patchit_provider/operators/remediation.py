"""One thin operator per remediation stage, each a call of the engine's Remediator.

The incident id travels between stages as the return value (XCom) of the previous task. Stages
with nothing to do (no patch for an escalation, nothing to publish) succeed; the Remediator's
audit trail records why, so nothing is hidden behind a skip.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Sequence

from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)

RECEIVE_TASK_ID = "receive"
INCIDENT_FROM_RECEIVE = "{{ ti.xcom_pull(task_ids='" + RECEIVE_TASK_ID + "') }}"


def _remediator(settings=None, stage: str = ""):
    """(Remediator, store) from `[patchit]` and PATCHIT's connections; the caller closes the store.

    Only the stage that uses a collaborator builds it: the LLM proposer for `propose` (when a
    `patchit_llm` connection exists), the GitHub target for `publish` (publish_mode = github).
    The webhook notifier is built for every stage; a broken webhook set-up is logged, not fatal.
    """
    from patchit_provider.config import load_settings
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.hooks.store import PatchitStoreHook

    settings = settings or load_settings()
    store = PatchitStoreHook(settings=settings).get_store()
    extras: dict[str, Any] = {"notifier": _notifier(store, settings)}
    if stage == "propose":
        extras["llm"] = _llm_proposer(settings)
    if stage == "publish" and settings.publish_mode == "github":
        from patchit_provider.hooks.github import PatchitGitHubHook

        extras["github_target"] = PatchitGitHubHook(settings.github_conn_id).get_target()
    return Remediator(store, settings, **extras), store


def _notifier(store, settings):
    try:
        from patchit_provider.notifications.webhook import build_notifier

        return build_notifier(store, settings)
    except Exception as exc:
        log.warning("PATCHIT: webhook notifications disabled: %s", exc)
        return None


def _llm_proposer(settings):
    """The LLM proposer of the `patchit_llm` connection, or None (deterministic fixers only)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from patchit_provider.hooks.llm import PatchitLLMHook

    conn_id = settings.llm_conn_id
    if not conn_id:
        return None
    try:
        return PatchitLLMHook(conn_id).get_proposer()
    except AirflowNotFoundException:
        return None


class ReceiveEventOperator(BaseOperator):
    """Resolve the run's conf into a FailureEvent and open (or find) its incident.

    Accepts {"event": FailureEvent} or a task-instance reference (fetched through the REST API).
    A malformed conf fails the task at once, with a message saying what is expected.
    """

    ui_color = "#fde2e4"

    def execute(self, context: Any) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from patchit_provider.capture.reference import ConfError, resolve_conf
        from patchit_provider.config import load_settings
        from patchit_provider.hooks.api import PatchitApiHook

        settings = load_settings()
        dag_run = context.get("dag_run")
        # The run's own conf (the Trigger form submits every param into it); params only as a
        # fallback, since in-process runs (dag.test) may leave a previous run's values in them.
        conf = dict(getattr(dag_run, "conf", None) or context.get("params") or {})
        try:
            event = resolve_conf(
                conf,
                lambda: PatchitApiHook(settings.api_conn_id, timeout=30.0),
                log_tail_chars=settings.log_tail_bytes,
            )
        except ConfError as exc:
            raise AirflowFailException(f"PATCHIT: {exc}") from exc
        remediator, store = _remediator(settings, stage="receive")
        try:
            incident = remediator.receive(event)
            run_id = getattr(dag_run, "run_id", None)
            if run_id and not incident.remediation_run_id:
                incident.remediation_run_id = run_id  # links the incident to this DAG run in the UI
                incident = store.save_incident(incident)
        finally:
            store.close()
        self.log.info(
            "PATCHIT incident %s for %s.%s (run %s, try %s)",
            incident.incident_id, event.pipeline_id, event.task_id, event.run_id, event.try_number,
        )
        return incident.incident_id


class _StageOperator(BaseOperator):
    """Run one Remediator stage on the incident named by `incident_id` (templated)."""

    stage: ClassVar[str]
    template_fields: Sequence[str] = ("incident_id",)

    def __init__(self, *, incident_id: str = INCIDENT_FROM_RECEIVE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id

    def execute(self, context: Any) -> str:
        if not self.incident_id or self.incident_id == "None":
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException("PATCHIT: no incident id (did the receive task run?)")
        remediator, store = _remediator(stage=self.stage)
        try:
            incident = getattr(remediator, self.stage)(self.incident_id)
        finally:
            store.close()
        self.log.info(
            "PATCHIT %s: incident %s is %s (outcome %s)",
            self.stage, incident.incident_id, incident.state.value,
            incident.outcome.value if incident.outcome else "-",
        )
        return incident.incident_id


class CollectEvidenceOperator(_StageOperator):
    stage = "collect_evidence"
    ui_color = "#e2ecfd"


class TriageOperator(_StageOperator):
    stage = "triage"
    ui_color = "#fff3c4"


class ProposePatchOperator(_StageOperator):
    stage = "propose"
    ui_color = "#e4f7e4"


class ValidatePatchOperator(_StageOperator):
    stage = "validate"
    ui_color = "#d9f2ef"


class PublishPatchOperator(_StageOperator):
    stage = "publish"
    ui_color = "#ece2fd"
