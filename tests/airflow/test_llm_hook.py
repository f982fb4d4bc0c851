"""PatchitLLMHook: a connection from AIRFLOW_CONN_PATCHIT_LLM (JSON form) -> backend, budget,
test_connection; and the connection type's provider-info entry. tests/airflow/conftest.py sets
AIRFLOW_HOME and unit-test mode before airflow is imported."""

from __future__ import annotations

import json

import httpx
import pytest

from patchit_provider.engine.llm import LLMRequest
from patchit_provider.engine.llm.anthropic import AnthropicBackend
from patchit_provider.engine.llm.cursor import CursorBackend
from patchit_provider.engine.llm.openai_compat import OpenAICompatBackend
from patchit_provider.hooks.llm import PatchitLLMHook
from patchit_provider.connection_forms import llm_connection_type as provider_connection_type


def set_conn(monkeypatch, *, host: str = "", password: str = "", **extra) -> None:
    conn = {"conn_type": "patchit_llm", "host": host, "password": password, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_LLM", json.dumps(conn))


def test_openai_connection_builds_a_working_backend(monkeypatch):
    set_conn(
        monkeypatch,
        host="https://api.groq.com/openai/v1",
        password="gsk-test",
        backend="openai",
        model="llama-3.3-70b-versatile",
        timeout=12,
        max_retries=1,
        candidates=3,
        budget_tokens=50000,
        budget_usd=0.5,
        prices={"llama-3.3": [0.59, 0.79]},
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "model": "llama-3.3-70b-versatile",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            },
        )

    hook = PatchitLLMHook(transport=httpx.MockTransport(handler))
    backend = hook.get_backend()
    assert isinstance(backend, OpenAICompatBackend)
    assert backend.complete(LLMRequest(system="s", prompt="p")).text == "hi"
    assert str(seen[0].url) == "https://api.groq.com/openai/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer gsk-test"
    assert seen[0].extensions["timeout"]["read"] == 12
    config = hook.get_config()
    assert (config.candidates, config.max_retries) == (3, 1)
    budget = hook.get_budget()
    assert (budget.max_tokens, budget.max_cost_usd, budget.prices) == (50000, 0.5, {"llama-3.3": (0.59, 0.79)})


def test_anthropic_defaults_to_the_vendor_url_and_prices_may_be_a_json_string(monkeypatch):
    set_conn(
        monkeypatch, password="sk-ant-test", backend="anthropic", model="claude-sonnet-4-5", prices='{"*": [3, 15]}'
    )
    hook = PatchitLLMHook()
    backend = hook.get_backend()
    assert isinstance(backend, AnthropicBackend) and backend.config.base_url == "https://api.anthropic.com"
    assert hook.get_budget().prices == {"*": (3.0, 15.0)}


def test_cursor_connection_passes_repository(monkeypatch):
    set_conn(monkeypatch, password="key", backend="cursor", repository="https://github.com/acme/pipelines", ref="dev")
    backend = PatchitLLMHook().get_backend()
    assert isinstance(backend, CursorBackend) and (backend.repository, backend.ref) == (
        "https://github.com/acme/pipelines",
        "dev",
    )


def test_test_connection_makes_a_cheap_real_call(monkeypatch):
    set_conn(monkeypatch, password="sk-ant-test", backend="anthropic", model="claude-sonnet-4-5", max_retries=5)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"id": "claude-sonnet-4-5", "type": "model", "display_name": "Claude Sonnet 4.5"}
        )

    ok, message = PatchitLLMHook(transport=httpx.MockTransport(handler)).test_connection()
    assert ok and "claude-sonnet-4-5" in message
    assert seen[0].method == "GET" and seen[0].url.path == "/v1/models/claude-sonnet-4-5"
    assert seen[0].extensions["timeout"]["read"] == 10.0  # short, whatever the connection says


def test_test_connection_reports_a_bad_key_without_retrying(monkeypatch):
    set_conn(monkeypatch, host="https://api.openai.com/v1", password="bad", backend="openai", model="gpt-4o-mini")
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = {
            "error": {
                "message": "Incorrect API key provided: bad.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }
        return httpx.Response(401, json=body)

    ok, message = PatchitLLMHook(transport=httpx.MockTransport(handler)).test_connection()
    assert not ok and "401" in message and "Incorrect API key" in message and calls == [1]


def test_test_connection_reports_an_unreachable_server(monkeypatch):
    set_conn(monkeypatch, host="http://127.0.0.1:9/v1", backend="openai", model="llama3")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    ok, message = PatchitLLMHook(transport=httpx.MockTransport(handler)).test_connection()
    assert not ok and "connection refused" in message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"backend": "bard"}, "backend"),
        ({"backend": "openai", "model": "m", "timeout": "soon"}, "timeout"),
        ({"backend": "openai", "model": "m", "prices": "{not json"}, "prices"),
        ({"backend": "openai"}, "model"),
        ({"backend": "cursor"}, "repository"),
    ],
)
def test_bad_connections_fail_test_connection_clearly(monkeypatch, extra, message):
    set_conn(monkeypatch, password="k", **extra)
    ok, text = PatchitLLMHook().test_connection()
    assert not ok and message in text


def test_provider_connection_type_entry(check_connection_type_entry):
    info = check_connection_type_entry(
        provider_connection_type(),
        PatchitLLMHook,
        conn_type="patchit_llm",
        hook_class_name="patchit_provider.hooks.llm.PatchitLLMHook",
        relabeling={"host": "Base URL", "password": "API key"},
        optional_fields=(
            "backend",
            "model",
            "max_tokens",
            "timeout",
            "max_retries",
            "budget_tokens",
            "budget_usd",
            "candidates",
        ),
    )
    assert info["conn-fields"]["backend"]["schema"]["enum"] == ["openai", "anthropic", "inhouse", "cursor"]


def test_conn_fields_load_into_airflow_form_widgets(connection_form_loaded):
    manager = connection_form_loaded(provider_connection_type())
    widget = manager._connection_form_widgets["extra__patchit_llm__backend"]
    assert widget.field["schema"]["title"] == "Backend" and widget.field["value"] == "openai"
    assert "extra__patchit_llm__model" in manager._field_behaviours["patchit_llm"]["placeholders"]


def test_the_patch_task_gets_the_connections_reader_unless_reading_is_off(monkeypatch):
    """The remediation DAG's `patch` task runs the `read` stage with the connection's model;
    `triage_model_reading = False` leaves it without one (and so does a missing connection)."""
    from patchit_provider.engine.llm.reading import ModelReader
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.stages.base import StageKey
    from patchit_provider.operators.remediation import PatchOperator, _remediator

    set_conn(monkeypatch, host="http://127.0.0.1:9/v1", password="sk-test", backend="openai", model="gpt-test")
    settings = PatchitSettings(store_url="sqlite://")
    remediator, store = _remediator(settings, stage=PatchOperator.stages)
    store.close()
    assert StageKey.READ in PatchOperator.stages
    assert isinstance(remediator.reader, ModelReader) and remediator.reader.backend.model == "gpt-test"
    remediator, store = _remediator(
        settings.model_copy(update={"triage_model_reading": False}), stage=PatchOperator.stages
    )
    store.close()
    assert remediator.reader is None and remediator.llm is not None
    monkeypatch.delenv("AIRFLOW_CONN_PATCHIT_LLM")
    remediator, store = _remediator(settings, stage=PatchOperator.stages)
    store.close()
    assert remediator.reader is None and remediator.llm is None
