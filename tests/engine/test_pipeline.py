"""The Remediator's stages end to end on a real repository, every branch of the outcome."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from patchit_provider.engine.models import ErrorInfo, FailureEvent, IncidentState, Outcome
from patchit_provider.engine.pipeline import IncidentNotFound, Remediator
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _event_from_run(repo: Path, script: str, *, dag: str = "orders", secret: str | None = None) -> FailureEvent:
    """A failure event as capture builds it: the real traceback of really failing code."""
    proc = subprocess.run([sys.executable, *script.split()], cwd=repo, capture_output=True, text=True)
    assert proc.returncode != 0
    tb = proc.stderr
    last = tb.strip().splitlines()[-1]
    exc_type, _, message = last.partition(": ")
    log = f"[2026-11-22T03:00:00] INFO starting\n{tb}"
    if secret:
        log = f"connecting with token={secret}\n" + log
        tb = f"{tb}\n(api key was {secret})"
    return FailureEvent(
        platform="generic",
        pipeline_id=dag,
        run_id="scheduled__2026-11-22T03:00:00+00:00",
        task_id="enrich",
        try_number=1,
        log_text=log,
        error=ErrorInfo(type=exc_type, message=message, traceback=tb),
    )


@pytest.fixture()
def remediator(tmp_path: Path, pipeline_repo: Path):
    store = open_store(f"sqlite:///{tmp_path}/store.db")
    settings = PatchitSettings(
        repo_map={"orders": str(pipeline_repo)},
        check_command=f"{sys.executable} run_orders.py data/orders.csv",
        validation_timeout=120,
    )
    yield Remediator(store, settings)
    store.close()


def _kinds(remediator: Remediator, incident_id: str) -> list[str]:
    return [entry.kind for entry in remediator.store.audit_trail(incident_id)]


def test_code_error_goes_all_the_way_to_a_branch(remediator: Remediator, pipeline_repo: Path):
    event = _event_from_run(pipeline_repo, "run_orders.py data/orders.csv")
    incident = remediator.run_all(event)

    assert incident.state is IncidentState.PUBLISHED
    assert incident.outcome is Outcome.PATCH_VALIDATED
    assert incident.triage.category.value == "code.error"
    assert _kinds(remediator, incident.incident_id) == [
        "event.received",
        "evidence.saved",
        "triage.completed",
        "patch.proposed",
        "validation.finished",
        "branch.created",
    ]
    artifacts = set(remediator.store.list_artifacts(incident.incident_id))
    assert {"evidence.json", "rca.md", "rca.json", "patch.diff", "pr.md"} <= artifacts
    assert incident.publication.branch == f"patchit/{incident.fingerprint}"


def test_same_event_twice_is_one_incident(remediator: Remediator, pipeline_repo: Path):
    event = _event_from_run(pipeline_repo, "run_orders.py data/orders.csv")
    first = remediator.receive(event)
    again = remediator.receive(FailureEvent.model_validate(event.model_dump()))
    assert again.incident_id == first.incident_id
    assert _kinds(remediator, first.incident_id) == ["event.received"]


def test_bad_data_is_escalated_without_a_patch(remediator: Remediator, pipeline_repo: Path):
    (pipeline_repo / "load.py").write_text("import json\nrows = json.load(open('data/orders.json'))\n")
    (pipeline_repo / "data" / "orders.json").write_text('[{"order_id": 1, "quantity": 2}, {"ord')
    incident = remediator.run_all(_event_from_run(pipeline_repo, "load.py"))
    assert incident.triage.category.value == "data.malformed"
    assert incident.state is IncidentState.ESCALATED
    assert incident.outcome is Outcome.NO_PATCH and incident.patch is None
    assert _kinds(remediator, incident.incident_id)[-1] == "remediation.escalated"


def test_transient_network_failure_is_a_retry(remediator: Remediator, pipeline_repo: Path):
    (pipeline_repo / "fetch.py").write_text("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)\n")
    incident = remediator.run_all(_event_from_run(pipeline_repo, "fetch.py"))
    assert incident.triage.category.value == "infra.network"
    assert incident.triage.remediation.value == "retry"
    assert incident.patch is None and incident.outcome is Outcome.NO_PATCH
    assert _kinds(remediator, incident.incident_id)[-1] == "remediation.retry_advised"


def test_rejected_patch_is_not_published(remediator: Remediator, pipeline_repo: Path):
    remediator.settings = remediator.settings.model_copy(update={"check_command": "exit 1"})
    incident = remediator.run_all(_event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    assert incident.state is IncidentState.REJECTED
    assert incident.outcome is Outcome.PATCH_REJECTED
    assert incident.publication is None
    assert "branch.created" not in _kinds(remediator, incident.incident_id)


def test_unknown_repository_means_no_patch(remediator: Remediator, pipeline_repo: Path):
    event = _event_from_run(pipeline_repo, "run_orders.py data/orders.csv", dag="unmapped")
    incident = remediator.run_all(event)
    assert incident.outcome is Outcome.NO_PATCH
    trail = remediator.store.audit_trail(incident.incident_id)
    assert trail[-1].kind == "patch.skipped" and "repository" in trail[-1].message


def test_a_failing_stage_is_recorded_not_hidden(remediator: Remediator, pipeline_repo: Path):
    incident = remediator.receive(_event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    with pytest.raises(RuntimeError, match="evidence"):
        remediator.triage(incident.incident_id)
    failed = remediator.load(incident.incident_id)
    assert failed.state is IncidentState.FAILED
    assert _kinds(remediator, incident.incident_id)[-1] == "stage.failed"
    with pytest.raises(IncidentNotFound):
        remediator.triage("inc-does-not-exist")


def test_secrets_never_reach_the_store(tmp_path: Path, remediator: Remediator, pipeline_repo: Path):
    event = _event_from_run(pipeline_repo, "run_orders.py data/orders.csv", secret=SECRET)
    incident = remediator.run_all(event)
    remediator.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
    assert SECRET.encode() not in raw
    assert incident.triage is not None


def test_same_cause_again_comments_on_the_open_pull_request(remediator: Remediator, pipeline_repo: Path, monkeypatch):
    """A recurrence is grouped into the open incident; with a GitHub PR open, the PR gets a comment."""
    import patchit_provider.engine.publishing as publishing
    from patchit_provider.engine.models import Publication, PublicationKind

    calls = []

    def fake_publish(proposal, incident, repo_root, mode, *, github=None):
        calls.append((incident.incident_id, mode, github))
        return Publication(
            kind=PublicationKind.GITHUB,
            branch=f"patchit/{incident.fingerprint}",
            url="https://github.test/acme/p/pull/7",
            pr_number=7,
            reused=len(calls) > 1,
        )

    monkeypatch.setattr(publishing, "publish", fake_publish)
    remediator.github_target = object()
    remediator.settings = remediator.settings.model_copy(update={"publish_mode": "github"})
    first = remediator.run_all(_event_from_run(pipeline_repo, "run_orders.py data/orders.csv"))
    again = FailureEvent.model_validate(
        {
            **_event_from_run(pipeline_repo, "run_orders.py data/orders.csv").model_dump(),
            "run_id": "scheduled__2026-11-23T03:00:00+00:00",
            "event_id": "",
        }
    )
    second = remediator.run_all(again)

    assert first.state is IncidentState.PUBLISHED and second.state is IncidentState.GROUPED
    assert [c[0] for c in calls] == [first.incident_id, second.incident_id]
    assert _kinds(remediator, second.incident_id)[-1] == "pr.commented"
    assert remediator.load(first.incident_id).occurrences == 2
