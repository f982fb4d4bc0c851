"""The last stages of the Remediator: a person's approval (settings.approval) and publishing.

A mixin of `pipeline.Remediator`, kept apart so each module stays small: it uses the
Remediator's `load`, `audit`, `_save`, `_stage`, `_artifact`, `_notify` and `repo_root`.
"""

from __future__ import annotations

from patchit_provider.engine.models import (
    AuditEvent,
    AuditKind,
    Incident,
    IncidentState,
    Outcome,
    Publication,
    PublicationKind,
)


class ApprovalMissing(PermissionError):
    """Publish refused: policy asked for a person's approval and it was not granted."""


class ApprovalAndPublishing:
    # -- approval: a person between validate and publish (settings.approval) -----------------

    def approval_required(self, incident: Incident) -> bool:
        """Whether policy makes this incident wait for a person; only a validated patch can."""
        if incident.state is not IncidentState.VALIDATED or incident.patch is None:
            return False
        validation = getattr(incident, "validation", None)
        if validation is not None and validation.approval_reason:
            return True  # e.g. validated without a sandbox: whatever the approval setting
        if self.settings.approval == "below_confidence":
            confidence = incident.triage.confidence if incident.triage else 0.0
            return confidence < self.settings.approval_confidence
        return self.settings.approval == "always"

    def approval_status(self, incident_id: str) -> str | None:
        """None (never asked), 'pending', 'granted' or 'rejected': the latest approval event decides."""
        status = {AuditKind.APPROVAL_REQUESTED: "pending", AuditKind.APPROVAL_GRANTED: "granted",
                  AuditKind.APPROVAL_REJECTED: "rejected"}
        latest = [status[a.kind] for a in self.store.audit_trail(incident_id) if a.kind in status]
        return latest[-1] if latest else None

    def request_approval(self, incident_id: str) -> Incident:
        incident = self.load(incident_id)
        confidence = incident.triage.confidence if incident.triage else None
        forced = incident.validation.approval_reason if incident.validation else None
        self.audit(incident, AuditKind.APPROVAL_REQUESTED, forced or f"approval policy '{self.settings.approval}'",
                   policy=self.settings.approval, confidence=confidence, reason=forced)
        return incident

    def record_approval(self, incident_id: str, approved: bool, by: str, reason: str = "") -> Incident:
        """A person's answer (or a timeout, by = 'timeout'). A rejection closes the incident unpublished."""
        from patchit_provider.engine.redaction import redact

        incident = self.load(incident_id)
        reason = redact(" ".join(reason.split()))[0][:2000]
        kind = AuditKind.APPROVAL_GRANTED if approved else AuditKind.APPROVAL_REJECTED
        verdict = "approved" if approved else "rejected"
        self.store.append_audit(AuditEvent(
            incident_id=incident_id, kind=kind, actor=by or "unknown",
            message=f"{verdict} by {by or 'unknown'}" + (f": {reason}" if reason else ""),
            data={"by": by, "reason": reason},
        ))
        if approved or incident.state is not IncidentState.VALIDATED:
            return incident
        incident.outcome = Outcome.PATCH_REJECTED
        saved = self._save(incident, IncidentState.REJECTED)
        self._notify(saved, "rejected", f"patch rejected by {by}" + (f": {reason}" if reason else ""))
        return saved

    def _check_approval(self, incident_id: str) -> None:
        """Publishing a patch that needed a person's approval and did not get it is refused."""
        incident = self.load(incident_id)
        if incident.state is not IncidentState.VALIDATED:
            return
        status = self.approval_status(incident_id)
        if status == "granted":
            return
        if status is not None or self.approval_required(incident):
            raise ApprovalMissing(f"incident {incident_id}: approval required, not granted ({status or 'never asked'})")

    def publish(self, incident_id: str) -> Incident:
        self._check_approval(incident_id)  # outside _stage: a refusal leaves the incident as it was
        with self._stage(incident_id, "publish") as incident:
            if incident.state is IncidentState.GROUPED:
                return self._comment_on_open_pr(incident)
            if incident.state is not IncidentState.VALIDATED or incident.patch is None:
                return incident
            if self.settings.publish_mode == "none":
                return incident
            from patchit_provider.engine.publishing import publish

            repo = self.repo_root(incident)
            if repo is None:
                raise RuntimeError("publishing needs the pipeline repository")
            publication = publish(incident.patch, incident, repo, self.settings.publish_mode, github=self.github_target)
            incident.publication = publication
            self._artifact(incident, "pr.md", publication.description_md, "text/markdown")
            self._audit_publication(incident, publication)
            saved = self._save(incident, IncidentState.PUBLISHED)
            self._notify(saved, "published")
            return saved

    def _comment_on_open_pr(self, incident: Incident) -> Incident:
        """The same cause again: the open incident's pull request gets a comment (GitHub), not a
        second PR. Local branches need nothing: the occurrence is counted on the open incident."""
        primary = self.store.get_incident(incident.grouped_into) if incident.grouped_into else None
        if (
            primary is None
            or primary.patch is None
            or primary.publication is None
            or primary.publication.kind is not PublicationKind.GITHUB
            or self.github_target is None
        ):
            return incident
        from patchit_provider.engine.publishing import publish

        repo = self.repo_root(primary)
        if repo is None:
            return incident
        publication = publish(primary.patch, incident, repo, "github", github=self.github_target)
        self._audit_publication(incident, publication)
        return incident

    def _audit_publication(self, incident: Incident, publication: Publication) -> None:
        if publication.reused:
            self.audit(
                incident,
                AuditKind.PR_COMMENTED,
                f"{publication.url or publication.branch}: the same cause again, commented on the open pull request",
                url=publication.url,
                number=publication.pr_number,
            )
            return
        self.audit(
            incident,
            AuditKind.BRANCH_CREATED,
            f"branch {publication.branch}",
            branch=publication.branch,
            commit=publication.commit,
            repo=publication.repo_root,
        )
        if publication.url or publication.pr_number is not None:
            self.audit(
                incident,
                AuditKind.PR_CREATED,
                publication.url or f"PR #{publication.pr_number}",
                url=publication.url,
                number=publication.pr_number,
            )
