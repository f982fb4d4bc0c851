"""PatchitGitHubHook: a connection from AIRFLOW_CONN_PATCHIT_GITHUB (JSON form) -> GitHubTarget,
test_connection against GET /repos/{owner}/{repo}; and the connection type's provider-info entry.
tests/airflow/conftest.py sets AIRFLOW_HOME and unit-test mode before airflow is imported."""

from __future__ import annotations

import json

import httpx
import pytest

from patchit_provider.hooks.github import PatchitGitHubHook
from patchit_provider.connection_forms import github_connection_type as provider_connection_type

TOKEN = "github_pat_" + "A1b2" * 8


def set_conn(monkeypatch, *, host: str = "", password: str = TOKEN, **extra) -> None:
    conn = {"conn_type": "patchit_github", "host": host, "password": password, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_GITHUB", json.dumps(conn))


def repo_answer(push: bool = True) -> dict:
    return {
        "id": 42,
        "full_name": "acme/pipelines",
        "default_branch": "main",
        "permissions": {"admin": False, "maintain": False, "push": push, "triage": True, "pull": True},
    }


def test_connection_becomes_a_target(monkeypatch):
    set_conn(
        monkeypatch,
        repository="acme/pipelines",
        base_branch="develop",
        labels=["patchit", "bot"],
        incident_url="https://airflow.example.com/patchit/incidents/{incident_id}",
        timeout=12,
        max_retries=1,
    )
    target = PatchitGitHubHook().get_target()
    assert (target.api_url, target.repository, target.owner, target.token) == (
        "https://api.github.com",
        "acme/pipelines",
        "acme",
        TOKEN,
    )
    assert (target.base_branch, target.labels, target.timeout, target.max_retries) == (
        "develop",
        ("patchit", "bot"),
        12.0,
        1,
    )
    assert target.incident_url.endswith("/{incident_id}")
    assert TOKEN not in repr(target)


def test_enterprise_host_and_comma_separated_labels(monkeypatch):
    set_conn(monkeypatch, host="ghe.example.com/api/v3/", repository="data/etl", labels="patchit, automated")
    target = PatchitGitHubHook().get_target()
    assert (target.api_url, target.labels, target.base_branch) == (
        "https://ghe.example.com/api/v3",
        ("patchit", "automated"),
        "",
    )


def test_test_connection_reads_the_repository_with_a_short_timeout(monkeypatch):
    set_conn(monkeypatch, host="https://ghe.example.com/api/v3", repository="acme/pipelines", timeout=60, max_retries=5)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=repo_answer())

    ok, message = PatchitGitHubHook(transport=httpx.MockTransport(handler)).test_connection()
    assert ok and message == "acme/pipelines (default branch main)"
    [request] = seen
    assert (request.method, str(request.url)) == ("GET", "https://ghe.example.com/api/v3/repos/acme/pipelines")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.extensions["timeout"]["read"] == 10.0  # short, whatever the connection says


def test_test_connection_reports_a_bad_token_without_retrying(monkeypatch):
    set_conn(monkeypatch, repository="acme/pipelines")
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            401,
            json={"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"},
        )

    ok, message = PatchitGitHubHook(transport=httpx.MockTransport(handler)).test_connection()
    assert not ok and "401: Bad credentials" in message and calls == [1]


def test_test_connection_reports_a_missing_repository_and_a_read_only_token(monkeypatch):
    set_conn(monkeypatch, repository="acme/nope")
    missing = httpx.MockTransport(lambda r: httpx.Response(404, json={"message": "Not Found", "status": "404"}))
    ok, message = PatchitGitHubHook(transport=missing).test_connection()
    assert not ok and "404: Not Found" in message and "repository name" in message

    read_only = httpx.MockTransport(lambda r: httpx.Response(200, json=repo_answer(push=False)))
    ok, message = PatchitGitHubHook(transport=read_only).test_connection()
    assert not ok and "not push" in message


def test_test_connection_reports_an_unreachable_server(monkeypatch):
    set_conn(monkeypatch, host="http://127.0.0.1:9", repository="acme/pipelines")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    ok, message = PatchitGitHubHook(transport=httpx.MockTransport(handler)).test_connection()
    assert not ok and "connection refused" in message


@pytest.mark.parametrize(
    ("password", "extra", "message"),
    [
        (TOKEN, {}, "repository"),
        (TOKEN, {"repository": "pipelines"}, "owner/name"),
        ("", {"repository": "acme/pipelines"}, "token"),
        (TOKEN, {"repository": "acme/pipelines", "timeout": "soon"}, "timeout"),
    ],
)
def test_bad_connections_fail_test_connection_clearly(monkeypatch, password, extra, message):
    set_conn(monkeypatch, password=password, **extra)
    ok, text = PatchitGitHubHook().test_connection()
    assert not ok and message in text


def test_provider_connection_type_entry(check_connection_type_entry):
    check_connection_type_entry(
        provider_connection_type(),
        PatchitGitHubHook,
        conn_type="patchit_github",
        hook_class_name="patchit_provider.hooks.github.PatchitGitHubHook",
        relabeling={"host": "API URL", "password": "Token"},
        optional_fields=("repository", "base_branch", "labels", "incident_url", "timeout", "max_retries"),
    )


def test_conn_fields_load_into_airflow_form_widgets(connection_form_loaded):
    manager = connection_form_loaded(provider_connection_type())
    widget = manager._connection_form_widgets["extra__patchit_github__labels"]
    assert widget.field["schema"]["title"] == "Labels" and widget.field["value"] == "patchit"
    assert "extra__patchit_github__repository" in manager._field_behaviours["patchit_github"]["placeholders"]
