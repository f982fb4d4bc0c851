"""Several processes writing to one store at once lose nothing and number audits without gaps."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter

from store_factories import concurrent_worker, event

from patchit_provider.engine.store import open_store

WORKERS = 4
ROUNDS = 40


def test_concurrent_writers_lose_nothing(store_url, record_property):
    with open_store(store_url) as store:
        shared, _ = store.create_incident(event("shared", "run-0"))
    # Separate processes, each with its own connections. Spawn, not fork: the suite runs in one
    # process that already has threads (Airflow's in-process API), and a forked child can inherit
    # a lock held by one of them and hang.
    ctx = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    with ctx.Pool(WORKERS) as pool:
        results = pool.starmap(
            concurrent_worker,
            [(store_url, w, ROUNDS, shared.incident_id, shared.event.model_dump_json()) for w in range(WORKERS)],
        )
    elapsed = time.perf_counter() - start
    record_property("concurrency_seconds", round(elapsed, 2))
    print(f"\n{WORKERS} processes x {ROUNDS} rounds ({WORKERS * ROUNDS * 6} writes): {elapsed:.2f}s")

    total = WORKERS * ROUNDS
    with open_store(store_url) as store:
        assert store.count_incidents() == 1 + total
        assert all(r["dup_created"] == 0 for r in results)
        created = [i for r in results for i in r["created"]]
        assert len(set(created)) == total

        trail = store.audit_trail(shared.incident_id)
        assert [e.seq for e in trail] == list(range(1, total + 1))  # unique, gap-free
        assert Counter(e.message.split("-")[0] for e in trail) == {f"w{w}": ROUNDS for w in range(WORKERS)}
        # Each worker saw its own appends in increasing order.
        for r in results:
            assert r["shared_seqs"] == sorted(r["shared_seqs"])
            assert r["own_seqs"] == [1] * ROUNDS
        for incident_id in created:
            assert [e.seq for e in store.audit_trail(incident_id)] == [1]

        assert sum(r["occ_added"] for r in results) == total
        assert store.get_incident(shared.incident_id).occurrences == 1 + total
        assert len(store.occurrences(shared.incident_id)) == 1 + total
        assert store.list_artifacts(shared.incident_id) == [f"w{w}.txt" for w in range(WORKERS)]
        assert store.get_artifact(shared.incident_id, "w0.txt").content == str(ROUNDS - 1)


def test_store_survives_fork(store):
    """Airflow forks task processes from a parent that may hold an open store: the child must
    get its own connections, so parent and child can write at the same time."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return
    from patchit_provider.engine.models import AuditEvent

    incident, _ = store.create_incident(event())
    store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="parent"))  # pool now holds a connection

    def child() -> None:
        for _ in range(30):
            store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="child"))

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    for _ in range(30):
        store.append_audit(AuditEvent(incident_id=incident.incident_id, kind="parent"))
    proc.join(60)
    assert proc.exitcode == 0
    trail = store.audit_trail(incident.incident_id)
    assert Counter(e.kind for e in trail) == {"parent": 31, "child": 30}
    assert [e.seq for e in trail] == list(range(1, 62))
