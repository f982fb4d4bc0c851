"""The approve/reject form: same-origin, a token bound to the user in form and cookie."""

from __future__ import annotations

import re

import pytest
from www_factories import add_incident

from patchit_provider.engine.models import IncidentState
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www import approvals, csrf


@pytest.fixture
def answers(monkeypatch):
    """Every incident's approval step is pending; answers are recorded instead of reaching
    Airflow (test_approval_routes.py covers the real HITL rows)."""
    calls: list = []
    monkeypatch.setattr(approvals, "pending", lambda run_id: True)
    monkeypatch.setattr(
        approvals, "answer", lambda run_id, user, approve, reason="": calls.append((user.get_name(), approve, reason))
    )
    return calls


@pytest.fixture
def validated(store, answers):
    return add_incident(store, "sales_daily", category=Category.CODE_ERROR, state=IncidentState.VALIDATED, diff="+x\n")


def _form(client, headers, incident):
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.cookies.get(csrf.COOKIE) == token
    return token


ORIGIN = {"Origin": "http://testserver"}


def test_valid_post_answers_and_redirects(client, headers_for, validated, answers):
    admin = headers_for("admin")
    token = _form(client, admin, validated)
    response = client.post(
        f"/incidents/{validated.incident_id}/approve",
        data={"csrf_token": token},
        headers={**admin, **ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 303 and answers == [("admin", True, "")]


def test_token_is_reused_while_valid(client, headers_for, validated):
    admin = headers_for("admin")
    assert _form(client, admin, validated) == _form(client, admin, validated)


@pytest.mark.parametrize(
    "case", ["no_token", "no_cookie", "other_user", "cross_origin", "no_origin", "expired", "tampered"]
)
def test_cross_site_and_forged_posts_are_403(client, headers_for, validated, case):
    admin = headers_for("admin")
    token = _form(client, admin, validated)
    data, headers = {"csrf_token": token}, {**admin, **ORIGIN}
    if case == "no_token":
        data = {}
    elif case == "no_cookie":
        client.cookies.clear()
    elif case == "other_user":
        other = csrf.issue("viewer")
        client.cookies.set(csrf.COOKIE, other)
        data = {"csrf_token": other}
    elif case == "cross_origin":
        headers["Origin"] = "https://evil.example"
    elif case == "no_origin":
        headers.pop("Origin")
    elif case == "expired":
        old = csrf.issue("admin", now=1_000_000)
        client.cookies.set(csrf.COOKIE, old)
        data = {"csrf_token": old}
    elif case == "tampered":
        bad = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
        client.cookies.set(csrf.COOKIE, bad)
        data = {"csrf_token": bad}
    response = client.post(f"/incidents/{validated.incident_id}/reject", data=data, headers=headers)
    assert response.status_code == 403, response.text


def test_referer_counts_as_origin(client, headers_for, validated):
    admin = headers_for("admin")
    token = _form(client, admin, validated)
    response = client.post(
        f"/incidents/{validated.incident_id}/reject",
        data={"csrf_token": token, "reason": "no"},
        headers={**admin, "Referer": f"http://testserver/patchit/incidents/{validated.incident_id}"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_hidden_incident_is_404_even_with_a_valid_token(client, headers_for, store, answers):
    # bob may answer approval steps but not read sales_daily: he learns nothing, not even that it exists
    sales = add_incident(store, "sales_daily", category=Category.CODE_ERROR, state=IncidentState.VALIDATED)
    bob = headers_for("bob")
    token = csrf.issue("bob")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{sales.incident_id}/approve", data={"csrf_token": token}, headers={**bob, **ORIGIN}
    )
    assert response.status_code == 404 and answers == []


def test_reading_without_edit_rights_on_the_failing_dag_is_403_even_with_a_valid_token(
    client, headers_for, store, answers
):
    # carol may answer approval steps and read sales_daily, but not edit it: approving needs edit rights
    sales = add_incident(store, "sales_daily", category=Category.CODE_ERROR, state=IncidentState.VALIDATED)
    carol = headers_for("carol")
    token = csrf.issue("carol")
    client.cookies.set(csrf.COOKIE, token)
    response = client.post(
        f"/incidents/{sales.incident_id}/approve", data={"csrf_token": token}, headers={**carol, **ORIGIN}
    )
    assert response.status_code == 403 and answers == []


def test_get_never_changes_state(client, headers_for, validated, store):
    before = store.get_incident(validated.incident_id)
    audit = store.audit_trail(validated.incident_id)
    admin = headers_for("admin")
    for path in (
        "/",
        f"/incidents/{validated.incident_id}",
        "/overview",
        "/api/incidents",
        "/api/overview",
        f"/api/incidents/{validated.incident_id}",
        f"/incidents/{validated.incident_id}/approve",
    ):
        client.get(path, headers=admin)
    assert client.get(f"/incidents/{validated.incident_id}/approve", headers=admin).status_code == 405
    assert store.get_incident(validated.incident_id) == before
    assert store.audit_trail(validated.incident_id) == audit
