"""A finding a person must act on, as an escalated PATCHIT incident with a notification.

Two cases, one function: a finding with no fixed version (accept the risk or mitigate it before
its expiry date, never a rollout) and an upgrade rollout that halted (its DAGs failed or timed
out after the upgrade: revert or inspect before the deadline). The incident is opened in the
incident store (idempotent: the event id is the finding id and the case, so a repeated scan or
a retried task neither opens a second incident nor notifies twice), moved to `escalated`, and
told to the webhooks through the existing notifier (engine/notify, the `escalated` moment).

Who sees it: the incident's pipeline is the most critical DAG the finding affects, so readers
of that DAG see it (as they see the finding); a finding that reaches no DAG is an incident of
the generic platform (the external incidents' visibility).
"""

from __future__ import annotations

from patchit_provider.engine.models import (
    AuditEvent,
    AuditKind,
    ErrorInfo,
    ErrorSummary,
    FailureEvent,
    Incident,
    IncidentState,
    Platform,
    Triage,
    VulnRecord,
)
from patchit_provider.engine.notify.messages import Moment
from patchit_provider.engine.stages.base import IncidentStore, Notifier
from patchit_provider.engine.taxonomy import Category, Remediation

NO_FIX = "nofix"
ROLLOUT_HALTED = "rollout"


def affected_pipeline(record: VulnRecord) -> tuple[Platform, str]:
    """(platform, pipeline id): the most critical affected DAG, else the package (generic)."""
    dags = [(dag.criticality, dag_id) for dag in record.finding.dag_details for dag_id in dag.dag_ids]
    if dags:
        return Platform.AIRFLOW, min(dags, key=lambda d: (-d[0], d[1]))[1]
    return Platform.GENERIC, f"vulns:{record.finding.package}"[:250]


def no_fix_text(record: VulnRecord) -> tuple[str, str]:
    """(summary, next step) of a finding without a fixed version."""
    finding = record.finding
    expires = record.expires or finding.deadline
    summary = (
        f"{finding.package} {finding.version} is vulnerable ({', '.join(finding.advisories)}) and no fixed "
        f"version exists ({finding.fix_reason or 'none named'})"
    )
    step = (
        f"accept the risk or mitigate it (remove or replace {finding.package}, disable the affected code path) "
        f"before {expires}, when the acceptance expires; no upgrade is rolled out"
    )
    return summary, step


def open_finding_incident(
    record: VulnRecord,
    store: IncidentStore,
    notifier: Notifier | None,
    *,
    case: str,
    summary: str,
    next_step: str,
    detail: str = "",
    audit_kind: str = AuditKind.REMEDIATION_ESCALATED,
) -> tuple[Incident, bool]:
    """(the escalated incident of `record` for `case`, whether this call opened it)."""
    finding = record.finding
    platform, pipeline_id = affected_pipeline(record)
    event = FailureEvent(
        event_id=f"{record.finding_id}.{case}",
        platform=platform,
        pipeline_id=pipeline_id,
        run_id=f"vulns__{record.finding_id}"[:250],
        error=ErrorInfo(type="VulnerableDependency", message=summary),
        metadata={
            "finding_id": record.finding_id,
            "package": finding.package,
            "version": finding.version,
            "advisories": list(finding.advisories)[:50],
            "deadline": finding.deadline,
            "expires": record.expires,
            "case": case,
        },
    )
    incident, created = store.create_incident(event)
    if not created:
        return incident, False
    ids = ", ".join(finding.advisories)
    incident.fingerprint = f"vuln:{record.finding_id}:{case}"
    incident.triage = Triage(
        category=Category.DEPENDENCY_MISSING,
        remediation=Remediation.ESCALATE,
        fingerprint=incident.fingerprint,
        confidence=1.0,
        summary=summary,
        error=ErrorSummary(type="VulnerableDependency", message=f"{finding.package}=={finding.version}: {ids}"),
        decided_by=f"OSV {ids}",
        source="osv",
        next_step=next_step,
    )
    incident.advance(IncidentState.TRIAGED).advance(IncidentState.ESCALATED)
    saved = store.save_incident(incident)
    store.append_audit(
        AuditEvent(
            incident_id=saved.incident_id,
            kind=audit_kind,
            message=f"{summary}: {next_step}",
            data={"finding_id": record.finding_id, "case": case, "deadline": finding.deadline},
        )
    )
    if notifier is not None:
        try:
            notifier.notify(saved, Moment.ESCALATED.value, detail=detail or next_step)
        except Exception:  # noqa: BLE001 - the Notifier never raises; a stand-in might
            pass
    return saved, True


def escalate_no_fix(record: VulnRecord, store: IncidentStore, notifier: Notifier | None) -> VulnRecord:
    """The accept-or-mitigate incident of a finding without a fix; the record names it."""
    if record.finding.action == "upgrade":
        return record
    summary, step = no_fix_text(record)
    incident, _ = open_finding_incident(record, store, notifier, case=NO_FIX, summary=summary, next_step=step)
    return record.model_copy(update={"incident_id": incident.incident_id})


def escalate_upgrade(
    record: VulnRecord, rollout_id: str, reason: str, store: IncidentStore, notifier: Notifier | None
) -> VulnRecord:
    """An upgrade rollout of `record` halted (budget exceeded, gate abort): its incident (once per
    rollout), notified; the record says why and names the incident."""
    finding = record.finding
    summary = (
        f"the upgrade of {finding.package} {finding.version} -> {finding.fixed_version} "
        f"({', '.join(finding.advisories)}) halted on rollout {rollout_id}: {reason}"
    )
    step = (
        f"inspect the failed or silent DAG runs of rollout {rollout_id}, then fix or revert "
        f"{record.branch or 'the upgrade'} and roll out again before the deadline {finding.deadline}"
    )
    incident, _ = open_finding_incident(
        record,
        store,
        notifier,
        case=f"{ROLLOUT_HALTED}.{rollout_id}",
        summary=summary,
        next_step=step,
        audit_kind=AuditKind.ROLLOUT_ESCALATED,
    )
    return record.model_copy(
        update={"incident_id": incident.incident_id, "escalation": f"upgrade rollout {rollout_id} halted: {reason}"}
    )
