"""Shared test material: a small real pipeline repository whose job really fails; a fresh
PostgreSQL schema; the replay tests' failure."""

from __future__ import annotations

import contextlib
import json
import http.server
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

TRANSFORM = '''\
"""Order enrichment for the nightly sales load."""

import csv


def load_orders(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def enrich(orders):
    enriched = []
    for order in orders:
        total = float(order["quantity"]) * float(order["unit_price"])
        enriched.append({**order, "total": round(total, 2)})
    return enriched


def run(path):
    orders = load_orders(path)
    rows = enrich(order)
    return len(rows)
'''

RUNNER = """\
import sys
from etl.transform import run
print(run(sys.argv[1]))
"""


@pytest.fixture()
def pipeline_repo(tmp_path: Path) -> Path:
    root = tmp_path / "pipelines"
    (root / "etl").mkdir(parents=True)
    (root / "etl" / "__init__.py").write_text("")
    (root / "etl" / "transform.py").write_text(TRANSFORM)
    (root / "run_orders.py").write_text(RUNNER)
    (root / "data").mkdir()
    (root / "data" / "orders.csv").write_text("order_id,quantity,unit_price\n1,2,3.50\n2,1,10\n")
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add(A=True)
    repo.index.commit("initial", author=git.Actor("Data Team", "data@example.com"))
    return root


def failure_log(repo: Path, dest: Path) -> Path:
    """The real traceback of the failing job, as a cron or BashOperator log would hold it."""
    proc = subprocess.run(
        [sys.executable, "run_orders.py", "data/orders.csv"], cwd=repo, capture_output=True, text=True
    )
    assert proc.returncode != 0
    dest.write_text("[2026-11-22 03:00:01] starting nightly orders load\n" + proc.stderr)
    return dest


def evidence_text(text: str, repo: Path | None = None):
    """The evidence of a log given as text, collected as the CLI does it."""
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.settings import PatchitSettings

    return collect_evidence(FailureEvent(pipeline_id="p", run_id="r", log_text=text), repo, PatchitSettings())


def triage_text(text: str, repo: Path | None = None):
    """`triage` of a log given as text, through evidence collection, as the CLI does it."""
    from patchit_provider.engine.triage import triage

    return triage(evidence_text(text, repo))


@contextlib.contextmanager
def local_http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server with `handler` on 127.0.0.1 (a free port) while the block runs;
    yields its `host:port`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


DBT_BIN = Path(sys.executable).with_name("dbt")


def dbt_project(root: Path, name: str, models: dict[str, str]) -> Path:
    """A dbt-duckdb project in `root` (its profiles.yml beside it, a DuckDB file inside): `models`
    maps a file name under models/ to its text. Returns root."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        f"name: {name}\nversion: '1.0'\nconfig-version: 2\nprofile: {name}\nmodel-paths: [models]\n"
    )
    (root / "profiles.yml").write_text(
        f"{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'w.duckdb'}\n"
    )
    for file_name, text in models.items():
        (root / "models" / file_name).write_text(text)
    return root


PG_ENV = "PATCHIT_TEST_PG_URL"


def postgres_base_url() -> str:
    """PATCHIT_TEST_PG_URL (scripts/postgres.sh start prints it). Without it the test skips, unless
    PATCHIT_REQUIRE_PG=1 (CI), where it fails instead."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        message = f'{PG_ENV} is not set (run: eval "$(scripts/postgres.sh start)")'
        if os.environ.get("PATCHIT_REQUIRE_PG") == "1":
            pytest.fail(f"PATCHIT_REQUIRE_PG=1 but {message}", pytrace=False)
        pytest.skip(message)
    return url


def postgres_dsn() -> str:
    """The test PostgreSQL as a libpq DSN (psycopg.connect, psql)."""
    return postgres_base_url().replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a brand-new, empty schema (selected through the URL's
    libpq `options`), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(postgres_base_url())
    schema = "patchit_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, connect_args={"connect_timeout": 5})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


AMOUT = "name 'amout' is not defined"  # the replay tests' failure: `amout`, a typo of `amount`


def amout_event(pipeline_id: str, run_id: str, task_id: str, code_path: Path | str, **error):
    """The FailureEvent of the replay tests' failure: a NameError for `amout` in `code_path`'s task,
    on its first try; `error` adds to its ErrorInfo (traceback=, frames=)."""
    from patchit_provider.engine.models import ErrorInfo, FailureEvent

    return FailureEvent(
        pipeline_id=pipeline_id,
        run_id=run_id,
        task_id=task_id,
        try_number=1,
        code_path=str(code_path),
        error=ErrorInfo(type="NameError", message=AMOUT, **error),
    )


def amout_triage(fingerprint: str, summary: str, path: str, line: int):
    """The Triage of the replay tests' failure: a code error to patch, its culprit at path:line."""
    from patchit_provider.engine.models import Culprit, ErrorSummary, Triage
    from patchit_provider.engine.taxonomy import Category, Remediation

    return Triage(
        category=Category.CODE_ERROR,
        remediation=Remediation.PATCH,
        fingerprint=fingerprint,
        summary=summary,
        error=ErrorSummary(type="NameError", message=AMOUT),
        culprit=Culprit(path=path, line=line),
        confidence=0.9,
    )


def send_json(handler: http.server.BaseHTTPRequestHandler, status: int, payload: dict) -> None:
    """Answer a scripted vendor request with `payload` as JSON (the tests' servers share it)."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ScriptedChat(http.server.BaseHTTPRequestHandler):
    """OpenAI's Chat Completions as documented (POST /v1/chat/completions, key sk-test): answers
    `answer`, keeps each request body in `prompts`. Shared by every test that scripts a model."""

    answer = ""
    prompts: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.path == "/v1/chat/completions" and self.headers["Authorization"] == "Bearer sk-test"
        type(self).prompts.append(body)
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_764_000_000,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": type(self).answer}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 900, "completion_tokens": 80, "total_tokens": 980},
        }
        send_json(self, 200, payload)

    def log_message(self, *args):
        pass
