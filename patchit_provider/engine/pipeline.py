"""The remediation orchestrator: a short loop over the registered stages (engine/stages/).

The remediation DAG runs one stage per task and the CLI runs them all in a row; both go through
`Remediator.run_stage(key, incident_id)`, so a stage behaves the same wherever it runs. The loop
loads the incident, builds the stage's input, runs the stage, advances the lifecycle
(`Incident.advance`), saves, writes the stage's artifacts and audit events, and notifies. A stage
that fails records `stage.failed` and moves the incident to FAILED before re-raising, so the
incident never silently stays half-done; a lifecycle refusal is recorded and leaves it as it was.
"""

from __future__ import annotations

from typing import Any

from patchit_provider.engine.errors import ApprovalMissing, LifecycleError, NotFoundError
from patchit_provider.engine.evidence_inputs import TaskApi
from patchit_provider.engine.models import (
    AuditKind,
    FailureEvent,
    Incident,
    IncidentState,
    ReceiveInput,
    Requester,
    StageOutput,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.stages import REMEDIATION, StageContext, StageKey, approve, receive
from patchit_provider.engine.stages.base import GitHubTarget, IncidentStore, Notifier, Proposer, Reader
from patchit_provider.engine.stages.receive import redact_event

__all__ = ["ApprovalMissing", "IncidentNotFound", "Remediator", "StageKey", "redact_event"]

# The one "not found" (engine.errors.NotFoundError) under the name callers already catch.
IncidentNotFound = NotFoundError


def _in_context(name: str) -> Any:
    return property(lambda self: getattr(self.ctx, name), lambda self, value: setattr(self.ctx, name, value))


class Remediator:
    STAGES: tuple[StageKey, ...] = tuple(StageKey(key.value) for key in REMEDIATION.keys())

    def __init__(
        self,
        store: IncidentStore,
        settings: PatchitSettings,
        github_target: GitHubTarget | None = None,
        llm: Proposer | None = None,
        notifier: Notifier | None = None,
        task_api: TaskApi | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.ctx = StageContext(
            store=store,
            settings=settings,
            notifier=notifier,
            proposer=llm,
            reader=reader,
            github=github_target,
            task_api=task_api,
        )

    # The collaborators live in the context; these names are the Remediator's public ones.
    store = _in_context("store")
    settings = _in_context("settings")
    github_target = _in_context("github")
    llm = _in_context("proposer")
    reader = _in_context("reader")
    notifier = _in_context("notifier")

    def load(self, incident_id: str) -> Incident:
        incident = self.ctx.store.get_incident(incident_id)
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id!r} in the PATCHIT store")
        return incident

    # -- the loop ------------------------------------------------------------------------------

    def run_stage(self, key: StageKey, incident_id: str) -> Incident:
        """Run one registered stage on the stored incident (see the module docstring)."""
        spec = REMEDIATION.get(StageKey(key))
        if spec.key is StageKey.PUBLISH:
            self._check_approval(incident_id)  # a refusal leaves the incident as it was
        incident = self.load(incident_id)
        try:
            inp = spec.inputs(incident, self.ctx)
            if inp is None:
                return incident  # nothing to do: the state says why
            out = spec.run(inp, self.ctx)
            spec.apply(incident, out)
            saved = self._record(incident, out)
            return spec.finish(saved, out, self.ctx) if spec.finish else saved
        except Exception as exc:
            self._failed(incident_id, spec.key.value, exc)
            raise

    def _record(self, incident: Incident, out: StageOutput) -> Incident:
        if out.state is not None:
            incident.advance(out.state)
        if out.outcome is not None:
            incident.outcome = out.outcome
        for artifact in out.artifacts:
            self.ctx.artifact(incident.incident_id, artifact.name, artifact.content, artifact.media_type)
        for note in out.audit:
            self.ctx.audit(incident.incident_id, note.kind, note.message, **note.data)
        saved = self._save(incident)
        if out.write_rca:
            self.ctx.write_rca(saved)
        if out.moment:
            self.ctx.notify(saved, Moment(out.moment), out.moment_detail)
        return saved

    def _save(self, incident: Incident) -> Incident:
        from patchit_provider.engine.models import utcnow

        incident.updated_at = utcnow()
        return self.ctx.store.save_incident(incident)

    def _failed(self, incident_id: str, stage: str, exc: Exception) -> None:
        from patchit_provider.engine.redaction import redact

        detail, _ = redact(f"{type(exc).__name__}: {exc}")
        fresh = self.load(incident_id)
        self.ctx.audit(fresh.incident_id, AuditKind.STAGE_FAILED, f"{stage} failed: {detail}", stage=stage)
        if isinstance(exc, LifecycleError):
            return
        saved = self._save(fresh.advance(IncidentState.FAILED))
        self.ctx.notify(saved, Moment.FAILED, f"{stage} failed: {detail}")

    # -- the stages, by name (the CLI, tests, the operators' typed keys) -----------------------

    def receive(self, event: FailureEvent, requester: Requester | None = None) -> Incident:
        """Store the (redacted) event; a repeated event returns the incident it already opened.
        `requester`: the remediation run that asks (a new run for an analysed incident is audited
        as a re-analysis, with who asked and why)."""
        return self.receive_created(event, requester)[0]

    def receive_created(self, event: FailureEvent, requester: Requester | None = None) -> tuple[Incident, bool]:
        """receive(), and whether this call opened the incident (decided atomically by the store:
        of concurrent deliveries of one event exactly one gets True)."""
        out = receive.run(ReceiveInput(event=event, requester=requester), self.ctx)
        for note in out.audit:
            self.ctx.audit(out.incident.incident_id, note.kind, note.message, actor=note.actor, **note.data)
        return out.incident, out.created

    def collect_evidence(self, incident_id: str) -> Incident:
        return self.run_stage(StageKey.EVIDENCE, incident_id)

    def triage(self, incident_id: str) -> Incident:
        return self.run_stage(StageKey.TRIAGE, incident_id)

    def propose(self, incident_id: str) -> Incident:
        return self.run_stage(StageKey.PROPOSE, incident_id)

    def validate(self, incident_id: str) -> Incident:
        return self.run_stage(StageKey.VALIDATE, incident_id)

    def publish(self, incident_id: str) -> Incident:
        return self.run_stage(StageKey.PUBLISH, incident_id)

    # -- approval: a person between validate and publish (settings.approval) -----------------

    def approval_required(self, incident: Incident) -> bool:
        """Whether policy makes this incident wait for a person; only a validated patch can."""
        return approve.run(approve.inputs(incident), self.ctx).required

    def approval_status(self, incident_id: str) -> str | None:
        """None (never asked), 'pending', 'granted' or 'rejected'."""
        return approve.status(self.ctx.store.audit_trail(incident_id))

    def request_approval(self, incident_id: str) -> Incident:
        incident = self.load(incident_id)
        settings = self.ctx.settings
        confidence = incident.triage.confidence if incident.triage else None
        forced = incident.validation.approval_reason if incident.validation else None
        self.ctx.audit(
            incident_id,
            AuditKind.APPROVAL_REQUESTED,
            forced or f"approval policy '{settings.approval}'",
            policy=settings.approval,
            confidence=confidence,
            reason=forced,
        )
        return incident

    def record_approval(self, incident_id: str, approved: bool, by: str, reason: str = "") -> Incident:
        """A person's answer (or a timeout, by = 'timeout'). A rejection closes the incident unpublished."""
        from patchit_provider.engine.models import Outcome
        from patchit_provider.engine.redaction import redact

        incident = self.load(incident_id)
        reason = redact(" ".join(reason.split()))[0][:2000]
        verdict = "approved" if approved else "rejected"
        self.ctx.audit(
            incident_id,
            AuditKind.APPROVAL_GRANTED if approved else AuditKind.APPROVAL_REJECTED,
            f"{verdict} by {by or 'unknown'}" + (f": {reason}" if reason else ""),
            actor=by or "unknown",
            by=by,
            reason=reason,
        )
        if approved or incident.state is not IncidentState.VALIDATED:
            return incident
        incident.outcome = Outcome.PATCH_REJECTED
        saved = self._save(incident.advance(IncidentState.REJECTED))
        self.ctx.notify(saved, Moment.REJECTED, f"patch rejected by {by}" + (f": {reason}" if reason else ""))
        return saved

    def _check_approval(self, incident_id: str) -> None:
        """Publishing a patch that needed a person's approval and did not get it is refused."""
        incident = self.load(incident_id)
        if incident.state is not IncidentState.VALIDATED:
            return
        status = self.approval_status(incident_id)
        if status == approve.GRANTED:
            return
        if status is not None or self.approval_required(incident):
            raise ApprovalMissing(f"incident {incident_id}: approval required, not granted ({status or 'never asked'})")

    # -- all at once ---------------------------------------------------------------------------

    def run_all(self, event: FailureEvent) -> Incident:
        incident = self.receive(event)
        for key in self.STAGES:
            if key is StageKey.PUBLISH and self.approval_required(incident):
                return self.request_approval(incident.incident_id)  # nobody to ask here: not published
            incident = self.run_stage(key, incident.incident_id)
        return incident
