"""100 concurrent ingest clients against a real uvicorn on 127.0.0.1, the real hand-off into
Airflow's metadata DB, and the SQLite incident store.

Ten event ids, ten clients each, all released at once by a barrier; the ten clients of one id
send different log text. What a user would notice if it went wrong: a 503, an id answered
"created" twice, two incidents or two remediation runs for one failure, a "hand-off failed"
entry in the audit trail although the run exists, or a run whose conf is not the incident's.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from patchit_provider.engine.models import AuditKind

CLIENTS = 100
EVENTS = 10


@pytest.fixture
def server(store, auth_manager):
    import uvicorn

    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.www import create_app
    from patchit_provider.www.handoff import hand_off

    app = create_app(lambda: store, hand_off=hand_off, settings=PatchitSettings(), origin=None)
    outer = Starlette(routes=[Mount("/patchit", app=app)])  # mounted as Airflow's plugin manager does
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(outer, log_level="warning", limit_concurrency=1000))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/patchit"
    server.should_exit = True
    thread.join(30)
    sock.close()


def test_hundred_concurrent_clients_one_incident_and_one_run_per_event(server, headers_for, store):
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    from patchit_provider.capture.trigger import remediation_conf

    bob = headers_for("bob")
    tag = uuid.uuid4().hex[:8]
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> tuple[int, str, int, dict]:
        event_id = f"conc-{tag}-{n % EVENTS}"
        body = {
            "platform": "spark",
            "pipeline_id": "nightly_spark",
            "run_id": f"app-{n % EVENTS}",
            "event_id": event_id,
            "log_text": f"client {n}: AnalysisException: column amount not found\n",
        }
        barrier.wait(timeout=60)
        response = httpx.post(f"{server}/events/ingest", json=body, headers=bob, timeout=120)
        return n, event_id, response.status_code, response.json()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    elapsed = time.monotonic() - started

    codes = Counter(code for _, _, code, _ in results)
    print(f"\n[ingest concurrency] {CLIENTS} clients, {EVENTS} event ids: {dict(codes)} in {elapsed:.1f}s")
    assert set(codes) <= {200, 201}, [(code, body) for _, _, code, body in results if code not in (200, 201)][:3]

    by_event: dict[str, list] = defaultdict(list)
    for n, event_id, code, body in results:
        by_event[event_id].append((n, code, body))
    assert len(by_event) == EVENTS
    for event_id, answers in by_event.items():
        created = [(n, body) for n, code, body in answers if code == 201]
        assert len(created) == 1, f"{event_id}: answered 'created' {len(created)} times"
        assert {body["incident_id"] for _, _, body in answers} == {created[0][1]["incident_id"]}
        assert all(body["created"] is (code == 201) for _, code, body in answers)
        incident = store.get_incident(created[0][1]["incident_id"])
        # The stored text is the creator's, and every answer names the namespaced stored id.
        assert incident.event.log_text.startswith(f"client {created[0][0]}:")
        assert {body["event_id"] for _, _, body in answers} == {incident.event.event_id}
        assert incident.event.event_id == f"ingest:bob:{event_id}"
        # No false "hand-off failed": the only audit entry is the receipt.
        assert [a.kind for a in store.audit_trail(incident.incident_id)] == [AuditKind.EVENT_RECEIVED]
        run_id = created[0][1]["handoff"]["run_id"]
        with create_session() as session:
            runs = session.query(DagRun).filter(DagRun.dag_id == "patchit_remediation", DagRun.run_id == run_id).all()
            assert len(runs) == 1, f"{event_id}: {len(runs)} remediation runs"
            assert runs[0].conf == remediation_conf(incident.event), "the run's conf is not the stored incident's"
        statuses = Counter(body["handoff"]["status"] for _, _, body in answers)
        assert statuses["created"] == 1 and statuses["failed"] == 0, statuses
    assert store.count_incidents(pipeline_id="nightly_spark") == EVENTS
