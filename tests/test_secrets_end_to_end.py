"""No secret of the redaction corpus leaves PATCHIT: not in the store (incidents, audit trail,
artifacts, RCA report), not in the PR description or branch commit, not in the CLI's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import git

from patchit_provider.engine.models import ErrorInfo, FailureEvent
from patchit_provider.engine.pipeline import Remediator
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store
from patchit_testing import failure_log
from secret_corpus import CORPUS

SECRETS = [secret for _, secret in CORPUS]
LEAKY_LOG = "\n".join(text for text, _ in CORPUS)


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_no_secret_in_the_store_the_report_or_the_branch(pipeline_repo: Path, tmp_path: Path):
    log = failure_log(pipeline_repo, tmp_path / "job.log").read_text()
    tb = log[log.index("Traceback") :]
    event = FailureEvent(
        platform="generic",
        pipeline_id="orders",
        run_id="scheduled__2026-11-22",
        task_id="enrich",
        log_text=LEAKY_LOG + "\n" + log,
        error=ErrorInfo(type="NameError", message="name 'order' is not defined", traceback=LEAKY_LOG + "\n" + tb),
        # metadata is bounded (at most 128 keys per object): the corpus is split over several objects
        metadata={
            **{
                f"env_{n // 100}": {f"line_{n}": text for n, (text, _) in enumerate(CORPUS) if n // 100 == k}
                for k in range(len(CORPUS) // 100 + 1)
                for n in [k * 100]
            },
            "conn": {"password": "pa55w0rd"},
        },
    )
    settings = PatchitSettings(
        repo_map={"orders": str(pipeline_repo)},
        check_command=f"{sys.executable} run_orders.py data/orders.csv",
        publish_mode="mock_pr",
    )
    with open_store(f"sqlite:///{tmp_path}/store.db") as store:
        incident = Remediator(store, settings).run_all(event)
        assert incident.publication is not None, "the failure itself is still remediated"
        texts = [incident.model_dump_json()]
        texts += [a.model_dump_json() for a in store.audit_trail(incident.incident_id)]
        texts += [
            store.get_artifact(incident.incident_id, name).content
            for name in store.list_artifacts(incident.incident_id)
        ]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*")).decode("utf-8", "replace")
    assert not _leaks(raw), "secrets reached the database file"
    for text in texts:
        assert not _leaks(text)
    repo = git.Repo(pipeline_repo)
    assert not _leaks(repo.git.log(incident.publication.branch, "-p"))
    assert not _leaks("".join(p.read_text() for p in (pipeline_repo / ".mock_github").rglob("*") if p.is_file()))


def test_no_secret_in_cli_output(pipeline_repo: Path, tmp_path: Path):
    log = tmp_path / "job.log"
    log.write_text(LEAKY_LOG + "\n" + failure_log(pipeline_repo, tmp_path / "plain.log").read_text())
    for args in (
        ["triage", str(log), "--repo", str(pipeline_repo), "--json"],
        ["triage", str(log), "--repo", str(pipeline_repo)],
        ["remediate", str(log), "--repo", str(pipeline_repo), "--json"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "patchit_provider.cli", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ},
        )
        assert proc.returncode == 0, proc.stderr
        assert not _leaks(proc.stdout + proc.stderr), args
        if "--json" in args:
            json.loads(proc.stdout)
