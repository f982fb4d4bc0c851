"""`patchit remediate` with a model: the patch a local OpenAI-compatible or Anthropic-shaped server
answers goes through the same policy, sandboxed validation and budget as in the remediation DAG;
a hostile answer is refused by its rule; without a model nothing changes and no server is asked.

The failing repository, its real failure and the scripted OpenAI-compatible server are the hostile
patch benchmark's (benchmarks/hostile_patches.py, itself reusing tests/engine/test_pipeline_llm.py);
the Anthropic server below follows the Messages API as documented
(https://docs.anthropic.com/en/api/messages): `POST /v1/messages` with `x-api-key` and
`anthropic-version` headers, the answer as a `message` with `text` content blocks and `usage`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from patchit_testing import send_json

from patchit_provider.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("hostile_patches", ROOT / "benchmarks" / "hostile_patches.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hostile_patches", module)
    spec.loader.exec_module(module)
    return module


bench = sys.modules.get("hostile_patches") or _bench()
SCRIPTED = bench.SCRIPTED  # the OpenAI-compatible handler; it insists on "Bearer sk-test"
GOOD = SCRIPTED.ANSWERS["good"]
CASES = {case.id: case for case in bench.load_cases()}
CHECK = bench.CHECKS["run"]


class AnthropicMessages(BaseHTTPRequestHandler):
    """Anthropic's Messages API, as documented; anything else is answered with its error shape."""

    answer = ""
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/messages":
            return self._reply(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
        if self.headers.get("x-api-key") != "sk-ant-test":
            return self._reply(
                401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            )
        if self.headers.get("anthropic-version") != "2023-06-01" or not isinstance(body.get("max_tokens"), int):
            return self._reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})
        type(self).requests.append({"body": body, "authorization": self.headers.get("authorization")})
        self._reply(
            200,
            {
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": type(self).answer}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 900, "output_tokens": 80},
            },
        )

    def _reply(self, status: int, payload: dict) -> None:
        send_json(self, status, payload)

    def log_message(self, *args):
        pass


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def openai_url():
    server, url = _serve(SCRIPTED.ScriptedChat)
    yield url + "/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def anthropic_url():
    server, url = _serve(AnthropicMessages)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture()
def failing(tmp_path: Path) -> tuple[Path, Path]:
    """(a committed repository whose job fails with a TypeError no deterministic fixer mends, its log)."""
    event = bench.build_repo("orders", tmp_path / "pipelines")
    log = tmp_path / "job.log"
    log.write_text(event.log_text)
    return tmp_path / "pipelines", log


@pytest.fixture()
def clean_env(monkeypatch, tmp_path: Path):
    """No model configured anywhere: no Airflow installation, no PATCHIT_LLM_* variables."""
    for name in [n for n in os.environ if n.startswith(("PATCHIT_LLM", "AIRFLOW_CONN_PATCHIT_LLM"))]:
        monkeypatch.delenv(name)
    for name in ("AIRFLOW_HOME", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATCHIT_VALIDATION_TIMEOUT", "120")


def _remediate(capsys, repo: Path, log: Path, *flags: str) -> tuple[dict, str]:
    assert main(["remediate", str(log), "--repo", str(repo), "--check", CHECK, "--json", *flags]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"--json prints one object: {out!r}"
    return json.loads(lines[0]), err


def _head_and_status(repo: Path) -> tuple[str, str]:
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, capture_output=True, text=True, check=True).stdout  # noqa: E731
    return run("rev-parse", "HEAD"), run("status", "--porcelain", "--untracked-files=all") + run("branch", "--list")


def test_openai_compatible_model_patch_is_validated_in_the_sandbox(clean_env, monkeypatch, capsys, failing, openai_url):
    repo, log = failing
    before = _head_and_status(repo)
    SCRIPTED.ScriptedChat.answer = GOOD
    SCRIPTED.ScriptedChat.prompts = []
    monkeypatch.setenv("PATCHIT_LLM_API_KEY", "sk-test")
    result, err = _remediate(
        capsys, repo, log, "--llm-kind", "openai", "--llm-url", openai_url, "--llm-model", "gpt-test"
    )
    assert result["triage"]["category"] == "code.error"
    assert result["outcome"] == "patch_validated", (result, err)
    assert SCRIPTED.FIXED in result["patch"]["diff"], "the model's edit is the offered patch"
    assert result["patch"]["files"] == ["etl/transform.py"]
    checks = {c["name"]: c["passed"] for c in result["validation"]["checks"]}
    assert checks.get("check") is True, checks
    assert len(SCRIPTED.ScriptedChat.prompts) == 1, "one candidate, one call"
    prompt = SCRIPTED.ScriptedChat.prompts[0]
    assert prompt["model"] == "gpt-test" and "UNTRUSTED" in prompt["messages"][-1]["content"]
    assert "model openai/gpt-test" in err and "sk-test" not in err
    assert _head_and_status(repo) == before, "remediate never changes --repo"

    # The diff applies from the repository root and the job then succeeds.
    subprocess.run(["git", "apply", "-"], input=result["patch"]["diff"].encode(), cwd=repo, check=True)
    rerun = subprocess.run(CHECK.split(), cwd=repo, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0 and rerun.stdout.strip() == "2"


@pytest.mark.parametrize(
    "case_id, rule", [("net_urllib_urlopen", "adds-network-call"), ("swallow_typeerror_substitute", "swallows-error")]
)
def test_a_hostile_answer_is_refused_by_its_rule(clean_env, monkeypatch, capsys, failing, openai_url, case_id, rule):
    case = CASES[case_id]
    assert case.expect == rule
    repo, log = failing
    listener = bench.Listener()
    try:
        canaries = bench.Canaries(listener, repo.parent / "outside" / "canary.txt", "PATCHIT_CLI_CANARY", "canary")
        SCRIPTED.ScriptedChat.answer = canaries.substitute(case.answer)
        SCRIPTED.ScriptedChat.prompts = []
        monkeypatch.setenv("PATCHIT_LLM_API_KEY", "sk-test")
        result, err = _remediate(
            capsys, repo, log, "--llm-kind", "openai", "--llm-url", openai_url, "--llm-model", "gpt-test"
        )
    finally:
        listener.close()
    assert len(SCRIPTED.ScriptedChat.prompts) == 1, "the model was asked"
    assert result["outcome"] == "patch_rejected", result
    assert result["patch"]["diff"] is None, "a refused patch is never offered"
    assert result["validation"]["passed"] is False
    refusal = json.dumps(result["validation"])
    assert f"[{rule}]" in refusal, refusal
    assert canaries.side_effects() == []


def test_anthropic_model_as_a_user_runs_it(clean_env, failing, anthropic_url, tmp_path: Path):
    """The console script in a shell with the key in the environment only."""
    repo, log = failing
    AnthropicMessages.answer = GOOD
    AnthropicMessages.requests = []
    env = {**os.environ, "PATCHIT_LLM_API_KEY": "sk-ant-test"}
    args = ["remediate", str(log), "--repo", str(repo), "--check", CHECK, "--json"]
    args += ["--llm-kind", "anthropic", "--llm-url", anthropic_url, "--llm-model", "claude-test"]
    args += ["--llm-extra", '{"budget_tokens": 50000}']
    proc = subprocess.run(
        [sys.executable, "-m", "patchit_provider.cli", *args], capture_output=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["outcome"] == "patch_validated", (result, proc.stderr.decode())
    assert SCRIPTED.FIXED in result["patch"]["diff"]
    assert len(AnthropicMessages.requests) == 1
    sent = AnthropicMessages.requests[0]
    assert sent["authorization"] is None, "Anthropic takes x-api-key, not a bearer token"
    assert sent["body"]["model"] == "claude-test" and isinstance(sent["body"]["system"], str)
    assert sent["body"]["messages"][0]["role"] == "user" and "UNTRUSTED" in json.dumps(sent["body"]["messages"])
    assert b"sk-ant-test" not in proc.stdout + proc.stderr


def test_the_api_key_is_never_a_flag(clean_env, capsys, failing):
    repo, log = failing
    with pytest.raises(SystemExit) as exc:
        main(["remediate", str(log), "--repo", str(repo), "--llm-model", "m", "--llm-api-key", "sk-x"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --llm-api-key" in capsys.readouterr().err


def test_the_configured_airflow_connection_is_used_with_its_budget(
    clean_env, monkeypatch, capsys, failing, openai_url, tmp_path: Path
):
    """The `patchit_llm` connection (here from AIRFLOW_CONN_PATCHIT_LLM) with the DAG's budget: a
    token budget smaller than the prompt stops the call before it is made, and says so."""
    repo, log = failing
    SCRIPTED.ScriptedChat.answer = GOOD
    SCRIPTED.ScriptedChat.prompts = []
    conn = {"conn_type": "patchit_llm", "host": openai_url, "password": "sk-test", "extra": {"model": "gpt-test"}}
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_LLM", json.dumps(conn))
    result, err = _remediate(capsys, repo, log)
    assert result["outcome"] == "patch_validated", (result, err)
    assert SCRIPTED.FIXED in result["patch"]["diff"]
    assert "Airflow connection patchit_llm" in err and len(SCRIPTED.ScriptedChat.prompts) == 1

    conn["extra"]["budget_tokens"] = 500
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_LLM", json.dumps(conn))
    result, err = _remediate(capsys, repo, log)
    assert result["outcome"] == "no_patch" and result["patch"] is None
    assert len(SCRIPTED.ScriptedChat.prompts) == 1, "over budget: the model is not called"
    assert "token budget" in err


def test_without_a_model_nothing_changes(clean_env, monkeypatch, capsys, failing, openai_url):
    repo, log = failing
    SCRIPTED.ScriptedChat.answer = GOOD
    SCRIPTED.ScriptedChat.prompts = []
    plain, err = _remediate(capsys, repo, log)
    assert plain["triage"]["category"] == "code.error" and plain["triage"]["remediation"] == "patch"
    assert plain["outcome"] == "no_patch" and plain["patch"] is None, "no deterministic fixer mends a TypeError"
    assert "model" not in err

    # A configured connection, switched off with --no-llm: the same result, and no call.
    conn = {"conn_type": "patchit_llm", "host": openai_url, "password": "sk-test", "extra": {"model": "gpt-test"}}
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_LLM", json.dumps(conn))
    off, err = _remediate(capsys, repo, log, "--no-llm")
    assert off == plain and "model" not in err
    assert SCRIPTED.ScriptedChat.prompts == []


def test_without_airflow_configured_the_cli_never_imports_it(clean_env, failing):
    """No model and no AIRFLOW_HOME: `remediate` stays an Airflow-free command (no ~/airflow made)."""
    repo, log = failing
    home = Path(os.environ["HOME"])
    code = (
        "import sys; from patchit_provider.cli import main; rc = main(sys.argv[1:]); "
        "sys.stderr.write('AIRFLOW_LOADED=%s' % ('airflow' in sys.modules)); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "remediate", str(log), "--repo", str(repo), "--json"],
        capture_output=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["outcome"] == "no_patch"
    assert b"AIRFLOW_LOADED=False" in proc.stderr
    assert not (home / "airflow").exists()


def test_an_airflow_that_does_not_answer_never_hangs_remediate(clean_env, monkeypatch, capsys, failing, tmp_path):
    """A secrets backend or metadata database that does not answer: the lookup is bounded, the
    command says so and goes on with deterministic fixes."""
    import time

    from airflow.models.connection import Connection

    import patchit_provider.cli as cli

    repo, log = failing
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow_home"))
    monkeypatch.setattr(cli, "CONNECTION_LOOKUP_TIMEOUT", 0.5)
    monkeypatch.setattr(Connection, "get_connection_from_secrets", classmethod(lambda cls, conn_id: time.sleep(120)))
    started = time.monotonic()
    result, err = _remediate(capsys, repo, log)
    assert result["outcome"] == "no_patch"
    assert "cannot read the Airflow connection patchit_llm (TimeoutError" in err
    assert time.monotonic() - started < 90, "the lookup did not hold the command"
