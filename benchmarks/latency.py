"""Latency from a task failure to PATCHIT's root cause and validated patch, on a real Airflow.

Starts the demo's Airflow 3.3 (scripts/demo.sh serve: airflow/components.sh with
airflow/demo.env, PATCHIT installed as a provider) in its own folder and port, makes N runs of
the demo's `orders_etl` fail at the same time (the demo's failing scenarios in turn: a code
typo, a truncated JSON batch, a schema drift, a missing connection, an FX API that is down),
waits until PATCHIT's remediation run of every failure has finished, then prints p50 / p95 / max
of each interval. Every interval starts at the failure's own end time and every end point is a
recorded timestamp, never this script's clock:

    failure        the failed task instance's end_date as Airflow recorded it (REST API), or the
                   task's own end time that capture stored with the event (`detected_at`), when
                   that is earlier (the task process records end_date only when it exits)
    stored         the incident's `event.received` audit event (PATCHIT's store)
    rca            `triage.completed`: category, root cause and RCA on the incident's page; when
                   the analysis was done twice (capture ran out of time after recording the
                   triage but before saving it), the later one, the one that was saved
    validated      the last `validation.finished` of an incident whose patch validated
    last audit     the incident's last audit event (for the code typo: `branch.created`)
    queue wait     the remediation run's start_date - queued_at (Airflow)

    .venv/bin/python benchmarks/latency.py                  # 8 failures, fresh Airflow
    .venv/bin/python benchmarks/latency.py --failures 12 --json result.json
    .venv/bin/python benchmarks/latency.py --keep           # leave Airflow running afterwards

Exit status 0 when every failure got a finished remediation run and the targets of issue 11
hold (rca p50 <= 5 s and p95 <= 15 s; validated code typo p50 <= 30 s), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_DAG = "orders_etl"
# The demo's failing scenarios (airflow/pipeline_repo/dags/orders_etl.py), the code typo first.
SCENARIOS = ["code_typo", "partial_json", "schema_drift", "missing_connection", "flaky_api"]
TERMINAL = {"success", "failed"}
TARGETS = {"rca_p50": 5.0, "rca_p95": 15.0, "validated_p50": 30.0}
USER = PASSWORD = "admin"  # airflow/demo.env
ANALYSIS_EVENTS = {"event.received", "evidence.saved", "triage.completed"}


def say(message: str) -> None:
    print(f"[latency] {message}", file=sys.stderr, flush=True)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value at rank ceil(q*n)): with few samples p95 is the max."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- the demo Airflow ---------------------------------------------------------------------------


class DemoAirflow:
    """scripts/demo.sh in its own DEMO_DIR and DEMO_PORT (a running demo is left alone)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.env = {**os.environ, "DEMO_DIR": str(folder), "DEMO_PORT": str(port)}
        self.env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{self.env.get('PATH', '')}"

    def demo(self, verb: str, timeout: float) -> None:
        subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), verb], env=self.env, check=True, timeout=timeout)

    def start(self, fresh: bool) -> None:
        if fresh:
            self.demo("reset", 120)
        self.demo("serve", 600)

    def stop(self) -> None:
        self.demo("stop", 120)

    @property
    def airflow_home(self) -> Path:
        return self.folder / "airflow_home"


class Api:
    def __init__(self, port: int) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
        token = self.http.post("/auth/token", json={"username": USER, "password": PASSWORD})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def get(self, path: str, **params: Any) -> dict[str, Any] | None:
        try:
            resp = self.http.get(path, params=params)
        except httpx.HTTPError:
            return None
        return resp.json() if resp.status_code == 200 else None

    def unpause(self, dag_id: str) -> None:
        self.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> None:
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        self.http.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body).raise_for_status()

    def run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        body = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return list((body or {}).get("task_instances") or [])


# -- one failure and what PATCHIT recorded for it -------------------------------------------------


@dataclass
class Failure:
    scenario: str
    run_id: str
    task_id: str = ""
    try_number: int | None = None
    ti_end: datetime | None = None
    event_id: str = ""
    remediation_run: dict[str, Any] = field(default_factory=dict)
    remediation_tis: list[dict[str, Any]] = field(default_factory=list)
    detected_at: datetime | None = None
    state: str = ""
    outcome: str = ""
    audit: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def failed_at(self) -> datetime | None:
        times = [t for t in (self.ti_end, self.detected_at) if t is not None]
        return min(times) if times else None

    def first(self, kind: str) -> datetime | None:
        return next((at for k, at in self.audit if k == kind), None)

    def last(self, kind: str) -> datetime | None:
        return next((at for k, at in reversed(self.audit) if k == kind), None)

    def rca_visible(self) -> datetime | None:
        """The last `triage.completed` of the opening analysis (the audit events before the first
        one of another kind): an analysis cut short is followed by the run's own evidence and
        triage, and only the saved triage is on the incident's page."""
        found = None
        for kind, at in self.audit:
            if kind not in ANALYSIS_EVENTS:
                break
            if kind == "triage.completed":
                found = at
        return found or self.first("triage.completed")

    def since_failure(self, at: datetime | None) -> float | None:
        start = self.failed_at
        return None if at is None or start is None else (at - start).total_seconds()

    def intervals(self) -> dict[str, float | None]:
        run = self.remediation_run
        queued, started = parse_time(run.get("queued_at")), parse_time(run.get("start_date"))
        validated = self.last("validation.finished") if self.outcome == "patch_validated" else None
        return {
            "stored": self.since_failure(self.first("event.received")),
            "rca": self.since_failure(self.rca_visible()),
            "validated": self.since_failure(validated),
            "last_audit": self.since_failure(self.audit[-1][1] if self.audit else None),
            "run_queue_wait": (started - queued).total_seconds() if queued and started else None,
        }


def event_id_of(dag_id: str, run_id: str, task_id: str, try_number: int | None) -> str:
    from patchit_provider.engine.models import FailureEvent

    return FailureEvent(pipeline_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number).event_id


def trigger_failures(api: Api, count: int, stamp: str) -> list[Failure]:
    failures = []
    for i in range(count):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        run_id = f"latency__{stamp}__{i:02d}_{scenario}"
        api.trigger(PIPELINE_DAG, run_id, {"scenario": scenario})
        failures.append(Failure(scenario=scenario, run_id=run_id))
    say(f"triggered {count} failing {PIPELINE_DAG} runs at once")
    return failures


def wait_for_failures(api: Api, failures: list[Failure], deadline: float) -> None:
    pending = list(failures)
    while pending and time.monotonic() < deadline:
        for failure in list(pending):
            run = api.run(PIPELINE_DAG, failure.run_id)
            if not run or run["state"] not in TERMINAL:
                continue
            failed = [ti for ti in api.task_instances(PIPELINE_DAG, failure.run_id) if ti["state"] == "failed"]
            if run["state"] == "failed" and failed:
                ti = failed[0]
                failure.task_id, failure.try_number = ti["task_id"], ti.get("try_number")
                failure.ti_end = parse_time(ti.get("end_date"))
                failure.event_id = event_id_of(PIPELINE_DAG, failure.run_id, ti["task_id"], ti.get("try_number"))
            say(f"  {failure.run_id}: {run['state']} {failure.task_id}")
            pending.remove(failure)
        time.sleep(1)
    if pending:
        raise SystemExit(f"[latency] pipeline runs unfinished: {[f.run_id for f in pending]}")


def wait_for_remediations(api: Api, failures: list[Failure], deadline: float) -> None:
    from patchit_provider.engine.constants import REMEDIATION_DAG_ID, RUN_ID_PREFIX

    pending = [f for f in failures if f.event_id]
    while pending and time.monotonic() < deadline:
        for failure in list(pending):
            run = api.run(REMEDIATION_DAG_ID, f"{RUN_ID_PREFIX}{failure.event_id}")
            if run and run["state"] in TERMINAL:
                failure.remediation_run = run
                failure.remediation_tis = api.task_instances(REMEDIATION_DAG_ID, run["dag_run_id"])
                say(f"  {run['dag_run_id']} ({failure.scenario}): {run['state']}")
                pending.remove(failure)
        time.sleep(1)
    if pending:
        say(f"WARNING: remediation runs unfinished: {[f.event_id for f in pending]}")


def read_store(airflow_home: Path, failures: list[Failure]) -> None:
    from patchit_provider.engine.store import default_sqlite_url, open_store

    with open_store(default_sqlite_url(airflow_home)) as store:
        for failure in failures:
            incident = store.get_incident_by_event(failure.event_id) if failure.event_id else None
            if incident is None or incident.event.event_id != failure.event_id:
                continue
            failure.detected_at = incident.event.detected_at
            failure.state = incident.state.value
            failure.outcome = incident.outcome.value if incident.outcome else ""
            failure.audit = [(a.kind, a.at) for a in store.audit_trail(incident.incident_id)]


# -- report -----------------------------------------------------------------------------------------


def summarize(failures: list[Failure]) -> dict[str, Any]:
    rows: dict[str, list[float]] = {}
    for failure in failures:
        for name, value in failure.intervals().items():
            if value is not None:
                rows.setdefault(name, []).append(value)
    typo = [v for f in failures if f.scenario == "code_typo" and (v := f.intervals()["validated"]) is not None]
    if typo:
        rows["validated_code_typo"] = typo
    stats = {
        name: {
            "n": len(values),
            "p50": round(percentile(values, 0.5), 2),
            "p95": round(percentile(values, 0.95), 2),
            "max": round(max(values), 2),
        }
        for name, values in rows.items()
    }
    rca, fix = stats.get("rca"), stats.get("validated_code_typo")
    checks = {
        "every failure has an RCA": bool(rca) and rca["n"] == sum(1 for f in failures if f.event_id),
        f"rca p50 <= {TARGETS['rca_p50']:g} s": bool(rca) and rca["p50"] <= TARGETS["rca_p50"],
        f"rca p95 <= {TARGETS['rca_p95']:g} s": bool(rca) and rca["p95"] <= TARGETS["rca_p95"],
        f"validated code typo p50 <= {TARGETS['validated_p50']:g} s": bool(fix)
        and fix["p50"] <= TARGETS["validated_p50"],
    }
    return {"intervals": stats, "targets": checks}


def print_report(failures: list[Failure], summary: dict[str, Any]) -> None:
    print()
    print(f"{'failure':<44} {'task':<18} {'state':<10} {'stored':>7} {'rca':>7} {'valid.':>7} {'last':>7} {'queue':>7}")
    for f in failures:
        iv = f.intervals()
        cells = [iv[k] for k in ("stored", "rca", "validated", "last_audit", "run_queue_wait")]
        text = " ".join(f"{v:>7.2f}" if v is not None else f"{'-':>7}" for v in cells)
        print(f"{f.run_id[-44:]:<44} {f.task_id:<18} {f.state:<10} {text}")
    print()
    print("seconds from the failure's end time     n     p50     p95     max")
    for name, row in summary["intervals"].items():
        print(f"  {name:<36} {row['n']:>3} {row['p50']:>7.2f} {row['p95']:>7.2f} {row['max']:>7.2f}")
    print()
    for check, ok in summary["targets"].items():
        print(f"  [{'ok' if ok else 'MISSED'}] {check}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", type=int, default=8, help="failing runs started at once (default 8)")
    parser.add_argument("--port", type=int, default=28480, help="port of the benchmark's Airflow (default 28480)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=ROOT / "test-artifacts" / "latency",
        help="its folder (default test-artifacts/latency)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for runs and remediations")
    parser.add_argument("--reuse", action="store_true", help="keep the folder's Airflow state (default: start fresh)")
    parser.add_argument("--keep", action="store_true", help="leave Airflow running afterwards")
    parser.add_argument("--json", type=Path, help="also write the figures and every failure's timings here")
    args = parser.parse_args(argv)

    airflow = DemoAirflow(args.dir.resolve(), args.port)
    started = time.monotonic()
    airflow.start(fresh=not args.reuse)
    try:
        api = Api(args.port)
        from patchit_provider.engine.constants import REMEDIATION_DAG_ID

        for dag_id in (PIPELINE_DAG, REMEDIATION_DAG_ID):
            api.unpause(dag_id)
        deadline = time.monotonic() + args.timeout
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        failures = trigger_failures(api, args.failures, stamp)
        wait_for_failures(api, failures, deadline)
        wait_for_remediations(api, failures, deadline)
        read_store(airflow.airflow_home, failures)
    finally:
        if not args.keep:
            airflow.stop()
    summary = summarize(failures)
    print_report(failures, summary)
    say(f"done in {time.monotonic() - started:.0f} s (Airflow {'left running' if args.keep else 'stopped'})")
    if args.json:
        detail = [
            {
                "scenario": f.scenario,
                "run_id": f.run_id,
                "task_id": f.task_id,
                "event_id": f.event_id,
                "state": f.state,
                "outcome": f.outcome,
                "ti_end_date": f.ti_end.isoformat() if f.ti_end else None,
                "detected_at": f.detected_at.isoformat() if f.detected_at else None,
                "intervals": f.intervals(),
                "remediation_tasks": {
                    ti["task_id"]: [ti.get("queued_when"), ti.get("start_date"), ti.get("end_date"), ti.get("state")]
                    for ti in f.remediation_tis
                },
            }
            for f in failures
        ]
        args.json.write_text(json.dumps({"summary": summary, "failures": detail}, indent=2, default=str))
    complete = all(f.remediation_run for f in failures if f.event_id)
    return 0 if complete and all(summary["targets"].values()) else 1


if __name__ == "__main__":
    if shutil.which("git") is None:
        raise SystemExit("git is required")
    sys.exit(main())
