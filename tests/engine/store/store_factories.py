"""Builders for the contracts the store keeps, and the worker of the multi-process test
(module-level so that spawned processes can import it)."""

from __future__ import annotations

from datetime import datetime

from patchit_provider.engine.models import (
    Artifact,
    AuditEvent,
    ErrorSummary,
    FailureEvent,
    Incident,
    IncidentState,
    Platform,
    Triage,
)
from patchit_provider.engine.taxonomy import Category, Remediation


def event(
    pipeline: str = "sales_daily",
    run: str = "run-1",
    task: str | None = "load",
    *,
    try_number: int | None = 1,
    platform: Platform = Platform.AIRFLOW,
    detected_at: datetime | None = None,
) -> FailureEvent:
    extra = {"detected_at": detected_at} if detected_at else {}
    return FailureEvent(
        pipeline_id=pipeline, run_id=run, task_id=task, try_number=try_number, platform=platform, **extra
    )


def triage(
    category: Category = Category.SCHEMA_MISSING_COLUMN,
    fingerprint: str = "fp-abc123",
    summary: str = "Column 'amount' missing in orders",
) -> Triage:
    return Triage(
        category=category,
        remediation=Remediation.PATCH,
        fingerprint=fingerprint,
        summary=summary,
        error=ErrorSummary(type="KeyError", message="'amount'"),
        confidence=0.9,
    )


def triaged(incident: Incident, state: IncidentState = IncidentState.TRIAGED, **kwargs) -> Incident:
    t = triage(**kwargs)
    return incident.model_copy(update={"triage": t, "fingerprint": t.fingerprint, "state": state})


def concurrent_worker(url: str, worker: int, rounds: int, shared_id: str, shared_event_json: str) -> dict:
    """Hammer one store from its own process; report what it wrote so the parent can check
    that nothing was lost or duplicated."""
    from patchit_provider.engine.store import open_store

    shared_event = FailureEvent.model_validate_json(shared_event_json)
    out: dict = {"created": [], "shared_seqs": [], "own_seqs": [], "dup_created": 0, "occ_added": 0}
    with open_store(url) as store:
        for i in range(rounds):
            incident, created = store.create_incident(event(f"p{worker}", f"r{i}"))
            assert created
            out["created"].append(incident.incident_id)
            same, created = store.create_incident(shared_event)
            assert same.incident_id == shared_id
            out["dup_created"] += int(created)
            out["shared_seqs"].append(
                store.append_audit(AuditEvent(incident_id=shared_id, kind="test.write", message=f"w{worker}-{i}")).seq
            )
            out["own_seqs"].append(
                store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="test.write")).seq
            )
            out["occ_added"] += int(store.add_occurrence(shared_id, event(f"occ{worker}", f"r{i}")))
            store.put_artifact(Artifact(incident_id=shared_id, name=f"w{worker}.txt", content=str(i)))
    return out
