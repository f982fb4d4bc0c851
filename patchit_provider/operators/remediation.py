"""Thin operators over the engine's Remediator: each task runs one or more registered stages.

`AnalyseOperator` receives the event and runs evidence and triage (the root cause is on the
incident's page when it ends), `PatchOperator` runs propose and validate, `PublishPatchOperator`
publish: each stage is still one `Remediator.run_stage` call, audited under its own name, and a
failing stage fails its task with the stage's name in the error. Fewer tasks because every task
boundary costs a scheduler round and a process start (docs/architecture.md, "Latency").

The incident id travels between tasks as the return value (XCom) of the first task. Stages
with nothing to do (no patch for an escalation, nothing to publish) succeed; the Remediator's
audit trail records why, so nothing is hidden behind a skip.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, NoReturn, Sequence

from airflow.sdk import BaseOperator

from patchit_provider.engine.constants import (
    ANALYSE_TASK_ID,
    APPROVAL_REASON_ARTIFACT,
    APPROVAL_TASK_ID,
    SKIP_APPROVAL_TASK_ID,
)
from patchit_provider.engine.stages.base import StageKey

log = logging.getLogger(__name__)

__all__ = ["ANALYSE_TASK_ID", "APPROVAL_TASK_ID", "SKIP_APPROVAL_TASK_ID", "StageKey"]

INCIDENT_FROM_RECEIVE = "{{ ti.xcom_pull(task_ids='" + ANALYSE_TASK_ID + "') }}"


def _remediator(settings=None, stage: StageKey | tuple[StageKey, ...] | None = None):
    """(Remediator, store) from `[patchit]` and PATCHIT's connections; the caller closes the store.

    `stage`: the stage or stages the task runs. Only a task that runs a stage using a
    collaborator builds it: the LLM proposer for `propose` (when a `patchit_llm` connection
    exists), the REST API for `evidence`, the GitHub target for `publish` (publish_mode = github).
    The webhook notifier is built for every task; a broken webhook set-up is logged, not fatal.
    """
    from patchit_provider.config import load_settings
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.hooks.store import PatchitStoreHook

    stages = set(stage) if isinstance(stage, tuple) else {stage}
    settings = settings or load_settings()
    store = PatchitStoreHook(settings=settings).get_store()
    extras: dict[str, Any] = {"notifier": _notifier(store, settings)}
    if StageKey.PROPOSE in stages:
        extras["llm"] = _llm_hook(settings, "get_proposer")
    if StageKey.READ in stages and settings.triage_model_reading:
        extras["reader"] = _llm_hook(settings, "get_reader")
    if StageKey.EVIDENCE in stages:  # the failed try's XComs and rendered fields, for the replay
        from patchit_provider.hooks.api import PatchitApiHook

        extras["task_api"] = PatchitApiHook(settings.api_conn_id, timeout=10.0)
    if StageKey.PUBLISH in stages and settings.publish_mode == "github":
        from patchit_provider.hooks.github import PatchitGitHubHook

        extras["github_target"] = PatchitGitHubHook(settings.github_conn_id).get_target()
    return Remediator(store, settings, **extras), store


def _notifier(store, settings):
    from patchit_provider.capture.analyse import notifier_or_none

    return notifier_or_none(store, settings)


def _llm_hook(settings, build: str):
    """`PatchitLLMHook.<build>()` of the `patchit_llm` connection (its proposer or its reader), or
    None when there is no such connection (deterministic fixers and catalogs only)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from patchit_provider.hooks.llm import PatchitLLMHook

    conn_id = settings.llm_conn_id
    if not conn_id:
        return None
    try:
        return getattr(PatchitLLMHook(conn_id), build)()
    except AirflowNotFoundException:
        return None


def _receive(context: Any, settings: Any, remediator: Any, store: Any) -> tuple[Any, bool]:
    """Resolve the run's conf into its incident: the event capture or ingest stored (`event_ref`),
    else a task-instance reference whose failure is fetched through the REST API. Returns the
    incident and whether this run is the first to take it on.

    A malformed conf fails the task at once, with a message saying what is expected. The task
    log names ids only: the event's text is behind PATCHIT's DAG checks, not in Airflow's logs.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from patchit_provider.capture.reference import ConfError, resolve_conf
    from patchit_provider.engine.models import Requester
    from patchit_provider.hooks.api import PatchitApiHook

    dag_run = context.get("dag_run")
    # The run's own conf (the Trigger form submits every param into it); params only as a
    # fallback, since in-process runs (dag.test) may leave a previous run's values in them.
    conf = dict(getattr(dag_run, "conf", None) or context.get("params") or {})
    try:
        event = resolve_conf(
            conf,
            lambda: PatchitApiHook(settings.api_conn_id, timeout=30.0),
            stored=lambda ref: _stored_event(store, ref),
            log_tail_chars=settings.log_tail_bytes,
        )
    except ConfError as exc:
        raise AirflowFailException(f"PATCHIT: {exc}") from None
    # Who asked: a run by hand for an analysed failure is audited as a re-analysis.
    incident = remediator.receive(
        event,
        requester=Requester(
            run_id=getattr(dag_run, "run_id", None),
            user=getattr(dag_run, "triggering_user_name", None),
            reason=str(conf.get("reason") or ""),
        ),
    )
    run_id = getattr(dag_run, "run_id", None)
    first_run = bool(run_id) and not incident.remediation_run_id
    if first_run:
        incident.remediation_run_id = run_id  # links the incident to this DAG run in the UI
        incident = store.save_incident(incident)
    log.info("PATCHIT incident %s (event %s, try %s)", incident.incident_id, event.event_id, event.try_number)
    return incident, first_run


def _stored_event(store, event_ref: str):
    incident = store.get_incident_by_event(event_ref)
    return incident.event if incident is not None else None


class _StagesOperator(BaseOperator):
    """Run Remediator stages, by their typed keys and in order, on the incident named by
    `incident_id` (templated). Each stage is one `run_stage` call; a failing one fails the task
    with its own name (and records `stage.failed` naming it), and the stages after it do not run."""

    stages: ClassVar[tuple[StageKey, ...]]
    template_fields: Sequence[str] = ("incident_id",)

    def __init__(self, *, incident_id: str = INCIDENT_FROM_RECEIVE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id

    def execute(self, context: Any) -> str:
        if not self.incident_id or self.incident_id == "None":
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"PATCHIT: no incident id (did the {ANALYSE_TASK_ID} task run?)")
        remediator, store = _remediator(stage=self.stages)
        try:
            return self.run_stages(remediator, store, self.incident_id)
        finally:
            store.close()

    def run_stages(self, remediator: Any, store: Any, incident_id: str) -> str:
        _mask_task_connections(store, incident_id)
        for stage in self.stages:
            try:
                incident = remediator.run_stage(stage, incident_id)
            except Exception as exc:
                raise_without_text(stage.value, incident_id, exc)
            self.log.info(
                "PATCHIT %s: incident %s is %s (outcome %s)",
                stage.value,
                incident.incident_id,
                incident.state.value,
                incident.outcome.value if incident.outcome else "-",
            )
        return incident_id


class AnalyseOperator(_StagesOperator):
    """receive, evidence and triage in one task: when it ends, the incident's page shows the
    category and root cause. Its return value (the incident id) is what the later tasks read.

    When capture already collected the evidence and triaged the failure (capture/analyse.py),
    this run's first task only receives it (and fetches the failed try's inputs for the replay,
    which capture leaves to the REST API): nothing is analysed twice."""

    stages = (StageKey.EVIDENCE, StageKey.TRIAGE)
    template_fields: Sequence[str] = ()
    ui_color = "#fff3c4"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(incident_id="", **kwargs)

    def execute(self, context: Any) -> str:
        from patchit_provider.config import load_settings

        settings = load_settings()
        remediator, store = _remediator(settings, stage=(StageKey.RECEIVE, *self.stages))
        try:
            incident, first_run = _receive(context, settings, remediator, store)
            from patchit_provider.capture.analyse import analysed_by_capture, complete_replay_inputs

            if analysed_by_capture(store, incident, first_run):
                self.log.info("PATCHIT: incident %s was triaged by capture", incident.incident_id)
                complete_replay_inputs(store, incident, remediator.ctx.task_api)
                return incident.incident_id
            return self.run_stages(remediator, store, incident.incident_id)
        finally:
            store.close()


def _mask_task_connections(store: Any, incident_id: str) -> None:
    """The secrets of the connections the failed operator names (ids recorded by capture) join
    redaction as exact values before a stage reads logs, files or model answers."""
    from patchit_provider.hooks.masking import install_airflow_masking

    incident = store.get_incident(incident_id)
    conn_ids = (incident.event.metadata.get("conn_ids") or []) if incident is not None else []
    install_airflow_masking([str(c) for c in conn_ids if isinstance(c, str)])


def raise_without_text(stage: str, incident_id: str, exc: Exception) -> NoReturn:
    """Fail the task with ids and the exception type only. A stage's exception can quote the
    failure (a log line, a model answer, a check's output) and Airflow shows task logs to every
    reader of the remediation DAG; the Remediator has already put the redacted detail in the
    incident's audit trail (`stage.failed`), behind PATCHIT's DAG checks."""
    from airflow.sdk.exceptions import AirflowException

    from patchit_provider.engine.errors import ApprovalMissing, NotFoundError

    detail = str(exc) if isinstance(exc, (ApprovalMissing, NotFoundError)) else type(exc).__name__
    raise AirflowException(
        f"PATCHIT {stage} failed for incident {incident_id}: {detail}; the reason is in the incident's audit trail"
    ) from None


class PatchOperator(_StagesOperator):
    """read (a model's reading of a failure the catalogs left unknown), propose and validate in
    one task: a candidate patch is validated as soon as it exists."""

    stages = (StageKey.READ, StageKey.PROPOSE, StageKey.VALIDATE)
    ui_color = "#d9f2ef"


class PublishPatchOperator(_StagesOperator):
    stages = (StageKey.PUBLISH,)
    ui_color = "#ece2fd"


# -- approval: between validate and publish --------------------------------------------------

try:  # the HITL operators need Airflow 3.1+ (this provider targets 3.3)
    from airflow.providers.standard.operators.branch import BaseBranchOperator
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # pragma: no cover
    BaseBranchOperator = ApprovalOperator = None  # type: ignore[assignment,misc]


# The only assignee of every approval request: no person is, so Airflow's own
# `PATCH .../hitlDetails` (Required Actions, REST) refuses everyone with 403, and the one way to
# answer is the PATCHIT page, which checks edit rights on the FAILING DAG (www/approvals.py).
APPROVER = {"id": "patchit:approvals", "name": "PATCHIT (answer on the incident's PATCHIT page)"}


def approval_text(incident) -> tuple[str, str]:
    """(subject, Markdown body) of an approval request: ids and where to answer, no evidence.

    HITL details are shown by Airflow to every reader of the remediation DAG, whichever DAG
    failed; the RCA, evidence and diff are on the PATCHIT incident page, behind its DAG checks."""
    from patchit_provider.engine.report import md_escape

    event = incident.event
    dag = md_escape(event.pipeline_id)
    subject = f"PATCHIT: approve the patch for {event.pipeline_id}? ({incident.incident_id})"[:250]
    page = f"/patchit/incidents/{incident.incident_id}"
    lines = [
        f"**Incident** `{incident.incident_id}` · failing DAG `{dag}`",
        "",
        f"The root cause, the evidence and the validated diff are on the [PATCHIT incident page]({page}), "
        f"shown to users who may read `{dag}`.",
        "",
        f"**Answer on that page** (Approve, or Reject with a reason): it needs edit permission on `{dag}`. "
        "This request is assigned to PATCHIT's approval identity, so Required Actions and the "
        "`hitlDetails` REST endpoint cannot answer it.",
    ]
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
            remediator, store = _remediator(stage=StageKey.APPROVE)
            try:
                incident = remediator.load(self.incident_id)
                needed = remediator.approval_required(incident)
            except Exception as exc:
                raise_without_text("decide_approval", self.incident_id, exc)
            finally:
                store.close()
            self.log.info(
                "PATCHIT incident %s (%s): approval %s",
                incident.incident_id,
                incident.state.value,
                "required" if needed else "not required",
            )
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
            kwargs.setdefault("assigned_users", [APPROVER])  # only the PATCHIT page can answer
            kwargs.setdefault(
                "params",
                {
                    "reason": Param(
                        "",
                        type=["null", "string"],
                        maxLength=2000,
                        title="Reason",
                        description="Why (required to reject; recorded in the incident's audit trail).",
                    ),
                },
            )
            super().__init__(**kwargs)
            self.incident_id = incident_id

        def execute(self, context: Any) -> Any:
            remediator, store = _remediator(stage=StageKey.APPROVE)
            try:
                incident = remediator.request_approval(self.incident_id)
            except Exception as exc:
                raise_without_text("approval", self.incident_id, exc)
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
            self._record(chosen == [self.APPROVE], by, self._stored_reason(event))
            answer = super().execute_complete(context, event)
            # The XCom keeps the decision only: the reason is in the incident's audit trail.
            return {"chosen_options": list(answer["chosen_options"])}

        def _stored_reason(self, event: dict[str, Any]) -> str:
            """The reviewer's words from PATCHIT's store (the PATCHIT page puts them there); the
            HITL row's own `reason` only for answers given elsewhere (Required Actions)."""
            _, store = _remediator(stage=StageKey.APPROVE)
            try:
                stored = store.get_artifact(self.incident_id, APPROVAL_REASON_ARTIFACT)
            finally:
                store.close()
            if stored is not None:
                return stored.content
            return str((event.get("params_input") or {}).get("reason") or "")

        def _record(self, approved: bool, by: str, reason: str) -> None:
            remediator, store = _remediator(stage=StageKey.APPROVE)
            try:
                remediator.record_approval(self.incident_id, approved, by, reason)
            finally:
                store.close()
