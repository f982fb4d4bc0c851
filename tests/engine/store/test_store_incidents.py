"""Incidents: idempotent creation, saving stage output, occurrences, open-incident lookup."""

from __future__ import annotations

import pytest
from store_factories import event, triaged

from patchit_provider.engine.models import IncidentState, Outcome, Platform
from patchit_provider.engine.store import TERMINAL_STATES, IncidentNotFoundError, StoreError
from patchit_provider.engine.taxonomy import Category


def test_create_is_idempotent_by_event_id(store):
    first, created = store.create_incident(event())
    again, created_again = store.create_incident(event())  # same failure delivered twice
    assert created and not created_again
    assert again.incident_id == first.incident_id
    assert first.incident_id.startswith("inc-") and len(first.incident_id) == 16
    assert store.count_incidents() == 1
    assert [e.event_id for e in store.occurrences(first.incident_id)] == [first.event.event_id]


def test_incident_round_trips_with_aware_timestamps(store):
    incident, _ = store.create_incident(event(platform=Platform.DBT))
    loaded = store.get_incident(incident.incident_id)
    assert loaded == incident
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset().total_seconds() == 0
    assert store.get_incident_by_event(incident.event.event_id) == incident
    assert store.get_incident("inc-000000000000") is None
    assert store.get_incident_by_event("nope") is None


def test_save_stores_stage_output_and_refreshes_filter_columns(store):
    incident, _ = store.create_incident(event())
    before = incident.updated_at
    saved = store.save_incident(triaged(incident, category=Category.CODE_ERROR, fingerprint="fp-1"))
    assert saved.updated_at > before
    loaded = store.get_incident(incident.incident_id)
    assert loaded.triage.category is Category.CODE_ERROR and loaded.state is IncidentState.TRIAGED
    assert store.count_incidents(category=Category.CODE_ERROR) == 1
    assert store.count_incidents(state="triaged") == 1
    assert store.count_incidents(state=IncidentState.RECEIVED) == 0

    store.save_incident(loaded.model_copy(update={"state": IncidentState.NO_PATCH, "outcome": Outcome.NO_PATCH}))
    assert store.get_incident(incident.incident_id).outcome is Outcome.NO_PATCH
    assert store.count_incidents(state=IncidentState.NO_PATCH) == 1


def test_save_unknown_incident_raises(store):
    incident, _ = store.create_incident(event())
    with pytest.raises(IncidentNotFoundError):
        store.save_incident(incident.model_copy(update={"incident_id": "inc-ffffffffffff"}))


def test_occurrences_are_counted_once_each(store):
    incident, _ = store.create_incident(event(run="run-1"))
    second = event(run="run-2")
    assert store.add_occurrence(incident.incident_id, second) is True
    assert store.add_occurrence(incident.incident_id, second) is False  # same event again
    assert store.get_incident(incident.incident_id).occurrences == 2
    assert [e.run_id for e in store.occurrences(incident.incident_id)] == ["run-1", "run-2"]
    # A stage that saves a stale copy does not undo the count.
    store.save_incident(incident)
    assert store.get_incident(incident.incident_id).occurrences == 2
    with pytest.raises(IncidentNotFoundError):
        store.add_occurrence("inc-ffffffffffff", event(run="run-3"))


def test_event_with_own_incident_can_join_the_open_one(store):
    """Dedup after triage: the new event opened its own incident, then is counted on the old one."""
    old, _ = store.create_incident(event(run="run-1"))
    new_event = event(run="run-2")
    store.create_incident(new_event)
    assert store.add_occurrence(old.incident_id, new_event) is True
    assert store.get_incident(old.incident_id).occurrences == 2
    # The event still resolves to the incident it opened.
    assert store.get_incident_by_event(new_event.event_id).incident_id != old.incident_id


def test_create_for_event_already_counted_returns_that_incident(store):
    old, _ = store.create_incident(event(run="run-1"))
    counted = event(run="run-2")
    store.add_occurrence(old.incident_id, counted)
    same, created = store.create_incident(counted)
    assert not created and same.incident_id == old.incident_id


def test_find_open_by_fingerprint_skips_closed_states(store):
    assert {s.value for s in TERMINAL_STATES} == {"published", "escalated", "no_patch", "rejected", "failed", "grouped"}
    a, _ = store.create_incident(event(run="a"))
    b, _ = store.create_incident(event(run="b"))
    store.save_incident(triaged(a, fingerprint="fp-same"))
    store.save_incident(triaged(b, fingerprint="fp-same"))
    assert store.find_open_by_fingerprint("fp-same").incident_id == a.incident_id  # oldest
    assert store.find_open_by_fingerprint("fp-same", exclude=a.incident_id).incident_id == b.incident_id
    # An escalated or published incident still takes occurrences of its cause...
    store.save_incident(triaged(a, state=IncidentState.ESCALATED, fingerprint="fp-same"))
    assert store.find_open_by_fingerprint("fp-same").incident_id == a.incident_id
    # ...a failed one does not (the work must be done again).
    store.save_incident(triaged(a, state=IncidentState.FAILED, fingerprint="fp-same"))
    assert store.find_open_by_fingerprint("fp-same").incident_id == b.incident_id
    assert store.find_open_by_fingerprint("fp-other") is None


def test_group_by_fingerprint_counts_an_occurrence_and_hides_the_duplicate(store):
    a, _ = store.create_incident(event(run="a"))
    b, _ = store.create_incident(event(run="b"))
    a = store.save_incident(triaged(a, fingerprint="fp-same"))
    assert store.group_by_fingerprint(a) is None, "the first of its cause stays on its own"
    b = store.save_incident(triaged(b, fingerprint="fp-same"))
    primary = store.group_by_fingerprint(b)
    assert primary.incident_id == a.incident_id and primary.occurrences == 2
    grouped = store.get_incident(b.incident_id)
    assert grouped.state is IncidentState.GROUPED and grouped.grouped_into == a.incident_id
    assert [i.incident_id for i in store.list_incidents()] == [a.incident_id]
    assert store.count_incidents() == 1 and store.count_incidents(state="grouped") == 1
    assert {e.run_id for e in store.occurrences(a.incident_id)} == {"a", "b"}


def test_malformed_model_is_refused_not_stored(store):
    """`model_copy(update=...)` skips validation; storing such a copy would break every read."""
    bad = event().model_copy(update={"metadata": [{}, 0]})
    with pytest.raises(StoreError, match="malformed .*metadata"):
        store.create_incident(bad)
    assert store.count_incidents() == 0
    incident, _ = store.create_incident(event())
    with pytest.raises(StoreError, match="malformed Incident"):
        store.save_incident(incident.model_copy(update={"occurrences": "many"}))
    assert store.get_incident(incident.incident_id) == incident
