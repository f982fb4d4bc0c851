"""Audit trail order and numbering; artifacts replaced in place."""

from __future__ import annotations

import pytest
from store_factories import event

from patchit_provider.engine.models import Artifact, AuditEvent, AuditKind
from patchit_provider.engine.store import IncidentNotFoundError


def test_audit_trail_is_numbered_in_order(store):
    incident, _ = store.create_incident(event())
    other, _ = store.create_incident(event(run="run-2"))
    kinds = [AuditKind.EVENT_RECEIVED, AuditKind.EVIDENCE_SAVED, AuditKind.TRIAGE_COMPLETED]
    stored = [
        store.append_audit(AuditEvent(incident_id=incident.incident_id, kind=k, data={"n": i}))
        for i, k in enumerate(kinds)
    ]
    assert [e.seq for e in stored] == [1, 2, 3]
    assert store.append_audit(AuditEvent(incident_id=other.incident_id, kind="x")).seq == 1  # per incident
    trail = store.audit_trail(incident.incident_id)
    assert [e.kind for e in trail] == kinds
    assert trail == stored
    assert trail[2].data == {"n": 2} and trail[0].actor == "patchit"


def test_audit_keeps_structured_data(store):
    incident, _ = store.create_incident(event())
    data = {"files": ["a.py", "b.sql"], "score": 0.5, "nested": {"ok": True, "none": None}}
    store.append_audit(
        AuditEvent(incident_id=incident.incident_id, kind="k", actor="alice", message="ünïcode ✓", data=data)
    )
    (got,) = store.audit_trail(incident.incident_id)
    assert got.data == data and got.message == "ünïcode ✓" and got.actor == "alice"


def test_audit_for_unknown_incident_raises(store):
    with pytest.raises(IncidentNotFoundError):
        store.append_audit(AuditEvent(incident_id="inc-ffffffffffff", kind="x"))
    assert store.audit_trail("inc-ffffffffffff") == []


def test_artifact_put_replaces_same_name(store):
    incident, _ = store.create_incident(event())
    iid = incident.incident_id
    store.put_artifact(Artifact(incident_id=iid, name="rca.md", content="# v1"))
    store.put_artifact(Artifact(incident_id=iid, name="rca.json", media_type="application/json", content="{}"))
    store.put_artifact(Artifact(incident_id=iid, name="rca.md", media_type="text/markdown", content="# v2"))
    assert store.list_artifacts(iid) == ["rca.json", "rca.md"]
    got = store.get_artifact(iid, "rca.md")
    assert (got.content, got.media_type) == ("# v2", "text/markdown")
    assert store.get_artifact(iid, "patch.diff") is None
    with pytest.raises(IncidentNotFoundError):
        store.put_artifact(Artifact(incident_id="inc-ffffffffffff", name="x", content=""))


def test_large_artifact(store):
    incident, _ = store.create_incident(event())
    content = "line\n" * 200_000  # 1 MB diff or log
    store.put_artifact(Artifact(incident_id=incident.incident_id, name="big.log", content=content))
    assert store.get_artifact(incident.incident_id, "big.log").content == content
