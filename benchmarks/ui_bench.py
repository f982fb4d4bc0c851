"""Timings of the PATCHIT UI over a store of N incidents (default 10,000):
`python benchmarks/ui_bench.py [N] [--store URL]`.

Measures the app and the store (a SQLite file in a temp dir, or the empty PostgreSQL database
that --store names, e.g. the one `scripts/postgres.sh start` prints) through FastAPI's TestClient; the
Airflow auth dependency is replaced by a fixed scope, so the figures leave out the auth
manager's own cost (one metadata-DB query per request for the readable DAG ids).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="patchit-bench-"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from fastapi.testclient import TestClient  # noqa: E402

from patchit_provider.engine.models import (  # noqa: E402
    AuditEvent,
    AuditKind,
    ErrorSummary,
    FailureEvent,
    Incident,
    IncidentState,
    Outcome,
    Platform,
    Triage,
)
from patchit_provider.engine.store import open_store  # noqa: E402
from patchit_provider.engine.taxonomy import Category, Remediation  # noqa: E402
from patchit_provider.www import create_app  # noqa: E402
from patchit_provider.www.auth import Scope, get_scope, require_read_run  # noqa: E402

PIPELINES = [f"dag_{i:03d}" for i in range(50)] + ["dbt_models"]
CATEGORIES = list(Category)
STATES = [
    IncidentState.PUBLISHED,
    IncidentState.ESCALATED,
    IncidentState.NO_PATCH,
    IncidentState.REJECTED,
    IncidentState.TRIAGED,
]


def fill(store, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made, audits = [], []
    for i in range(n):
        pipeline = PIPELINES[i % len(PIPELINES)]
        at = start + timedelta(minutes=i)
        event = FailureEvent(
            pipeline_id=pipeline,
            run_id=f"run-{i}",
            task_id="load",
            detected_at=at,
            platform=Platform.DBT if pipeline.startswith("dbt") else Platform.AIRFLOW,
            log_text="INFO step\n" * 200 + "ERROR boom\n",
        )
        category = CATEGORIES[i % len(CATEGORIES)]
        state = STATES[i % len(STATES)]
        triage = Triage(
            category=category,
            remediation=Remediation.PATCH,
            fingerprint=f"fp{i % 700:04d}",
            summary=f"failure {i} in {pipeline}",
            error=ErrorSummary(type="E", message="m"),
            confidence=0.7,
        )
        outcome = Outcome.PATCH_VALIDATED if state is IncidentState.PUBLISHED else None
        made.append(
            Incident(
                incident_id=f"inc-{i:06d}",
                event=event,
                created_at=at,
                updated_at=at,
                state=state,
                triage=triage,
                fingerprint=triage.fingerprint,
                outcome=outcome,
            )
        )
        for seq, (kind, delay) in enumerate(
            [(AuditKind.EVENT_RECEIVED, 0), (AuditKind.TRIAGE_COMPLETED, 20), (AuditKind.VALIDATION_FINISHED, 300)],
            start=1,
        ):
            audits.append(
                AuditEvent(incident_id=made[-1].incident_id, kind=kind, seq=seq, at=at + timedelta(seconds=delay))
            )
    store.bulk_load(made, audits)


def measure(client: TestClient, path: str, runs: int = 15) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        status = response.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], status


def main(n: int, url: str = "") -> None:
    store = open_store(url or f"sqlite:///{tempfile.mkdtemp(prefix='patchit-bench-store-')}/patchit.db")
    if store.count_incidents():
        raise SystemExit(f"{url}: the store is not empty; the benchmark fills an empty one")
    t = time.perf_counter()
    fill(store, n)
    print(f"store: {n} incidents, {3 * n} audit events inserted in {time.perf_counter() - t:.2f} s")
    app = create_app(lambda: store, hand_off=lambda event, user=None: None)
    everyone = Scope("bench", "bench", frozenset(PIPELINES[:-1] + ["patchit_remediation"]))
    one_dag = Scope("bench", "bench", frozenset({"dag_007"}))
    many = Scope("bench", "bench", frozenset([f"other_{i}" for i in range(2000)] + PIPELINES[:25]))
    app.dependency_overrides[require_read_run] = lambda: None
    cases = [
        (
            everyone,
            "all DAGs",
            [
                "/",
                "/?page=100",
                f"/?page={max(1, n // 50)}",
                "/?category=code.error",
                "/?q=fp0123",
                "/?q=failure 9",
                "/api/incidents?limit=50&offset=5000",
                "/incidents/inc-000042",
                "/runs?dag_id=dag_001&run_id=run-1",
                "/overview",
                "/api/overview",
            ],
        ),
        (one_dag, "1 DAG", ["/", "/?page=3", "/api/overview"]),
        (many, "2,025 DAG ids", ["/", "/?page=50", "/api/overview"]),
    ]
    with TestClient(app, base_url="http://bench/patchit", root_path="/patchit") as client:
        print(f"{'scope':<14} {'path':<42} {'median ms':>10} {'p90 ms':>8} status")
        for scope, label, paths in cases:
            app.dependency_overrides[get_scope] = lambda scope=scope: scope
            for path in paths:
                median, p90, status = measure(client, path)
                print(f"{label:<14} {path:<42} {median:>10.1f} {p90:>8.1f} {status}")
    store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="incidents to load")
    parser.add_argument("--store", default="", help="an empty store's URL (default: a new SQLite file)")
    args = parser.parse_args()
    main(args.n, args.store)
