"""The remediation pipeline: one method per stage, each persisting its output with the incident.

The remediation DAG runs one stage per task and the CLI runs them all in a row; both go through
`Remediator`, so a stage behaves the same wherever it runs. Each stage loads the incident,
does its work through the engine module that owns it, saves the result, artifacts and audit
events, and returns the incident. A stage that fails records `stage.failed` before re-raising,
so the incident never silently stays half-done.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from patchit_provider.engine.models import (
    Artifact,
    AuditEvent,
    AuditKind,
    Evidence,
    FailureEvent,
    Incident,
    IncidentState,
    Outcome,
    PatchProposal,
    Triage,
    ValidationResult,
    utcnow,
)
from patchit_provider.engine.publish_stage import ApprovalAndPublishing, ApprovalMissing  # noqa: F401 (re-export)
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.taxonomy import Remediation


class IncidentNotFound(LookupError):
    pass


def redact_event(event: FailureEvent) -> FailureEvent:
    """Redact the free-text parts of an event; ids stay as they are so idempotency holds."""
    from patchit_provider.engine.redaction import redact, redact_obj

    return event.model_copy(
        update={
            "log_text": redact(event.log_text)[0] if event.log_text else event.log_text,
            "error": redact_obj(event.error)[0] if event.error else None,
            "metadata": redact_obj(event.metadata)[0],
        }
    )


class Remediator(ApprovalAndPublishing):
    def __init__(
        self,
        store: Any,
        settings: PatchitSettings | None = None,
        github_target: Any = None,
        llm: Callable[[Evidence, Triage, Path], list[PatchProposal]] | None = None,
        notifier: Any = None,
    ) -> None:
        self.store = store
        self.settings = settings or PatchitSettings()
        self.github_target = github_target  # publishing.github_client.GitHubTarget for publish_mode = github
        self.llm = llm  # engine.llm.propose.LLMProposer, or None: deterministic fixers only
        self.notifier = notifier  # engine.notify.Notifier, or None: no notifications

    # -- helpers -------------------------------------------------------------------------------

    def load(self, incident_id: str) -> Incident:
        incident = self.store.get_incident(incident_id)
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id!r} in the PATCHIT store")
        return incident

    def audit(self, incident: Incident, kind: str, message: str = "", **data: Any) -> None:
        self.store.append_audit(
            AuditEvent(incident_id=incident.incident_id, kind=kind, message=message, data=data)
        )

    def _artifact(self, incident: Incident, name: str, content: str, media_type: str) -> None:
        self.store.put_artifact(
            Artifact(incident_id=incident.incident_id, name=name, content=content, media_type=media_type)
        )

    def _save(self, incident: Incident, state: IncidentState | None = None) -> Incident:
        if state is not None:
            incident.state = state
        incident.updated_at = utcnow()
        return self.store.save_incident(incident)

    @contextmanager
    def _stage(self, incident_id: str, name: str) -> Iterator[Incident]:
        incident = self.load(incident_id)
        try:
            yield incident
        except Exception as exc:
            from patchit_provider.engine.redaction import redact

            detail, _ = redact(f"{type(exc).__name__}: {exc}")
            fresh = self.load(incident_id)
            self.audit(fresh, AuditKind.STAGE_FAILED, f"{name} failed: {detail}", stage=name)
            self._notify(self._save(fresh, IncidentState.FAILED), "failed", f"{name} failed: {detail}")
            raise

    def repo_root(self, incident: Incident) -> Path | None:
        from patchit_provider.engine.repo import discover_repo

        event = incident.event
        return discover_repo(event.code_path, event.pipeline_id, self.settings.repo_map)

    def _write_rca(self, incident: Incident) -> None:
        from patchit_provider.engine.report import render_rca

        markdown, document = render_rca(incident)
        self._artifact(incident, "rca.md", markdown, "text/markdown")
        self._artifact(incident, "rca.json", json.dumps(document, indent=2, default=str), "application/json")

    def _notify(self, incident: Incident, moment: str, detail: str = "") -> None:
        """Tell the configured webhooks (engine.notify.Moment values); never changes how a stage ends."""
        if self.notifier is None:
            return
        try:
            self.notifier.notify(incident, moment, detail=detail)
        except Exception:  # noqa: BLE001 - the Notifier does not raise; a stand-in might
            pass

    # -- stages --------------------------------------------------------------------------------

    def receive(self, event: FailureEvent) -> Incident:
        """Store the (redacted) event; a repeated event returns the incident it already opened."""
        return self.receive_created(event)[0]

    def receive_created(self, event: FailureEvent) -> tuple[Incident, bool]:
        """receive(), and whether this call opened the incident (decided atomically by the store:
        of concurrent deliveries of one event exactly one gets True)."""
        incident, created = self.store.create_incident(redact_event(event))
        if created:
            self.audit(
                incident,
                AuditKind.EVENT_RECEIVED,
                f"{event.platform.value} failure of {event.pipeline_id}"
                + (f".{event.task_id}" if event.task_id else "")
                + f" in run {event.run_id}",
                event_id=event.event_id,
                try_number=event.try_number,
            )
        return incident, created

    def collect_evidence(self, incident_id: str) -> Incident:
        from patchit_provider.engine.evidence import collect_evidence

        with self._stage(incident_id, "evidence") as incident:
            repo = self.repo_root(incident)
            evidence = collect_evidence(incident.event, repo, self.settings)
            incident.evidence = evidence
            self._artifact(incident, "evidence.json", evidence.model_dump_json(indent=2), "application/json")
            self.audit(
                incident,
                AuditKind.EVIDENCE_SAVED,
                f"log format {evidence.log_format}, {len(evidence.mapped_frames)} frame(s) in the repository",
                repo=evidence.repo.root if evidence.repo else None,
                redactions=evidence.redactions,
            )
            return self._save(incident)

    def triage(self, incident_id: str) -> Incident:
        from patchit_provider.engine.triage import triage

        with self._stage(incident_id, "triage") as incident:
            if incident.evidence is None:
                raise RuntimeError("triage needs evidence: run the evidence stage first")
            result = triage(incident.evidence)
            incident.triage = result
            incident.fingerprint = result.fingerprint
            self.audit(
                incident,
                AuditKind.TRIAGE_COMPLETED,
                result.summary,
                category=result.category.value,
                remediation=result.remediation.value,
                fingerprint=result.fingerprint,
                confidence=result.confidence,
                culprit=result.culprit.model_dump() if result.culprit else None,
            )
            saved = self._save(incident, IncidentState.TRIAGED)
            primary = self.store.group_by_fingerprint(saved)
            if primary is not None:
                return self._grouped(saved, primary)
            self._write_rca(saved)
            self._notify(saved, "opened")
            return saved

    def _grouped(self, incident: Incident, primary: Incident) -> Incident:
        """The same cause is already an open incident: count an occurrence there, do no new work."""
        event = incident.event
        self.audit(
            primary,
            AuditKind.OCCURRENCE_ADDED,
            f"again in run {event.run_id}" + (f" (try {event.try_number})" if event.try_number else ""),
            event_id=event.event_id,
            incident_id=incident.incident_id,
            occurrences=primary.occurrences,
        )
        self.audit(
            incident,
            AuditKind.INCIDENT_GROUPED,
            f"same fingerprint as open incident {primary.incident_id}",
            grouped_into=primary.incident_id,
        )
        return self.load(incident.incident_id)

    def propose(self, incident_id: str) -> Incident:
        """Deterministic fixers first; the LLM only when none applies and one is configured."""
        with self._stage(incident_id, "propose") as incident:
            triage = incident.triage
            if incident.state is IncidentState.GROUPED:
                return incident
            if triage is None or incident.evidence is None:
                raise RuntimeError("proposing a patch needs a triage: run the triage stage first")
            if triage.remediation is not Remediation.PATCH:
                return self._close_without_patch(incident)
            repo = self.repo_root(incident)
            proposals = self._proposals(incident, repo) if repo else []
            if not proposals:
                reason = "no repository found for this pipeline" if repo is None else "no safe patch could be made"
                self.audit(incident, AuditKind.PATCH_SKIPPED, reason)
                incident.outcome = Outcome.NO_PATCH
                saved = self._save(incident, IncidentState.NO_PATCH)
                self._notify(saved, "escalated", reason)  # no automatic fix: a person must look
                return saved
            incident.candidates = proposals
            incident.patch = proposals[0]
            for number, proposal in enumerate(proposals, 1):
                self._artifact(incident, _candidate_name(number, len(proposals)), proposal.diff, "text/x-diff")
                self.audit(
                    incident,
                    AuditKind.PATCH_PROPOSED,
                    proposal.rationale or f"patch from {proposal.producer}",
                    producer=proposal.producer,
                    files=proposal.files,
                    candidate=number,
                )
            return self._save(incident, IncidentState.PATCH_PROPOSED)

    def _proposals(self, incident: Incident, repo: Path) -> list[PatchProposal]:
        from patchit_provider.engine.patching import propose_patch

        assert incident.evidence is not None and incident.triage is not None
        fixed = propose_patch(incident.evidence, incident.triage, repo)
        if fixed is not None or self.llm is None:
            return [fixed] if fixed is not None else []
        from patchit_provider.engine.llm.base import LLMError
        from patchit_provider.engine.redaction import redact

        try:
            return self.llm(incident.evidence, incident.triage, repo)
        except LLMError as exc:
            self.audit(incident, AuditKind.LLM_FAILED, redact(f"{type(exc).__name__}: {exc}")[0])
            return []

    def _close_without_patch(self, incident: Incident) -> Incident:
        triage = incident.triage
        assert triage is not None
        if triage.remediation is Remediation.RETRY:
            kind, state = AuditKind.REMEDIATION_RETRY_ADVISED, IncidentState.NO_PATCH
        else:
            kind, state = AuditKind.REMEDIATION_ESCALATED, IncidentState.ESCALATED
        self.audit(
            incident,
            kind,
            triage.next_step or f"{triage.category.value}: {triage.remediation.value}",
            category=triage.category.value,
        )
        incident.outcome = Outcome.NO_PATCH
        saved = self._save(incident, state)
        self._notify(saved, "retry_advised" if triage.remediation is Remediation.RETRY else "escalated")
        return saved

    def validate(self, incident_id: str) -> Incident:
        """Validate every candidate; keep the passing one that changes the fewest lines."""
        from patchit_provider.engine.validation import validate

        with self._stage(incident_id, "validate") as incident:
            if incident.state is not IncidentState.PATCH_PROPOSED or incident.patch is None:
                return incident
            repo = self.repo_root(incident)
            if repo is None or incident.triage is None:
                raise RuntimeError("validation needs the repository and a triage")
            results: list[tuple[PatchProposal, ValidationResult]] = []
            for number, proposal in enumerate(incident.candidates or [incident.patch], 1):
                result = validate(proposal, incident.event, incident.triage, repo, self.settings)
                results.append((proposal, result))
                self._audit_validation(incident, proposal, result, number)
            passing = [pair for pair in results if pair[1].passed]
            chosen = min(passing, key=lambda pair: _changed_lines(pair[0])) if passing else results[0]
            incident.patch, incident.validation = chosen
            if passing:
                incident.outcome = Outcome.PATCH_VALIDATED
                state = IncidentState.VALIDATED
                self._artifact(incident, "patch.diff", chosen[0].diff, "text/x-diff")
            else:
                incident.outcome = Outcome.PATCH_REJECTED
                state = IncidentState.REJECTED
            saved = self._save(incident, state)
            self._write_rca(saved)
            self._notify(saved, "patch_validated" if passing else "rejected")
            return saved

    def _audit_validation(self, incident: Incident, proposal: PatchProposal, result: ValidationResult, number: int) -> None:
        if result.policy is not None and not result.policy.allowed:
            self.audit(
                incident, AuditKind.POLICY_REJECTED, "; ".join(result.policy.violations), candidate=number
            )
        self.audit(
            incident,
            AuditKind.VALIDATION_FINISHED,
            ("passed" if result.passed else "failed") + f" ({result.replay})",
            passed=result.passed,
            replay=result.replay,
            producer=proposal.producer,
            candidate=number,
            checks={check.name: check.passed for check in result.checks},
        )

    # -- all at once ---------------------------------------------------------------------------

    STAGES = ("collect_evidence", "triage", "propose", "validate", "publish")

    def run_all(self, event: FailureEvent) -> Incident:
        incident = self.receive(event)
        for stage in self.STAGES:
            if stage == "publish" and self.approval_required(incident):
                return self.request_approval(incident.incident_id)  # nobody to ask here: not published
            incident = getattr(self, stage)(incident.incident_id)
        return incident


def _candidate_name(number: int, total: int) -> str:
    return "patch.diff" if total == 1 else f"candidate-{number}.diff"


def _changed_lines(proposal: PatchProposal) -> int:
    from patchit_provider.engine.patching import diff_stats

    _, _, added, removed = diff_stats(proposal.diff)
    return added + removed
