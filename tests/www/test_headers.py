"""Security headers on every PATCHIT response; no inline code in the pages; links never follow
the Host header; the OpenAPI schema and docs need a login."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from www_factories import add_incident

from patchit_provider.engine.taxonomy import Category

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "frame-ancestors": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def _csp(response) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def _assert_headers(response, *, cacheable: bool = False):
    csp = _csp(response)
    for directive, value in DIRECTIVES.items():
        assert csp.get(directive) == value, (response.request.url, directive, csp)
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {"same-origin", "no-referrer", "strict-origin"}
    cache = response.headers["cache-control"]
    assert ("no-store" not in cache) if cacheable else (cache == "no-store"), (response.request.url, cache)


def _requests(app, incident_id):
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = re.sub(r"\{(\w+)\}", lambda m: {"decision": "approve"}.get(m.group(1), incident_id), route.path)
            if route.name == "run_page":
                path += "?dag_id=sales_daily&run_id=r1"
            for method in route.methods:
                yield method, path


@pytest.fixture
def incident(store):
    return add_incident(
        store,
        "sales_daily",
        run="r1",
        category=Category.CODE_ERROR,
        diff="--- a/x\n+++ b/x\n",
        rca="# RCA\n<script>alert(1)</script>",
        summary="headers test",
    )


def test_every_route_answers_with_the_security_headers(client, app, headers_for, incident):
    admin = headers_for("admin")
    seen = set()
    for method, path in _requests(app, incident.incident_id):
        for headers in (admin, {}):  # authenticated, and the 401 error answer
            response = client.request(method, path, headers=headers, content=b"{}" if method == "POST" else None)
            _assert_headers(response)
            seen.add((method, path, response.status_code))
    for path in ("/incidents/inc-missing", "/no-such-page"):  # 404 pages, HTML and JSON
        _assert_headers(client.get(path, headers={**admin, "Accept": "text/html"}))
        _assert_headers(client.get(path, headers=admin))
    css = client.get("/static/patchit.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    _assert_headers(css, cacheable=True)
    codes = {code for _, _, code in seen}
    assert {200, 401} <= codes, seen


def test_pages_hold_no_inline_script_or_style(client, headers_for, incident):
    admin = headers_for("admin")
    for path in ("/", f"/incidents/{incident.incident_id}", "/overview", "/runs?dag_id=sales_daily&run_id=r1", "/docs"):
        page = client.get(path, headers=admin)
        assert page.status_code == 200, (path, page.status_code)
        html = page.text
        # Scripts only as same-origin files (the colour-mode follower), never inline.
        inline = r"<script\b(?!\s+src=\"/patchit/static/[\w-]+\.js\"(?:\s+defer)?></script>)"
        assert not re.search(inline + r"|<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.I), (path, html[:500])
        assert 'rel="stylesheet" href="/patchit/static/patchit.css"' in html
        assert '<script src="/patchit/static/theme.js"></script>' in html


def test_links_never_follow_the_host_header(client, headers_for, incident):
    evil = {**headers_for("admin"), "Host": "evil.example:8443", "X-Forwarded-Host": "evil.example"}
    for path in ("/", f"/incidents/{incident.incident_id}", "/overview"):
        page = client.get(path, headers=evil)
        assert page.status_code == 200 and "evil.example" not in page.text, path
        assert f'href="/patchit/incidents/{incident.incident_id}"' in client.get("/", headers=evil).text


def test_absolute_links_come_from_configuration(store, handoff, auth_manager, headers_for):
    from fastapi.testclient import TestClient

    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.www import create_app

    body = {"platform": "dbt", "pipeline_id": "dbt_models", "run_id": "r1", "log_text": "boom"}
    evil = {**headers_for("bob"), "Host": "evil.example"}
    configured = create_app(
        lambda: store, hand_off=handoff, settings=PatchitSettings(), origin="https://airflow.corp.example"
    )
    with TestClient(configured, root_path="/patchit") as client:
        answer = client.post("/events/ingest", json=body, headers=evil)
    assert answer.status_code == 201, answer.text
    incident_id = answer.json()["incident_id"]
    assert answer.json()["url"] == f"https://airflow.corp.example/patchit/incidents/{incident_id}"
    assert answer.headers["location"] == f"https://airflow.corp.example/patchit/api/incidents/{incident_id}"
    unconfigured = create_app(lambda: store, hand_off=handoff, settings=PatchitSettings(), origin=None)
    with TestClient(unconfigured, root_path="/patchit") as client:
        again = client.post("/events/ingest", json=body, headers=evil)
    assert again.json()["url"] == f"/patchit/incidents/{incident_id}"  # relative, never evil.example


def test_base_url_of_airflow_is_the_origin(monkeypatch):
    from patchit_provider.www import links

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.corp.example:8443/sub/path")
    assert links.configured_origin() == "https://airflow.corp.example:8443"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    assert links.configured_origin() is None


def test_schema_and_docs_need_a_login(client, headers_for):
    for path in ("/openapi.json", "/docs"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=headers_for("viewer")).status_code == 200
    docs = client.get("/docs", headers=headers_for("viewer")).text
    assert "/events/ingest" in docs
