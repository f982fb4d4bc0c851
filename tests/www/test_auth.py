"""Every route needs Airflow authentication; what a user sees follows their DAG permissions."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from www_factories import add_incident

from patchit_provider.engine.models import Platform
from patchit_provider.engine.taxonomy import Category

PUBLIC = {"/static"}  # the stylesheet; the OpenAPI schema and /docs need a login too


def _requests(app):
    """(method, path) for every route of the app, path parameters filled in."""
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: {"decision": "approve"}.get(m.group(1), "inc-x"), route.path)
        if route.name == "run_page":
            path += "?dag_id=sales_daily&run_id=r1"
        for method in route.methods:
            yield method, path


def test_every_route_but_the_schema_is_an_authenticated_api_route(app):
    others = {route.path for route in app.routes if not isinstance(route, APIRoute)}
    assert others == PUBLIC
    assert {(m, p.split("?")[0]) for m, p in _requests(app)} == {
        ("GET", "/"),
        ("GET", "/incidents/inc-x"),
        ("GET", "/runs"),
        ("GET", "/overview"),
        ("GET", "/api/incidents"),
        ("GET", "/api/incidents/inc-x"),
        ("GET", "/api/overview"),
        ("POST", "/events/ingest"),
        ("POST", "/incidents/inc-x/approve"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/rollouts"),
        ("GET", "/rollouts/inc-x"),
        ("GET", "/api/rollouts"),
        ("GET", "/api/rollouts/inc-x"),
        ("POST", "/rollouts/inc-x/edit"),
        ("POST", "/rollouts/inc-x/approve"),
        ("GET", "/vulns"),
        ("GET", "/vulns/inc-x"),
        ("GET", "/api/vulns"),
        ("GET", "/api/vulns/inc-x"),
        ("POST", "/vulns/ingest"),
    }


@pytest.mark.parametrize("credentials", [{}, {"headers": {"Authorization": "Bearer"}}, {"cookies": {"_token": ""}}])
def test_anonymous_requests_get_401_on_every_route(client, app, handoff, credentials):
    for method, path in _requests(app):
        client.cookies.clear()
        response = client.request(method, path, content=b"{}", **credentials)
        assert response.status_code == 401, (method, path, response.status_code, response.text[:200])
    assert handoff.calls == []


def test_a_forged_token_is_refused(client, token_for):
    header, payload, _ = token_for("admin").split(".")
    forged = f"{header}.{payload}.c2lnbmF0dXJl"
    assert client.get("/api/incidents", headers={"Authorization": f"Bearer {forged}"}).status_code == 403


def test_real_login_through_airflow_api_server(store, handoff, auth_manager):
    """The whole chain as in production: Airflow's API app, PATCHIT mounted where the plugin
    manager mounts it, a password login at /auth/token, then Bearer and the UI's cookie."""
    from airflow.api_fastapi.app import create_app as create_airflow_app

    from patchit_provider.www import create_app

    add_incident(store, "sales_daily", category=Category.CODE_ERROR, summary="seen through the real API server")
    airflow_app = create_airflow_app(apps="core")
    airflow_app.router.routes.insert(0, Mount("/patchit", app=create_app(lambda: store, hand_off=handoff)))
    passwords = json.loads(open(auth_manager.get_generated_password_file()).read())
    with TestClient(airflow_app) as client:
        assert client.get("/patchit/").status_code == 401
        login = client.post("/auth/token", json={"username": "viewer", "password": passwords["viewer"]})
        assert login.status_code in (200, 201), login.text
        token = login.json()["access_token"]
        page = client.get("/patchit/", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200
        assert "seen through the real API server" in page.text
        client.cookies.set("_token", token)
        assert client.get("/patchit/api/incidents").json()["total"] == 1


@pytest.fixture
def three_dags(store):
    return {
        "sales": add_incident(store, "sales_daily", run="r1", category=Category.CODE_ERROR, summary="sales broke"),
        "hr": add_incident(store, "hr_payroll", run="r1", category=Category.CODE_ERROR, summary="payroll broke"),
        "dbt": add_incident(
            store, "dbt_models", run="r1", platform=Platform.DBT, category=Category.CODE_ERROR, summary="dbt broke"
        ),
        "gone": add_incident(
            store, "deleted_dag", run="r1", category=Category.CODE_ERROR, summary="dag no longer exists"
        ),
    }


def _ids(client, headers, **params):
    body = client.get("/api/incidents", headers=headers, params=params).json()
    assert body["total"] == len(body["incidents"])
    return {row["pipeline_id"] for row in body["incidents"]}


def test_users_see_only_incidents_of_dags_they_may_read(client, headers_for, three_dags):
    assert _ids(client, headers_for("viewer")) == {"sales_daily", "hr_payroll", "dbt_models"}
    assert _ids(client, headers_for("alice")) == {"sales_daily"}
    # bob may read patchit_remediation: he also sees incidents of other platforms
    assert _ids(client, headers_for("bob")) == {"hr_payroll", "dbt_models"}
    # filters never widen the scope, search neither
    assert _ids(client, headers_for("alice"), dag_id="hr_payroll") == set()
    assert _ids(client, headers_for("alice"), q="payroll") == set()


def test_hidden_incidents_are_404_everywhere(client, headers_for, three_dags):
    alice = headers_for("alice")
    hr = three_dags["hr"].incident_id
    for path in (f"/incidents/{hr}", f"/api/incidents/{hr}"):
        assert client.get(path, headers=alice).status_code == 404
        assert client.get(path, headers=headers_for("viewer")).status_code == 200
    page = client.get("/", headers=alice)
    assert "sales broke" in page.text and "payroll broke" not in page.text and "dbt broke" not in page.text
    overview = client.get("/api/overview", headers=alice).json()
    assert overview["total"] == 1 and overview["top_pipelines"][0]["pipeline_id"] == "sales_daily"


def test_run_tab_needs_access_to_that_dag(client, headers_for, three_dags):
    params = {"dag_id": "hr_payroll", "run_id": "r1"}
    assert client.get("/runs", params=params, headers=headers_for("alice")).status_code == 403
    shown = client.get("/runs", params=params, headers=headers_for("bob"))
    assert shown.status_code == 200 and "payroll broke" in shown.text
