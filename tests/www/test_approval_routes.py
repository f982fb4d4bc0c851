"""Approve / Reject on the incident page: answered through Airflow's own HITL handler, only while
the remediation run's approval step waits, only by users with the HITL permission, CSRF-checked."""

from __future__ import annotations

import re
import uuid

import pytest
from www_factories import add_incident

from patchit_provider.engine.models import IncidentState
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www import approvals, csrf

ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def waiting_step(parked_steps):
    """make(run_id): a remediation DagRun whose `approval` task waits in awaiting_input with a
    HITL request, as PatchApprovalOperator leaves it, parked long ago. `make.detail(run_id)` reads
    the HITL row: (chosen options, params input, responded by, task state)."""

    def make(run_id: str | None = None) -> str:
        return parked_steps.park(run_id=run_id)

    make.detail = parked_steps.answer
    return make


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


def _issued_token(client, username: str) -> str:
    """A CSRF token issued to `username`, its cookie set, without a page that shows the form."""
    token = csrf.issue(username)
    client.cookies.set(csrf.COOKIE, token)
    return token


def _answer(client, headers, incident, action="approve", origin=ORIGIN, **form):
    """POST the incident's approve / reject form (csrf_token=, reason=), redirects not followed."""
    return client.post(
        f"/incidents/{incident.incident_id}/{action}",
        data=form,
        headers={**headers, **origin},
        follow_redirects=False,
    )


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
    response = _answer(client, admin, incident, csrf_token=token)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/patchit/incidents/{incident.incident_id}")
    chosen, params, by, state = waiting_step.detail(run_id)
    assert chosen == ["Approve"] and by["name"] == "admin"
    assert str(state.value if hasattr(state, "value") else state) == "scheduled"  # resumed, as the REST endpoint does
    # answered: the form is gone and a second answer is refused
    assert _token(client, admin, incident) is None
    again = _answer(client, admin, incident, "reject", csrf_token=token, reason="late")
    assert again.status_code == 409


def test_reject_needs_a_reason_and_records_it(client, headers_for, store, waiting_step):
    bob = headers_for("bob")  # may read hr_payroll and answer patchit_remediation's HITL steps
    run_id = waiting_step()
    incident = _validated(store, "hr_payroll", run_id=run_id)
    token = _token(client, bob, incident)
    empty = _answer(client, bob, incident, "reject", csrf_token=token, reason="  ")
    assert empty.status_code == 400
    assert waiting_step.detail(run_id)[0] is None  # nothing answered
    response = _answer(client, bob, incident, "reject", csrf_token=token, reason="wrong column")
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
    token = _issued_token(client, "viewer")
    response = _answer(client, viewer, incident, csrf_token=token)
    assert response.status_code == 403
    assert waiting_step.detail(run_id)[0] is None


def test_hitl_permission_without_rights_on_the_failing_dag_is_404(client, headers_for, store, waiting_step):
    bob = headers_for("bob")  # HITL permission on patchit_remediation, but no rights on sales_daily
    run_id = waiting_step()
    incident = _validated(store, "sales_daily", run_id=run_id)
    token = _issued_token(client, "bob")
    response = _answer(client, bob, incident, csrf_token=token)
    assert response.status_code == 404  # not even the incident's existence is shown
    assert "sales_daily" not in response.text  # the refusal does not name a DAG bob cannot read
    assert waiting_step.detail(run_id)[0] is None  # nothing answered


def test_hitl_permission_and_read_but_no_edit_rights_on_the_failing_dag_is_403(
    client, headers_for, store, waiting_step
):
    carol = headers_for("carol")  # HITL permission on patchit_remediation, read-only on sales_daily
    run_id = waiting_step()
    incident = _validated(store, "sales_daily", run_id=run_id)
    token = _issued_token(client, "carol")
    response = _answer(client, carol, incident, csrf_token=token)
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
    response = _answer(client, admin, incident, origin={"Origin": "https://evil.example"}, csrf_token=token)
    assert response.status_code == 403
    assert waiting_step.detail(run_id)[0] is None


def test_not_pending_is_409(client, headers_for, store):
    admin = headers_for("admin")
    incident = _validated(store, run_id=None)
    token = _issued_token(client, "admin")
    response = _answer(client, admin, incident, csrf_token=token)
    assert response.status_code == 409


def test_approve_is_post_only(client, headers_for, store):
    incident = _validated(store, run_id=None)
    assert client.get(f"/incidents/{incident.incident_id}/approve", headers=headers_for("admin")).status_code == 405
