"""Approve / Reject on the incident page: answered through Airflow's own HITL handler, only while
the remediation run's approval step waits, only by users with the HITL permission, CSRF-checked."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from www_factories import add_incident

from patchit_provider.engine.models import IncidentState
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www import approvals, csrf

ORIGIN = {"Origin": "http://testserver"}
APPROVER = {"id": approvals.APPROVER_ID, "name": "PATCHIT"}


@pytest.fixture
def waiting_step(airflow_db):
    """make(run_id): a remediation DagRun whose `approval` task waits in awaiting_input with a
    HITL request, as PatchApprovalOperator leaves it. Returns a reader of the HITL row."""
    from airflow.models.dag_version import DagVersion
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    made: list[str] = []

    def make(run_id: str | None = None) -> str:
        run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
        with DAG(approvals.REMEDIATION_DAG_ID, schedule=None):
            task = EmptyOperator(task_id=approvals.APPROVAL_TASK_ID)
        with create_session() as session:
            version = DagVersion.get_latest_version(approvals.REMEDIATION_DAG_ID, session=session)
            session.add(DagRun(dag_id=approvals.REMEDIATION_DAG_ID, run_id=run_id, run_type="manual", state="running"))
            session.flush()
            ti = TaskInstance(task=task, dag_version_id=version.id, run_id=run_id, state="awaiting_input")
            # Parked long ago: answered without approvals.PARK_SETTLE_SECONDS' wait (test_approval_settle.py).
            ti.updated_at = datetime.now(timezone.utc) - timedelta(hours=1)
            session.add(ti)
            session.flush()
            session.add(
                HITLDetail(
                    ti_id=ti.id,
                    options=["Approve", "Reject"],
                    subject="approve?",
                    body="diff",
                    defaults=None,
                    multiple=False,
                    params={"reason": {"value": "", "schema": {}}},
                    assignees=[APPROVER],
                )
            )  # as PatchApprovalOperator asks
        made.append(run_id)
        return run_id

    def detail(run_id: str):
        with create_session() as session:
            return session.execute(
                select(HITLDetail.chosen_options, HITLDetail.params_input, HITLDetail.responded_by, TaskInstance.state)
                .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
                .where(TaskInstance.run_id == run_id)
            ).one()

    make.detail = detail
    yield make
    with create_session() as session:
        session.execute(delete(TaskInstance).where(TaskInstance.run_id.in_(made)))
        session.execute(delete(DagRun).where(DagRun.run_id.in_(made)))


def _validated(store, pipeline="sales_daily", run_id=None):
    incident = add_incident(
        store,
        pipeline,
        f"run-{uuid.uuid4().hex[:8]}",
        category=Category.CODE_ERROR,
        state=IncidentState.VALIDATED,
        diff="+x\n",
    )
    incident.remediation_run_id = run_id
    return store.save_incident(incident)


def _token(client, headers, incident) -> str | None:
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return found.group(1) if found else None


def test_form_only_while_the_step_waits(client, headers_for, store, waiting_step):
    admin = headers_for("admin")
    pending = _validated(store, run_id=waiting_step())
    idle = _validated(store, run_id="manual__no_such_run", pipeline="sales_daily")
    assert _token(client, admin, pending) is not None
    assert _token(client, admin, idle) is None  # validated but nothing waits: no form


def test_approve_answers_the_hitl_step_and_redirects(client, headers_for, store, waiting_step):
    admin = headers_for("admin")
    run_id = waiting_step()
    incident = _validated(store, run_id=run_id)
    token = _token(client, admin, incident)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**admin, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/patchit/incidents/{incident.incident_id}")
    chosen, params, by, state = waiting_step.detail(run_id)
    assert chosen == ["Approve"] and by["name"] == "admin"
    assert str(state.value if hasattr(state, "value") else state) == "scheduled"  # resumed, as the REST endpoint does
    # answered: the form is gone and a second answer is refused
    assert _token(client, admin, incident) is None
    again = client.post(
        f"/incidents/{incident.incident_id}/reject",
        data={"csrf_token": token, "reason": "late"},
        headers={**admin, **ORIGIN},
        follow_redirects=False,
    )
    assert again.status_code == 409


def test_reject_needs_a_reason_and_records_it(client, headers_for, store, waiting_step):
    bob = headers_for("bob")  # may read hr_payroll and answer patchit_remediation's HITL steps
    run_id = waiting_step()
    incident = _validated(store, "hr_payroll", run_id=run_id)
    token = _token(client, bob, incident)
    url = f"/incidents/{incident.incident_id}/reject"
    empty = client.post(
        url, data={"csrf_token": token, "reason": "  "}, headers={**bob, **ORIGIN}, follow_redirects=False
    )
    assert empty.status_code == 400
    assert waiting_step.detail(run_id)[0] is None  # nothing answered
    response = client.post(
        url, data={"csrf_token": token, "reason": "wrong column"}, headers={**bob, **ORIGIN}, follow_redirects=False
    )
    assert response.status_code == 303
    chosen, params, by, _ = waiting_step.detail(run_id)
    # The words stay with the incident, behind PATCHIT's checks; the HITL row, which Airflow's API
    # shows to every reader of the remediation DAG, carries none of them.
    assert chosen == ["Reject"] and params == {"reason": ""} and by["name"] == "bob"
    assert store.get_artifact(incident.incident_id, "approval-reason.txt").content == "wrong column"


def test_users_without_the_hitl_permission_get_403(client, headers_for, store, waiting_step):
    viewer = headers_for("viewer")  # may read every DAG, may not answer HITL steps
    run_id = waiting_step()
    incident = _validated(store, run_id=run_id)
    token = csrf.issue("viewer")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**viewer, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert waiting_step.detail(run_id)[0] is None


def test_hitl_permission_without_rights_on_the_failing_dag_is_404(client, headers_for, store, waiting_step):
    bob = headers_for("bob")  # HITL permission on patchit_remediation, but no rights on sales_daily
    run_id = waiting_step()
    incident = _validated(store, "sales_daily", run_id=run_id)
    token = csrf.issue("bob")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**bob, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 404  # not even the incident's existence is shown
    assert "sales_daily" not in response.text  # the refusal does not name a DAG bob cannot read
    assert waiting_step.detail(run_id)[0] is None  # nothing answered


def test_hitl_permission_and_read_but_no_edit_rights_on_the_failing_dag_is_403(
    client, headers_for, store, waiting_step
):
    carol = headers_for("carol")  # HITL permission on patchit_remediation, read-only on sales_daily
    run_id = waiting_step()
    incident = _validated(store, "sales_daily", run_id=run_id)
    token = csrf.issue("carol")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**carol, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert waiting_step.detail(run_id)[0] is None  # nothing answered


def test_the_hitl_handler_refuses_a_person_answering_directly(store, waiting_step, auth_manager):
    """What `PATCH .../hitlDetails` does for anyone, even an admin: the request is assigned to
    PATCHIT's approval identity, so only PATCHIT's route (which checks the failing DAG) answers."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.utils.session import create_session
    from fastapi import HTTPException

    run_id = waiting_step()
    with pytest.raises(HTTPException) as refused, create_session() as session:
        update_hitl_detail(
            dag_id=approvals.REMEDIATION_DAG_ID,
            dag_run_id=run_id,
            task_id=approvals.APPROVAL_TASK_ID,
            update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=["Approve"]),
            user=SimpleAuthManagerUser(username="admin", role="admin"),
            session=session,
            map_index=-1,
        )
    assert refused.value.status_code == 403
    assert waiting_step.detail(run_id)[0] is None


def test_cross_site_post_is_403_and_answers_nothing(client, headers_for, store, waiting_step):
    admin = headers_for("admin")
    run_id = waiting_step()
    incident = _validated(store, run_id=run_id)
    token = _token(client, admin, incident)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**admin, "Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert waiting_step.detail(run_id)[0] is None


def test_not_pending_is_409(client, headers_for, store):
    admin = headers_for("admin")
    incident = _validated(store, run_id=None)
    token = csrf.issue("admin")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{incident.incident_id}/approve",
        data={"csrf_token": token},
        headers={**admin, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 409


def test_approve_is_post_only(client, headers_for, store):
    incident = _validated(store, run_id=None)
    assert client.get(f"/incidents/{incident.incident_id}/approve", headers=headers_for("admin")).status_code == 405
