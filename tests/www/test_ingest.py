"""POST /events/ingest: auth, size, syntax and schema errors, idempotency, hand-off, OpenAPI."""

from __future__ import annotations

import json

import pytest

from patchit_provider.engine.models import AuditKind

URL = "/events/ingest"


def _event(**overrides):
    body = {
        "platform": "dbt",
        "pipeline_id": "dbt_models",
        "run_id": "cloud-run-881",
        "task_id": "model.orders",
        "log_text": 'Database Error in model orders\n  column "amount" does not exist\n',
        "error": {"type": "DatabaseError", "message": 'column "amount" does not exist'},
    }
    body.update(overrides)
    return body


@pytest.fixture
def bob(headers_for):  # may trigger patchit_remediation (op role, DAG allowed)
    return headers_for("bob")


def test_created_then_duplicate_returns_the_same_incident(client, bob, handoff, store):
    first = client.post(URL, json=_event(), headers=bob)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True and body["handoff"]["status"] == "created"
    assert body["handoff"]["run_id"] == f"patchit__{body['event_id']}"
    assert first.headers["location"].endswith(f"/patchit/api/incidents/{body['incident_id']}")
    again = client.post(URL, json=_event(), headers=bob)
    assert again.status_code == 200
    assert again.json()["incident_id"] == body["incident_id"] and again.json()["created"] is False
    assert again.json()["handoff"]["status"] == "duplicate"
    assert store.count_incidents() == 1
    assert [a.kind for a in store.audit_trail(body["incident_id"])] == [AuditKind.EVENT_RECEIVED]
    event, user = handoff.calls[0]
    assert event.platform.value == "dbt" and user == "bob"


def test_explicit_event_ids_are_the_idempotency_key(client, bob, store):
    one = client.post(URL, json=_event(event_id="dbx-run-1"), headers=bob).json()
    two = client.post(URL, json=_event(event_id="dbx-run-1", log_text="other text"), headers=bob)
    assert two.status_code == 200 and two.json()["incident_id"] == one["incident_id"]
    assert client.post(URL, json=_event(event_id="dbx-run-2"), headers=bob).status_code == 201


# `airflow` is refused on ingest (failures of Airflow tasks come through capture): test_ingest_security.py.
@pytest.mark.parametrize("platform", ["dbt", "spark", "databricks", "snowflake", "glue", "generic"])
def test_every_other_platform_is_accepted(client, bob, platform):
    assert client.post(URL, json=_event(platform=platform, run_id=f"r-{platform}"), headers=bob).status_code == 201


def test_secrets_are_redacted_before_storing_and_handing_off(client, bob, handoff, store):
    secret = "AKIAIOSFODNN7EXAMPLE"
    body = client.post(URL, json=_event(log_text=f"aws_access_key_id={secret}\nboom\n"), headers=bob).json()
    stored = store.get_incident(body["incident_id"])
    assert secret not in (stored.event.log_text or "")
    assert secret not in (handoff.calls[0][0].log_text or "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"platform": "dbt"}, ["body", "pipeline_id"]),
        (_event(platform="informatica"), ["body", "platform"]),
        (_event(try_number=-1), ["body", "try_number"]),
        (_event(unexpected="x"), ["body", "unexpected"]),
        (_event(error={"message": "no type"}), ["body", "error", "type"]),
        (_event(pipeline_id=""), ["body", "pipeline_id"]),
        (_event(event_id="has spaces/slash"), ["body", "event_id"]),
        (_event(detected_at="yesterday"), ["body", "detected_at"]),
    ],
)
def test_schema_violations_are_422_with_field_errors(client, bob, handoff, payload, field):
    response = client.post(URL, json=payload, headers=bob)
    assert response.status_code == 422, response.text
    assert field in [error["loc"] for error in response.json()["detail"]]
    assert handoff.calls == []


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b'{"a": NaN}', b"[" * 20_000])
def test_non_json_is_400(client, bob, body):
    response = client.post(URL, content=body, headers={**bob, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(client, bob, body):
    assert client.post(URL, content=body, headers={**bob, "Content-Type": "application/json"}).status_code == 422


def test_nul_characters_are_refused(client, bob):
    assert client.post(URL, json=_event(log_text="a\u0000b"), headers=bob).status_code == 422


def test_oversized_events_are_413_before_parsing(client, bob, store):
    bob = {**bob, "Content-Type": "application/json"}
    big = json.dumps(_event(log_text="x" * 70_000)).encode()  # limit is 64,000 in these tests
    assert client.post(URL, content=big, headers=bob).status_code == 413
    # a lying or absent Content-Length does not help: the stream is counted too
    chunks = (big[i : i + 8192] for i in range(0, len(big), 8192))
    assert client.post(URL, content=chunks, headers=bob).status_code == 413
    # the limit is on bytes, checked before anything is parsed (this is not even JSON)
    assert client.post(URL, content=b"{" * 70_000, headers=bob).status_code == 413
    assert store.count_incidents() == 0


def test_auth_comes_before_anything_is_read(client, headers_for, handoff):
    assert client.post(URL, content=b"{" * 70_000).status_code == 401
    assert client.post(URL, json=_event()).status_code == 401
    # alice may not trigger patchit_remediation
    assert client.post(URL, json=_event(), headers=headers_for("alice")).status_code == 403
    assert handoff.calls == []


def test_failed_hand_off_is_503_and_recorded_then_healed_by_a_retry(client, bob, handoff, store):
    handoff.status = "failed"
    first = client.post(URL, json=_event(), headers=bob)
    assert first.status_code == 503 and first.headers["retry-after"] == "30"
    incident_id = first.json()["incident_id"]
    assert [a.kind for a in store.audit_trail(incident_id)] == [AuditKind.EVENT_RECEIVED, AuditKind.STAGE_FAILED]
    handoff.status = "created"
    retry = client.post(URL, json=_event(), headers=bob)
    assert retry.status_code == 200 and retry.json()["handoff"]["status"] == "created"
    assert retry.json()["incident_id"] == incident_id


def test_openapi_publishes_the_event_schema(client, bob):
    schema = client.get("/openapi.json", headers=bob).json()
    operation = schema["paths"]["/events/ingest"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/FailureEvent"
    event = schema["components"]["schemas"]["FailureEvent"]
    assert "pipeline_id" in event["required"] and event["additionalProperties"] is False
    assert "ErrorInfo" in schema["components"]["schemas"]
    assert {"201", "200", "400", "401", "413", "415", "422"} <= set(operation["responses"])
    # what the model refuses, the schema says (schemathesis and clients generate from it)
    props = event["properties"]
    assert props["metadata"]["maxProperties"] == 128 and props["artifact_uris"]["maxItems"] == 32
    assert props["try_number"]["anyOf"][0]["maximum"] == 2**31 - 1


@pytest.mark.integration
def test_real_hand_off_triggers_the_remediation_dag(airflow_db):
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    from patchit_provider.capture.trigger import remediation_conf
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.www.handoff import hand_off

    event = FailureEvent(platform="glue", pipeline_id="nightly_job", run_id="jr_0123abc", task_id=None)
    first = hand_off(event, "bob")
    assert (first.status, first.run_id) == ("created", f"patchit__{event.event_id}"), first.detail
    assert hand_off(event, "bob").status == "duplicate"
    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id="patchit_remediation", run_id=first.run_id).one()
        assert run.conf == remediation_conf(event)
        assert run.triggering_user_name == "bob"
