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


# -- approval: between validate and publish --------------------------------------------------

APPROVAL_TASK_ID = "approval"
SKIP_APPROVAL_TASK_ID = "skip_approval"
MAX_BODY_DIFF_CHARS = 30_000

try:  # the HITL operators need Airflow 3.1+ (this provider targets 3.3)
    from airflow.providers.standard.operators.branch import BaseBranchOperator
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # pragma: no cover
    BaseBranchOperator = ApprovalOperator = None  # type: ignore[assignment,misc]


def approval_text(incident) -> tuple[str, str]:
    """(subject, Markdown body) of an approval request: RCA summary and the validated diff, redacted
    and escaped (the body is rendered as Markdown; the fence outruns any backticks in the diff)."""
    from patchit_provider.engine.redaction import redact
    from patchit_provider.engine.report import md_escape, md_fence

    event, triage, patch = incident.event, incident.triage, incident.patch
    where = event.pipeline_id + (f".{event.task_id}" if event.task_id else "")
    subject = redact(f"PATCHIT: approve the patch for {where}? ({incident.incident_id})")[0][:250]
    lines = [f"**Incident** `{incident.incident_id}` · {md_escape(where)} · run {md_escape(event.run_id)}", ""]
    if triage is not None:
        lines += [
            f"**Category** {md_escape(triage.category.value)} (confidence {triage.confidence:.2f})", "",
            f"**Root cause** {md_escape(triage.summary)}", "",
        ]
    if incident.validation is not None:
        lines += [f"**Validation** {'passed' if incident.validation.passed else 'failed'} "
                  f"(replay: {md_escape(incident.validation.replay)})", ""]
    if patch is not None:
        diff = redact(patch.diff)[0]
        if len(diff) > MAX_BODY_DIFF_CHARS:
            diff = diff[:MAX_BODY_DIFF_CHARS] + "\n... (diff truncated: see the incident page)"
        lines += [f"**Patch** by {md_escape(patch.producer)}: {md_escape(patch.rationale or '')}", "",
                  md_fence(diff, "diff"), ""]
    lines.append(f"Details: [PATCHIT incident](/patchit/incidents/{incident.incident_id}). "
                 "Rejecting needs a reason in the form's `reason` field.")
    return subject, "\n".join(lines)


if BaseBranchOperator is not None:

    class DecideApprovalOperator(BaseBranchOperator):
        """Sends the run to the approval task only when a validated patch exists AND policy
        (`[patchit] approval`) asks for a person; every other run goes on without waiting."""

        template_fields: Sequence[str] = ("incident_id",)
        ui_color = "#fff0d9"

        def __init__(self, *, incident_id: str = INCIDENT_FROM_RECEIVE, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.incident_id = incident_id

        def choose_branch(self, context: Any) -> str:
            remediator, store = _remediator(stage="decide_approval")
            try:
                incident = remediator.load(self.incident_id)
                needed = remediator.approval_required(incident)
            finally:
                store.close()
            self.log.info("PATCHIT incident %s (%s): approval %s", incident.incident_id,
                          incident.state.value, "required" if needed else "not required")
            return APPROVAL_TASK_ID if needed else SKIP_APPROVAL_TASK_ID

    class PatchApprovalOperator(ApprovalOperator):
        """The HITL gate: records `approval.requested`, waits in `awaiting_input`, then records the
        answer (with who and why) before the base class skips publish on Reject. No defaults: on
        timeout the task fails, the incident is closed as rejected, nothing is published."""

        template_fields: Sequence[str] = ("subject", "body", "incident_id")
        ui_color = "#ffe9a8"

        def __init__(self, *, incident_id: str = INCIDENT_FROM_RECEIVE, **kwargs: Any) -> None:
            from airflow.sdk import Param

            kwargs.setdefault("subject", "PATCHIT: approve a validated patch?")
            kwargs.setdefault("params", {
                "reason": Param("", type=["null", "string"], maxLength=2000, title="Reason",
                                description="Why (required to reject; recorded in the incident's audit trail)."),
            })
            super().__init__(**kwargs)
            self.incident_id = incident_id

        def execute(self, context: Any) -> Any:
            remediator, store = _remediator(stage="approval")
            try:
                incident = remediator.request_approval(self.incident_id)
            finally:
                store.close()
            # Set after template rendering on purpose: store content is never a Jinja template.
            self.subject, self.body = approval_text(incident)
            return super().execute(context)

        def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
            if "error" in event:  # timed out: record it, then the base class fails the task
                self._record(False, "timeout", str(event.get("error") or "no answer in time"))
                return super().execute_complete(context, event)
            # Recorded before the base class runs: on Reject it skips publish by raising.
            chosen = list(event.get("chosen_options") or [])
            self.validate_chosen_options(chosen)
            user = event.get("responded_by_user") or {}
            by = str(user.get("name") or user.get("id") or "unknown")
            reason = str((event.get("params_input") or {}).get("reason") or "")
            self._record(chosen == [self.APPROVE], by, reason)
            return super().execute_complete(context, event)

        def _record(self, approved: bool, by: str, reason: str) -> None:
            remediator, store = _remediator(stage="approval")
            try:
                remediator.record_approval(self.incident_id, approved, by, reason)
            finally:
                store.close()
