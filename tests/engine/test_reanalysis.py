"""A person asking again for an analysed failure: audited as a re-analysis, with who and why.

Only a run other than the one that took the incident on counts: capture's own run (the incident
had no run yet) and a retry of the same run do not.
"""

from __future__ import annotations

import pytest

from patchit_provider.engine.models import AuditKind, FailureEvent, Requester
from patchit_provider.engine.pipeline import Remediator
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store


@pytest.fixture
def remediator(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'patchit.db'}") as store:
        yield Remediator(store, PatchitSettings())


def asked(remediator, incident_id: str) -> list:
    return [a for a in remediator.ctx.store.audit_trail(incident_id) if a.kind == AuditKind.REANALYSIS_REQUESTED]


def test_first_runs_are_not_reanalyses_and_a_second_run_is(remediator):
    event = FailureEvent(pipeline_id="orders_etl", run_id="manual__2026-12-02", task_id="load", try_number=1)
    captured = remediator.receive(event)  # capture stores the event before any run exists
    first = remediator.receive(event, Requester(run_id="patchit__e1", user="patchit_api"))
    assert first.incident_id == captured.incident_id and asked(remediator, first.incident_id) == []
    store = remediator.ctx.store
    first.remediation_run_id = "patchit__e1"  # what the receive task records for its run
    store.save_incident(first)
    remediator.receive(event, Requester(run_id="patchit__e1", user="patchit_api"))  # a retry of that task
    assert asked(remediator, first.incident_id) == []

    again = remediator.receive(
        event, Requester(run_id="manual__again", user="bob", reason="  token=ghp_" + "a1B2c3D4" * 5 + "\n rotated ")
    )
    [note] = asked(remediator, first.incident_id)
    assert note.actor == "bob" and note.data["run_id"] == "manual__again"
    assert "ghp_a1B2" not in note.message and "ghp_a1B2" not in note.data["reason"]  # redacted like any text
    assert note.message.startswith("re-analysis of orders_etl.load asked by bob in run manual__again: ")
    assert again.remediation_run_id == "manual__again"  # the incident follows the new run
    assert store.get_incident(first.incident_id).remediation_run_id == "manual__again"


def test_a_run_that_opens_the_incident_is_no_reanalysis(remediator):
    event = FailureEvent(pipeline_id="orders_etl", run_id="r2", task_id="load")
    incident = remediator.receive(event, Requester(run_id="manual__first", user="alice", reason="look"))
    kinds = [a.kind for a in remediator.ctx.store.audit_trail(incident.incident_id)]
    assert kinds == [AuditKind.EVENT_RECEIVED]


def test_reason_is_one_bounded_line():
    assert Requester(reason="a\n\n b\tc").reason == "a b c"
    assert len(Requester(reason="x" * 5000).reason) == 500
