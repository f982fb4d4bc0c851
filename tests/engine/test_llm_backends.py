"""Each backend against httpx.MockTransport speaking the vendor's documented shapes, errors too."""

from __future__ import annotations

import base64
import json
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from patchit_provider.engine.llm import (
    LLMAnswerError,
    LLMAuthError,
    LLMError,
    LLMRateLimited,
    LLMRequest,
    build_backend,
)
from patchit_provider.engine.llm.http import retry_after

REQUEST = LLMRequest(system="be careful", prompt="fix it", max_tokens=256, temperature=0.0, prompt_version="v-test")


class Server:
    """Scripted answers in order; records every request."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def body(self, index: int = -1) -> dict:
        return json.loads(self.requests[index].content)


def backend(kind: str, server: Server, sleeps: list[float] | None = None, **kwargs):
    sleeps = [] if sleeps is None else sleeps
    defaults = {"api_key": "sk-test-key", "model": "m-1", "max_retries": 2}
    defaults.update(kwargs)
    return build_backend(kind, transport=httpx.MockTransport(server), sleep=sleeps.append, **defaults)


def openai_ok(text: str = "RATIONALE: x", model: str = "gpt-4o-mini-2024-07-18") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-123",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        },
    )


def anthropic_ok(text: str = "RATIONALE: y") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "msg_012899dyMDyCX4FgMNNbao8k",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 30},
        },
    )


def anthropic_error(status: int, kind: str, message: str, headers: dict | None = None) -> httpx.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011"}
    return httpx.Response(status, json=body, headers=headers)


def openai_error(status: int, kind: str, message: str, headers: dict | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return httpx.Response(status, json=body, headers=headers)


# -- OpenAI-compatible -------------------------------------------------------------------------


def test_openai_request_and_answer_follow_the_documented_shape():
    server = Server(openai_ok("hello"))
    answer = backend("openai", server, base_url="https://api.openai.com/v1", model="gpt-4o-mini").complete(REQUEST)

    req = server.requests[0]
    assert req.method == "POST"
    assert str(req.url) == "https://api.openai.com/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.headers["content-type"] == "application/json"
    body = server.body()
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [{"role": "system", "content": "be careful"}, {"role": "user", "content": "fix it"}]
    assert body["max_tokens"] == 256 and body["temperature"] == 0.0 and body["stream"] is False
    assert (answer.text, answer.model, answer.backend) == ("hello", "gpt-4o-mini-2024-07-18", "openai")
    assert (answer.input_tokens, answer.output_tokens) == (120, 30)


@pytest.mark.parametrize("model", ["o3-mini", "gpt-5", "openai/o4-mini"])
def test_openai_reasoning_models_get_max_completion_tokens(model):
    server = Server(openai_ok())
    backend("openai", server, model=model).complete(REQUEST)
    body = server.body()
    assert body["max_completion_tokens"] == 256 and "max_tokens" not in body and "temperature" not in body


def test_openai_local_server_without_key_sends_no_authorization():
    server = Server(openai_ok())
    backend("openai", server, api_key="", base_url="http://localhost:11434/v1", model="llama3").complete(REQUEST)
    assert "authorization" not in server.requests[0].headers
    assert server.requests[0].url.path == "/v1/chat/completions"


def test_openai_401_is_an_auth_error_and_not_retried():
    server = Server(openai_error(401, "invalid_request_error", "Incorrect API key provided"))
    with pytest.raises(LLMAuthError, match="Incorrect API key") as info:
        backend("openai", server).complete(REQUEST)
    assert info.value.status == 401 and len(server.requests) == 1


def test_openai_429_honours_retry_after_seconds():
    sleeps: list[float] = []
    server = Server(openai_error(429, "rate_limit_exceeded", "Rate limit reached", {"retry-after": "7"}), openai_ok())
    answer = backend("openai", server, sleeps).complete(REQUEST)
    assert sleeps == [7.0] and answer.text == "RATIONALE: x" and len(server.requests) == 2


def test_retry_after_ms_takes_precedence():
    sleeps: list[float] = []
    server = Server(
        openai_error(429, "rate_limit_exceeded", "slow down", {"retry-after-ms": "1500", "retry-after": "9"}),
        openai_ok(),
    )
    backend("openai", server, sleeps).complete(REQUEST)
    assert sleeps == [1.5]


def test_429_with_retry_after_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    headers = httpx.Headers({"retry-after": format_datetime(when, usegmt=True)})
    assert 25 <= retry_after(headers) <= 30
    past = httpx.Headers({"retry-after": format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)})
    assert retry_after(past) == 0.0
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None


def test_429_retry_after_longer_than_we_wait_raises_rate_limited_without_sleeping():
    sleeps: list[float] = []
    server = Server(openai_error(429, "rate_limit_exceeded", "quota", {"retry-after": "3600"}))
    with pytest.raises(LLMRateLimited) as info:
        backend("openai", server, sleeps).complete(REQUEST)
    assert info.value.retry_after == 3600 and sleeps == [] and len(server.requests) == 1


def test_429_every_time_gives_up_after_bounded_attempts():
    sleeps: list[float] = []
    server = Server(*[openai_error(429, "rate_limit_exceeded", "again") for _ in range(3)])
    with pytest.raises(LLMRateLimited, match="after 3 attempt"):
        backend("openai", server, sleeps, max_retries=2).complete(REQUEST)
    assert len(server.requests) == 3 and sleeps == [1.0, 2.0]  # exponential backoff without Retry-After


def test_500_then_success_is_retried_with_backoff():
    sleeps: list[float] = []
    server = Server(openai_error(500, "server_error", "boom"), openai_ok("fine"))
    assert backend("openai", server, sleeps).complete(REQUEST).text == "fine"
    assert sleeps == [1.0]


def test_400_is_not_retried():
    server = Server(openai_error(400, "invalid_request_error", "max_tokens too large"))
    with pytest.raises(LLMError, match="400") as info:
        backend("openai", server).complete(REQUEST)
    assert not isinstance(info.value, (LLMAuthError, LLMRateLimited)) and len(server.requests) == 1


def test_malformed_json_is_an_answer_error():
    server = Server(httpx.Response(200, content=b"<html>gateway</html>", headers={"content-type": "text/html"}))
    with pytest.raises(LLMAnswerError, match="not JSON"):
        backend("openai", server).complete(REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        {"choices": []},
        {"choices": [{"message": {"role": "assistant", "content": None}, "finish_reason": "length"}]},
        {"choices": [{"message": {"role": "assistant", "content": "   "}}]},
        {"object": "chat.completion"},
        ["not", "an", "object"],
    ],
)
def test_openai_answer_without_text_is_an_answer_error(body):
    server = Server(httpx.Response(200, json=body))
    with pytest.raises(LLMAnswerError):
        backend("openai", server).complete(REQUEST)


def test_timeout_is_retried_then_reported():
    sleeps: list[float] = []
    timeout = httpx.ReadTimeout("read timed out")
    server = Server(timeout, timeout, timeout)
    with pytest.raises(LLMError, match="timed out after 3 attempt"):
        backend("openai", server, sleeps).complete(REQUEST)
    assert sleeps == [1.0, 2.0]


def test_connection_error_then_success():
    server = Server(httpx.ConnectError("refused"), openai_ok("ok"))
    assert backend("openai", server).complete(REQUEST).text == "ok"


def test_timeout_is_set_on_every_call():
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return openai_ok()

    build_backend("openai", model="m", timeout=12.5, transport=httpx.MockTransport(handler)).complete(REQUEST)
    assert seen[0] == {"connect": 12.5, "read": 12.5, "write": 12.5, "pool": 12.5}


def test_openai_check_lists_models():
    server = Server(httpx.Response(200, json={"object": "list", "data": [{"id": "m-1", "object": "model"}]}))
    note = backend("openai", server, base_url="https://api.groq.com/openai/v1").check()
    assert server.requests[0].method == "GET" and server.requests[0].url.path == "/openai/v1/models"
    assert "listed" in note


# -- Anthropic ---------------------------------------------------------------------------------


def test_anthropic_request_and_answer_follow_the_documented_shape():
    server = Server(anthropic_ok("done"))
    answer = backend("anthropic", server, model="claude-sonnet-4-5").complete(REQUEST)

    req = server.requests[0]
    assert req.method == "POST" and str(req.url) == "https://api.anthropic.com/v1/messages"
    assert req.headers["x-api-key"] == "sk-test-key"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["content-type"] == "application/json"
    assert "authorization" not in req.headers
    body = server.body()
    assert body["model"] == "claude-sonnet-4-5" and body["max_tokens"] == 256
    assert body["system"] == "be careful"
    assert body["messages"] == [{"role": "user", "content": "fix it"}]
    assert (answer.text, answer.backend, answer.input_tokens, answer.output_tokens) == ("done", "anthropic", 10, 30)


def test_anthropic_joins_text_blocks_and_ignores_others():
    resp = anthropic_ok()
    data = resp.json()
    data["content"] = [
        {"type": "thinking", "thinking": "hmm"},
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]
    assert backend("anthropic", Server(httpx.Response(200, json=data))).complete(REQUEST).text == "ab"


def test_anthropic_529_overloaded_is_retried():
    sleeps: list[float] = []
    server = Server(anthropic_error(529, "overloaded_error", "Overloaded"), anthropic_ok("after overload"))
    assert backend("anthropic", server, sleeps).complete(REQUEST).text == "after overload"
    assert sleeps == [1.0]


def test_anthropic_529_every_time_is_rate_limited():
    server = Server(*[anthropic_error(529, "overloaded_error", "Overloaded") for _ in range(3)])
    with pytest.raises(LLMRateLimited, match="overloaded_error") as info:
        backend("anthropic", server).complete(REQUEST)
    assert info.value.status == 529 and info.value.vendor_type == "overloaded_error"


def test_anthropic_429_honours_retry_after():
    sleeps: list[float] = []
    server = Server(
        anthropic_error(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
            {"retry-after": "4", "anthropic-ratelimit-requests-remaining": "0"},
        ),
        anthropic_ok(),
    )
    backend("anthropic", server, sleeps).complete(REQUEST)
    assert sleeps == [4.0]


def test_anthropic_auth_errors():
    server = Server(anthropic_error(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(LLMAuthError, match="authentication_error"):
        backend("anthropic", server).complete(REQUEST)
    server = Server(anthropic_error(403, "permission_error", "no access"))
    with pytest.raises(LLMAuthError, match="permission_error"):
        backend("anthropic", server).complete(REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "message", "content": []},
        {"type": "message", "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {}}]},
        {"type": "error", "error": {"type": "api_error", "message": "odd 200"}},
        {"content": "text"},
    ],
)
def test_anthropic_malformed_answers(body):
    with pytest.raises(LLMAnswerError):
        backend("anthropic", Server(httpx.Response(200, json=body))).complete(REQUEST)


def test_anthropic_check_gets_the_model():
    server = Server(
        httpx.Response(
            200,
            json={
                "id": "claude-sonnet-4-5",
                "type": "model",
                "display_name": "Claude",
                "created_at": "2025-09-29T00:00:00Z",
            },
        )
    )
    assert "available" in backend("anthropic", server, model="claude-sonnet-4-5").check()
    assert server.requests[0].method == "GET" and server.requests[0].url.path == "/v1/models/claude-sonnet-4-5"
    assert server.requests[0].headers["anthropic-version"] == "2023-06-01"


# -- In-house ----------------------------------------------------------------------------------

DIFF = "--- a/dags/x.py\n+++ b/dags/x.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = a +\n+b = a + 1\n"


@pytest.mark.parametrize("key", ["diff", "patch"])
def test_inhouse_contract(key):
    server = Server(httpx.Response(200, json={key: DIFF, "usage": {"input_tokens": 5, "output_tokens": 6}}))
    answer = backend("inhouse", server, base_url="http://patchit-llm.internal:8080", model="").complete(REQUEST)
    req = server.requests[0]
    assert req.method == "POST" and str(req.url) == "http://patchit-llm.internal:8080/v1/propose_patch"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    body = server.body()
    assert body["prompt"] == "fix it" and body["system"] == "be careful" and body["prompt_version"] == "v-test"
    assert answer.text == DIFF and answer.backend == "inhouse" and answer.model == "inhouse"
    assert (answer.input_tokens, answer.output_tokens) == (5, 6)


@pytest.mark.parametrize("body", [{}, {"diff": ""}, {"patch": 42}, {"result": "x"}, "just text"])
def test_inhouse_malformed(body):
    with pytest.raises(LLMAnswerError, match="diff|patch|object"):
        backend("inhouse", Server(httpx.Response(200, json=body)), base_url="http://h").complete(REQUEST)


def test_inhouse_rationale_is_kept_in_text():
    server = Server(httpx.Response(200, json={"diff": DIFF, "rationale": "typo"}))
    text = backend("inhouse", server, base_url="http://h").complete(REQUEST).text
    assert text.startswith("RATIONALE: typo\n") and text.endswith(DIFF)


def test_inhouse_check():
    assert (
        "reachable"
        in backend("inhouse", Server(httpx.Response(404, json={"detail": "Not Found"})), base_url="http://h").check()
    )
    with pytest.raises(LLMAuthError):
        backend("inhouse", Server(httpx.Response(401, json={"detail": "no"})), base_url="http://h").check()


# -- Cursor Cloud Agents -----------------------------------------------------------------------


def cursor_agent(status: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "bc_abc123",
            "name": "Fix failure",
            "status": status,
            "source": {"repository": "https://github.com/acme/pipelines", "ref": "main"},
            "target": {
                "branchName": "cursor/fix-1234",
                "url": "https://cursor.com/agents?id=bc_abc123",
                "autoCreatePr": False,
            },
            "createdAt": "2024-01-15T10:30:00Z",
        },
    )


def cursor_conversation(*texts: str) -> httpx.Response:
    messages = [{"id": "msg_1", "type": "user_message", "text": "prompt"}]
    messages += [{"id": f"msg_{i + 2}", "type": "assistant_message", "text": t} for i, t in enumerate(texts)]
    return httpx.Response(200, json={"id": "bc_abc123", "messages": messages})


def cursor(server: Server, sleeps: list[float] | None = None, **options):
    opts = {"repository": "https://github.com/acme/pipelines", "ref": "main", "max_polls": 3, "poll_interval": 5.0}
    opts.update(options)
    return backend("cursor", server, sleeps, model="claude-4-sonnet", options=opts)


def test_cursor_launch_poll_and_read_the_conversation():
    sleeps: list[float] = []
    server = Server(
        cursor_agent("CREATING"),
        cursor_agent("RUNNING"),
        cursor_agent("FINISHED"),
        cursor_conversation("working", "FILE: final"),
    )
    answer = cursor(server, sleeps).complete(REQUEST)

    launch = server.requests[0]
    assert launch.method == "POST" and str(launch.url) == "https://api.cursor.com/v0/agents"
    assert launch.headers["authorization"] == "Basic " + base64.b64encode(b"sk-test-key:").decode()
    body = server.body(0)
    assert body["prompt"] == {"text": "be careful\n\nfix it"}
    assert body["source"] == {"repository": "https://github.com/acme/pipelines", "ref": "main"}
    assert body["model"] == "claude-4-sonnet" and body["target"] == {"autoCreatePr": False}
    assert [(r.method, r.url.path) for r in server.requests[1:]] == [
        ("GET", "/v0/agents/bc_abc123"),
        ("GET", "/v0/agents/bc_abc123"),
        ("GET", "/v0/agents/bc_abc123/conversation"),
    ]
    assert sleeps == [5.0]  # one wait between the two polls
    assert answer.text == "FILE: final" and answer.backend == "cursor" and answer.input_tokens == 0


def test_cursor_polls_are_bounded_and_the_agent_is_stopped():
    sleeps: list[float] = []
    server = Server(
        cursor_agent("CREATING"),
        *[cursor_agent("RUNNING") for _ in range(3)],
        httpx.Response(200, json={"id": "bc_abc123"}),
    )
    with pytest.raises(LLMError, match="not finished after 3 polls"):
        cursor(server, sleeps).complete(REQUEST)
    assert server.requests[-1].method == "POST" and server.requests[-1].url.path == "/v0/agents/bc_abc123/stop"
    assert sleeps == [5.0, 5.0]


def test_cursor_agent_error_status():
    server = Server(cursor_agent("CREATING"), cursor_agent("ERROR"))
    with pytest.raises(LLMError, match="status ERROR"):
        cursor(server).complete(REQUEST)


def test_cursor_finished_without_assistant_message():
    server = Server(cursor_agent("CREATING"), cursor_agent("FINISHED"), cursor_conversation())
    with pytest.raises(LLMAnswerError, match="without an assistant message"):
        cursor(server).complete(REQUEST)


def test_cursor_launch_answer_without_id():
    with pytest.raises(LLMAnswerError, match="no agent id"):
        cursor(Server(httpx.Response(201, json={"status": "CREATING"}))).complete(REQUEST)


def test_cursor_rate_limit_body_and_check():
    sleeps: list[float] = []
    server = Server(
        httpx.Response(
            429,
            json={"error": "Too Many Requests", "message": "Rate limit exceeded. Please try again later."},
            headers={"retry-after": "2"},
        ),
        httpx.Response(200, json={"apiKeyName": "Production API Key", "createdAt": "2024-01-15T10:30:00Z"}),
    )
    assert "Production API Key" in cursor(server, sleeps).check()
    assert sleeps == [2.0] and server.requests[-1].url.path == "/v0/me"


def test_cursor_needs_a_repository():
    with pytest.raises(ValueError, match="repository"):
        build_backend("cursor", api_key="k", options={})


def test_unknown_backend_and_missing_model():
    with pytest.raises(ValueError, match="unknown LLM backend"):
        build_backend("bard")
    with pytest.raises(ValueError, match="model"):
        build_backend("anthropic", api_key="k")


# -- A real socket: the timeout is enforced by httpx, not simulated ----------------------------


@pytest.fixture
def slow_server(monkeypatch):
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(3.0)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server_(ThreadingHTTPServer):
        daemon_threads = True  # teardown must not wait for the sleeping handler
        block_on_close = False

    server = Server_(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_read_timeout_against_a_slow_local_server(slow_server):
    import time

    backend = build_backend("openai", base_url=slow_server, model="m", timeout=0.2, max_retries=0)
    started = time.monotonic()
    with pytest.raises(LLMError, match="timed out after 1 attempt"):
        backend.complete(REQUEST)
    assert time.monotonic() - started < 2.5  # the 3 s answer was not waited for
