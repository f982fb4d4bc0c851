"""The secret corpus (>= 100 formats, fresh random values) in every place PATCHIT meets text,
through the real pipeline: no secret in the store file, artifacts, UI pages and JSON API, CLI
output, prompt bodies, mock PRs or the branch's commit; the benign corpus stays readable; the
branch still holds the real patch although the stored diff is redacted.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import git
import httpx
import pytest

from patchit_provider.engine.llm.base import LLMAnswerError
from patchit_provider.engine.llm.budget import Budget
from patchit_provider.engine.llm.factory import build_backend
from patchit_provider.engine.llm.propose import LLMProposer
from patchit_provider.engine.models import ErrorInfo, FailureEvent, IncidentState
from patchit_provider.engine.pipeline import Remediator
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.settings import PatchitSettings
from patchit_testing import failure_log
from secret_corpus import (
    FORMATS,
    PLACEMENTS,
    airflow3_field,
    called_process_error,
    make_benign,
    make_secrets,
    rnd,
    HEX,
    ALNUM,
)

MAX_BENIGN_MASKED = 2


def test_corpus_is_large_enough():
    assert len(FORMATS) >= 100
    assert len(make_benign()) >= 50


@pytest.mark.parametrize("placement", [*PLACEMENTS, "airflow3_record_field", "bare"])
def test_no_format_survives_any_placement(placement):
    cases = make_secrets()
    leaks = []
    for name, line, secret in cases:
        if placement == "bare":
            text = line
        elif placement == "airflow3_record_field":
            text = airflow3_field(line, secret)
        else:
            text = PLACEMENTS[placement](line)
        if secret in redact(text)[0]:
            leaks.append(name)
    print(f"{placement}: {len(cases)} formats, {len(leaks)} leaked {leaks}")
    assert leaks == []


def test_benign_corpus_stays_readable():
    benign = make_benign()
    masked = [text for text in benign if redact(text)[0] != text]
    print(f"benign: {len(benign)} look-alikes, {len(masked)} masked: {masked}")
    assert len(masked) <= MAX_BENIGN_MASKED


# --- the whole pipeline ----------------------------------------------------------------------


def _corpus_log(cases) -> str:
    blocks = []
    for _, line, secret in cases:
        blocks += [place(line) for place in PLACEMENTS.values()]
        blocks.append(airflow3_field(line, secret))
    return "\n".join(blocks)


def _plant_repository_secrets(repo: Path) -> dict[str, str]:
    """Secrets committed in the pipeline repository, next to and on the line the fix changes:
    they reach code context, blame (commit summary) and the diff's context and changed lines."""
    planted = {
        "api_token": "ghp_" + rnd(ALNUM, 36),
        "dsn_password": rnd(ALNUM, 12) + "!9",
        "inline_token": rnd(HEX, 40),
        "commit_message": "xoxb-" + rnd("0123456789", 12) + "-" + rnd(ALNUM, 24),
    }
    transform = repo / "etl" / "transform.py"
    text = transform.read_text().replace(
        "    orders = load_orders(path)\n    rows = enrich(order)\n",
        f'    api_token = "{planted["api_token"]}"\n'
        "    orders = load_orders(path)\n"
        f"    rows = enrich(order)  # token: {planted['inline_token']}\n"
        f'    dsn = "postgresql://etl:{planted["dsn_password"]}@db/sales"\n',
    )
    transform.write_text(text)
    handle = git.Repo(repo)
    handle.git.add(A=True)
    handle.index.commit(
        f"rotate slack bot {planted['commit_message']}", author=git.Actor("Data Team", "data@example.com")
    )
    return planted


class PromptRecorder:
    """An OpenAI-compatible endpoint (httpx.MockTransport) that keeps every request body."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content.decode())
        return httpx.Response(
            200,
            json={
                "id": "c1",
                "object": "chat.completion",
                "created": 1,
                "model": "m",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "NO_PATCH"}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )


def _leaks(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


def test_no_secret_leaves_patchit(pipeline_repo: Path, tmp_path: Path, store, client, headers_for):
    planted = _plant_repository_secrets(pipeline_repo)
    cases = make_secrets()
    log_secrets = [s for _, _, s in cases]
    every = log_secrets + list(planted.values())
    log = failure_log(pipeline_repo, tmp_path / "job.log").read_text()
    tb = log[log.index("Traceback") :]
    uri_token = rnd(ALNUM, 40)
    uri_password = rnd(ALNUM, 14)
    every += [uri_token, uri_password]
    event = FailureEvent(
        platform="airflow",
        pipeline_id="sales_daily",
        run_id="scheduled__2026-11-22",
        task_id="enrich",
        log_text=_corpus_log(cases) + "\n" + log,
        log_uri=f"https://logs.acme.io/dag/sales_daily/attempt=1.log?token={uri_token}",
        artifact_uris=[f"s3://etl:{uri_password}@bucket/run_results.json", f"https://x.io/a.json?sig={uri_token}"],
        error=ErrorInfo(
            type="NameError",
            message="name 'order' is not defined",
            traceback="\n".join(called_process_error(line) for _, line, _ in cases[:40]) + "\n" + tb,
        ),
        metadata={"env": {name: line for name, line, _ in cases[:60]}, "conn": {"password": cases[0][2]}},
    )
    settings = PatchitSettings(
        repo_map={"sales_daily": str(pipeline_repo)},
        check_command=f"{sys.executable} run_orders.py data/orders.csv",
        publish_mode="mock_pr",
    )
    incident = Remediator(store, settings).run_all(event)

    # the failure itself is still remediated: the redacted stored diff was restored for git apply
    assert incident.state is IncidentState.PUBLISHED, incident.state
    assert "***" in incident.patch.diff, "the stored diff is redacted (its context holds repository secrets)"
    branch_file = git.Repo(pipeline_repo).git.show(f"{incident.publication.branch}:etl/transform.py")
    assert "rows = enrich(orders)" in branch_file and "***" not in branch_file
    assert planted["api_token"] in branch_file, "the branch holds the real patch, repository text untouched"

    found: dict[str, list[str]] = {}
    raw = b"".join(p.read_bytes() for p in Path(store.url.database).parent.glob("patchit.db*")).decode(
        "utf-8", "replace"
    )
    found["store file"] = _leaks(raw, every)
    trail = store.audit_trail(incident.incident_id)
    found["audit"] = _leaks("".join(a.model_dump_json() for a in trail), every)
    arts = [store.get_artifact(incident.incident_id, n).content for n in store.list_artifacts(incident.incident_id)]
    assert arts, "artifacts were written"
    found["artifacts"] = _leaks("".join(arts), every)
    mock = "".join(p.read_text() for p in (pipeline_repo / ".mock_github").rglob("*") if p.is_file())
    assert mock
    found["mock PR"] = _leaks(mock, every)
    repo = git.Repo(pipeline_repo)
    found["branch commit message"] = _leaks(repo.git.log(incident.publication.branch, "-1", "--format=%B"), every)
    found["branch patch (log secrets)"] = _leaks(repo.git.log(incident.publication.branch, "-1", "-p"), log_secrets)

    admin = headers_for("admin")
    pages = [
        client.get("/", headers=admin),
        client.get(f"/incidents/{incident.incident_id}", headers=admin),
        client.get("/api/incidents", headers=admin),
        client.get(f"/api/incidents/{incident.incident_id}", headers=admin),
    ]
    assert all(page.status_code == 200 for page in pages), [page.status_code for page in pages]
    assert incident.incident_id in pages[1].text
    found["UI and API"] = _leaks("".join(page.text for page in pages), every)

    recorder = PromptRecorder()
    backend = build_backend(
        "openai",
        base_url="http://llm.test/v1",
        api_key="sk-test",
        model="m",
        timeout=10,
        max_retries=0,
        transport=httpx.MockTransport(recorder),
    )
    stored = store.get_incident(incident.incident_id)
    with pytest.raises(LLMAnswerError):  # the recorder answers prose: only the prompt matters here
        LLMProposer(backend, lambda: Budget(max_tokens=50_000))(stored.evidence, stored.triage, pipeline_repo)
    assert recorder.bodies, "the prompt was sent"
    found["prompt bodies"] = _leaks("".join(recorder.bodies), every)

    store_url = f"sqlite:///{store.url.database}"
    outputs = []
    for args in (
        ["show", incident.incident_id, "--store", store_url],
        ["show", incident.incident_id, "--store", store_url, "--json"],
        ["incidents", "--store", store_url],
        ["incidents", "--store", store_url, "--json"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "patchit_provider.cli", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ},
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    found["CLI show/incidents"] = _leaks("".join(outputs), every)

    print({place: len(leaks) for place, leaks in found.items()})
    assert {place: leaks for place, leaks in found.items() if leaks} == {}


def test_no_secret_in_cli_triage_and_remediate(pipeline_repo: Path, tmp_path: Path):
    planted = _plant_repository_secrets(pipeline_repo)
    cases = make_secrets()
    every = [s for _, _, s in cases] + list(planted.values())
    log = tmp_path / "job.log"
    log.write_text(_corpus_log(cases) + "\n" + failure_log(pipeline_repo, tmp_path / "plain.log").read_text())
    check_secret = "sk_live_" + rnd(ALNUM, 24)
    every.append(check_secret)
    check = f"{sys.executable} -c \"print('api_key={check_secret}'); import sys; sys.exit(1)\""
    outputs = []
    for args in (
        ["triage", str(log), "--repo", str(pipeline_repo), "--json"],
        ["triage", str(log), "--repo", str(pipeline_repo)],
        ["remediate", str(log), "--repo", str(pipeline_repo), "--json"],
        ["remediate", str(log), "--repo", str(pipeline_repo), "--check", check],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "patchit_provider.cli", *args],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PATCHIT_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}"},
        )
        assert proc.returncode == 0, proc.stderr
        if "--json" in args:
            json.loads(proc.stdout)
        outputs.append(proc.stdout + proc.stderr)
    leaks = _leaks("".join(outputs), every)
    print(f"CLI triage/remediate: {len(every)} secrets, {len(leaks)} leaked")
    assert leaks == []


def test_final_exception_message_is_redacted(tmp_path: Path):
    secret = "ghp_" + rnd(ALNUM, 36)
    bad = tmp_path / f"missing-{secret}.log"
    proc = subprocess.run(
        [sys.executable, "-m", "patchit_provider.cli", "triage", str(bad), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert secret not in proc.stdout + proc.stderr
    assert proc.stderr.strip(), "the error is still reported"


def test_a_patch_adding_a_secret_is_refused(pipeline_repo: Path):
    """A stored (redacted) diff whose added line carries a secret the file does not hold cannot
    be turned back into a patch: applying it is refused, nothing is written."""
    from patchit_provider.engine.redaction import RedactedPatchError, redact_diff, restore_diff

    token = "ghp_" + rnd(ALNUM, 36)
    diff = (
        "--- a/etl/transform.py\n+++ b/etl/transform.py\n@@ -30,3 +30,4 @@ def run(path):\n"
        "     orders = load_orders(path)\n-    rows = enrich(order)\n+    rows = enrich(orders)\n"
        f'+    TOKEN = "{token}"\n     return len(rows)\n'
    )
    stored, _ = redact_diff(diff)
    assert token not in stored
    with pytest.raises(RedactedPatchError, match="adds a secret"):
        restore_diff(stored, pipeline_repo)
    assert secrets.compare_digest(restore_diff(diff, pipeline_repo), diff), "an unredacted diff is untouched"


# --- Airflow's own masker: value-based, exact ----------------------------------------------------


def test_airflow_masker_and_visible_connections_mask_exact_values(monkeypatch):
    """Values no pattern could know (plain words) are masked because Airflow's masker or the
    task's connections and variables hold them; harmless variables stay readable."""
    from airflow.sdk._shared.secrets_masker import mask_secret, reset_secrets_masker

    from patchit_provider.engine.models import ErrorInfo
    from patchit_provider.engine.redaction import clear_secret_values
    from patchit_provider.hooks.masking import install_airflow_masking, masked

    conn_password = "correct horse battery " + rnd("abcdefghij", 6)
    extra_token = "plainword" + rnd("klmnopqrst", 6)
    var_value = "staple" + rnd("uvwxyz", 8)
    touched = "orchid" + rnd("abcdef", 8)  # a value the task itself registered with the masker
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "login": "etl",
                "password": conn_password,
                "extra": {"api_token": extra_token, "region": "eu"},
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW_VAR_PARTNER_SECRET", var_value)
    monkeypatch.setenv("AIRFLOW_VAR_TARGET_SCHEMA", "analytics_mart")
    try:
        install_airflow_masking()
        mask_secret(touched)
        text = f"login with {conn_password} then {extra_token}, {var_value} and {touched} into analytics_mart"
        out = redact(text)[0]
        assert all(v not in out for v in (conn_password, extra_token, var_value, touched)), out
        assert "analytics_mart" in out and "login with" in out
        error = masked(ErrorInfo(type="RuntimeError", message=f"auth failed for {touched}"))
        assert touched not in error.message and error.type == "RuntimeError"
    finally:
        clear_secret_values()
        reset_secrets_masker()
