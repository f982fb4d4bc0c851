"""Incidents in a store, at any stage, with audit events at chosen times; approval steps parked in
Airflow's metadata DB, waiting for PATCHIT's answer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from patchit_provider.engine.models import (
    Artifact,
    AuditEvent,
    AuditKind,
    CheckResult,
    ErrorInfo,
    ErrorSummary,
    FailureEvent,
    IncidentState,
    Outcome,
    PatchProposal,
    Platform,
    Publication,
    PublicationKind,
    Triage,
    ValidationResult,
)
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.www import approvals

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
APPROVER = {"id": approvals.APPROVER_ID, "name": "PATCHIT"}


def event(
    pipeline="sales_daily", run="run-1", task="load", *, platform=Platform.AIRFLOW, try_number=1, **extra
) -> FailureEvent:
    return FailureEvent(
        pipeline_id=pipeline, run_id=run, task_id=task, platform=platform, try_number=try_number, **extra
    )


def add_incident(
    store,
    pipeline="sales_daily",
    run="run-1",
    task="load",
    *,
    platform=Platform.AIRFLOW,
    state=IncidentState.RECEIVED,
    category=None,
    outcome=None,
    summary="Column 'amount' missing",
    fingerprint=None,
    diff=None,
    checks=None,
    publication=None,
    rca=None,
    log_text=None,
    received_at=None,
    rca_after=None,
    validated_after=None,
):
    """Create an incident and bring it to `state`, with an audit trail whose timestamps are
    received_at (+ rca_after seconds for triage, + validated_after for validation)."""
    incident, _ = store.create_incident(
        event(
            pipeline,
            run,
            task,
            platform=platform,
            log_text=log_text,
            error=ErrorInfo(type="KeyError", message="'amount'"),
            detected_at=received_at or T0,  # the failure's own time: latency figures count from it
        )
    )
    start = received_at or T0
    store.append_audit(
        AuditEvent(
            incident_id=incident.incident_id, kind=AuditKind.EVENT_RECEIVED, at=start, message=f"failure of {pipeline}"
        )
    )
    if category is not None:
        fp = fingerprint or f"fp-{category.value}-{pipeline}"
        incident.triage = Triage(
            category=category,
            remediation=Remediation.PATCH,
            fingerprint=fp,
            summary=summary,
            error=ErrorSummary(type="KeyError", message="'amount'"),
            confidence=0.8,
        )
        incident.fingerprint = fp
        if rca_after is not None:
            store.append_audit(
                AuditEvent(
                    incident_id=incident.incident_id,
                    kind=AuditKind.TRIAGE_COMPLETED,
                    at=start + timedelta(seconds=rca_after),
                    message=summary,
                )
            )
    if diff is not None:
        incident.patch = PatchProposal(producer="fixer:test", diff=diff, files=["etl/transform.py"], rationale="rename")
    if checks is not None:
        incident.validation = ValidationResult(
            passed=all(c[1] for c in checks),
            replay="reproduced_and_fixed",
            checks=[CheckResult(name=n, passed=p, output=o) for n, p, o in checks],
        )
    if validated_after is not None:
        store.append_audit(
            AuditEvent(
                incident_id=incident.incident_id,
                kind=AuditKind.VALIDATION_FINISHED,
                at=start + timedelta(seconds=validated_after),
                message="passed",
                data={"passed": outcome is Outcome.PATCH_VALIDATED},
            )
        )
    if publication is not None:
        incident.publication = Publication(kind=PublicationKind.MOCK_PR, branch="patchit/fp", url=publication)
    if rca is not None:
        store.put_artifact(
            Artifact(incident_id=incident.incident_id, name="rca.md", content=rca, media_type="text/markdown")
        )
    incident.state = state
    incident.outcome = outcome
    return store.save_incident(incident)


def bulk_incidents(store, n: int, pipelines=("sales_daily", "hr_payroll", "dbt_models"), start=T0) -> None:
    """n incidents in one transaction (create_incident one by one would take ~n ms each):
    rows built by the store's own column mapping, created one second apart, pipelines in turn
    (`dbt_models` as a dbt incident), every 7th still running."""
    from sqlalchemy import insert

    from patchit_provider.engine.models import Incident
    from patchit_provider.engine.store import sql
    from patchit_provider.engine.store.schema import incidents

    rows = []
    states = [
        IncidentState.PUBLISHED,
        IncidentState.ESCALATED,
        IncidentState.NO_PATCH,
        IncidentState.REJECTED,
        IncidentState.FAILED,
        IncidentState.PUBLISHED,
    ]
    for i in range(n):
        pipeline = pipelines[i % len(pipelines)]
        platform = Platform.DBT if pipeline.startswith("dbt") else Platform.AIRFLOW
        at = start + timedelta(seconds=i)
        ev = event(pipeline, f"run-{i}", "load", platform=platform, detected_at=at)
        inc = Incident(
            incident_id=f"inc-bulk{i:06d}",
            event=ev,
            created_at=at,
            updated_at=at,
            state=IncidentState.TRIAGED if i % 7 == 0 else states[i % len(states)],
        )
        rows.append(
            {
                "incident_id": inc.incident_id,
                "event_id": ev.event_id,
                "created_at": at,
                "occurrences": 1,
                "audit_seq": 0,
                **sql.incident_columns(inc),
            }
        )
    with store._write() as conn:
        conn.execute(insert(incidents), rows)


class ParkedSteps:
    """Approval steps as PatchApprovalOperator and RolloutApprovalOperator leave them: a running
    manual DagRun whose approval task waits in awaiting_input with an unanswered HITL request
    assigned to PATCHIT's approval identity. The `parked_steps` fixture (conftest.py) removes
    every run parked here after its test."""

    def __init__(self) -> None:
        self.run_ids: list[str] = []

    def park(self, task=None, *, run_id=None, parked_ago=timedelta(hours=1), body="diff", conf=None) -> str:
        """Park `task` (default: the remediation DAG's approval task) in a new run; returns the run
        id. Parked `parked_ago` ago: by default long ago, answered without
        approvals.PARK_SETTLE_SECONDS' wait (test_approval_settle.py)."""
        from airflow.models.dag_version import DagVersion
        from airflow.models.dagrun import DagRun
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import update

        task = task or remediation_approval_task()
        run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
        with create_session() as session:
            version = DagVersion.get_latest_version(task.dag_id, session=session)
            session.add(DagRun(dag_id=task.dag_id, run_id=run_id, run_type="manual", state="running", conf=conf))
            session.flush()
            ti = TaskInstance(task=task, dag_version_id=version.id, run_id=run_id, state="awaiting_input")
            session.add(ti)
            session.flush()
            session.add(
                HITLDetail(
                    ti_id=ti.id,
                    options=["Approve", "Reject"],
                    subject="approve?",
                    body=body,
                    defaults=None,
                    multiple=False,
                    params={"reason": {"value": "", "schema": {}}},
                    assignees=[APPROVER],
                )
            )  # as the approval operators ask
            session.flush()
            # The park is the task instance's last update (the execution API's state change).
            session.execute(
                update(TaskInstance)
                .where(TaskInstance.id == ti.id)
                .values(updated_at=datetime.now(timezone.utc) - parked_ago)
            )
        self.run_ids.append(run_id)
        return run_id

    def answer(self, run_id: str):
        """(chosen_options, params_input, responded_by, state) of the run's HITL request and task."""
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            return session.execute(
                select(HITLDetail.chosen_options, HITLDetail.params_input, HITLDetail.responded_by, TaskInstance.state)
                .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
                .where(TaskInstance.run_id == run_id)
            ).one()

    def remove(self) -> None:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import delete

        with create_session() as session:
            session.execute(delete(TaskInstance).where(TaskInstance.run_id.in_(self.run_ids)))
            session.execute(delete(DagRun).where(DagRun.run_id.in_(self.run_ids)))


def remediation_approval_task():
    """The remediation DAG's approval task, as a task of a DAG of that id."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    with DAG(approvals.REMEDIATION_DAG_ID, schedule=None):
        return EmptyOperator(task_id=approvals.APPROVAL_TASK_ID)
