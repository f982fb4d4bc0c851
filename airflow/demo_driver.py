"""Drive the demo Airflow through its REST API: wait until it is up, trigger the scenarios,
wait for the failures and PATCHIT's remediation runs, print what PATCHIT found.

Called by scripts/demo.sh (which sets the environment from airflow/demo.env):

    python airflow/demo_driver.py wait-ready --timeout 240
    python airflow/demo_driver.py run --timeout 300
    python airflow/demo_driver.py rerun-patched --timeout 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

import httpx

PIPELINE_DAGS = ["orders_etl", "sales_report"]
REMEDIATION_DAG = "patchit_remediation"
SCENARIOS = ["default", "partial_json", "schema_drift", "code_typo", "missing_connection", "flaky_api"]
TERMINAL = {"success", "failed"}
# What each scenario should show: the run's outcome, or PATCHIT's category -> remediation.
EXPECTED = {
    "default": "run succeeds",
    "partial_json": "data.malformed -> escalate",
    "schema_drift": "schema.missing_column -> escalate",
    "code_typo": "code.error -> patch",
    "missing_connection": "config.missing -> escalate",
    "flaky_api": "infra.network -> retry",
}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


class Api:
    def __init__(self) -> None:
        self.base = os.environ["AIRFLOW__API__BASE_URL"].rstrip("/")
        self.http = httpx.Client(base_url=self.base, timeout=30.0)

    def healthy(self) -> dict[str, str]:
        """Component -> status, from the unauthenticated health endpoint."""
        body = self.http.get("/api/v2/monitor/health").raise_for_status().json()
        return {name: (part or {}).get("status", "?") for name, part in body.items() if isinstance(part, dict)}

    def login(self) -> None:
        creds = {"username": os.environ["DEMO_USER"], "password": os.environ["DEMO_PASSWORD"]}
        resp = self.http.post("/auth/token", json=creds)
        if resp.status_code not in (200, 201):
            raise SystemExit(f"[demo] POST /auth/token answered {resp.status_code}: {resp.text[:300]}")
        self.http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params=params)

    def dag_exists(self, dag_id: str) -> bool:
        return self.get(f"/api/v2/dags/{dag_id}").status_code == 200

    def import_errors(self) -> list[dict]:
        resp = self.get("/api/v2/importErrors")
        return resp.json().get("import_errors", []) if resp.status_code == 200 else []

    def unpause(self, dag_id: str) -> None:
        self.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, run_id: str, conf: dict) -> None:
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        self.http.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body).raise_for_status()

    def run_state(self, dag_id: str, run_id: str) -> str:
        """The run's state; "unknown" while the API server does not answer in time."""
        try:
            return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").raise_for_status().json()["state"]
        except httpx.HTTPError:
            return "unknown"

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        try:
            body = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").raise_for_status().json()
        except httpx.HTTPError:
            return ["?"]
        return [ti["task_id"] for ti in body["task_instances"] if ti["state"] == "failed"]

    def runs(self, dag_id: str) -> list[dict]:
        try:
            resp = self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=100, order_by="-run_after")
        except httpx.HTTPError:
            return []
        return resp.json().get("dag_runs", []) if resp.status_code == 200 else []


def wait_ready(api: Api, timeout: float, pid_alive) -> None:
    """Health green, then logged in, then the pipeline DAGs parsed."""
    deadline = time.monotonic() + timeout
    status: dict[str, str] | str = "no answer yet"
    while True:
        if not pid_alive():
            raise SystemExit("[demo] airflow standalone exited while starting")
        try:
            status = api.healthy()
            if all(status.get(c) == "healthy" for c in ("metadatabase", "scheduler", "dag_processor")):
                break
        except httpx.HTTPError as exc:
            status = f"{type(exc).__name__}"
        if time.monotonic() > deadline:
            raise SystemExit(f"[demo] Airflow did not become healthy in {timeout:.0f}s: {status}")
        time.sleep(2)
    say(f"Airflow is healthy: {status}")
    api.login()
    while missing := [d for d in PIPELINE_DAGS if not api.dag_exists(d)]:
        if time.monotonic() > deadline:
            show_import_errors(api)
            raise SystemExit(f"[demo] DAGs not parsed in {timeout:.0f}s: {', '.join(missing)}")
        time.sleep(2)
    grace = time.monotonic() + 60  # all files are parsed in one pass: it follows soon, if at all
    while not api.dag_exists(REMEDIATION_DAG):
        if time.monotonic() > grace:
            show_import_errors(api)
            say(f"WARNING: DAG {REMEDIATION_DAG} is not there: PATCHIT cannot remediate without it")
            return
        time.sleep(2)
    say("DAGs parsed: " + ", ".join(PIPELINE_DAGS + [REMEDIATION_DAG]))


def show_import_errors(api: Api) -> None:
    for err in api.import_errors():
        say(f"import error in {err.get('filename')}:\n{err.get('stack_trace', '')[-1500:]}")


def run(api: Api, timeout: float) -> int:
    api.login()
    deadline = time.monotonic() + timeout
    have_remediation = api.dag_exists(REMEDIATION_DAG)
    for dag_id in PIPELINE_DAGS + ([REMEDIATION_DAG] if have_remediation else []):
        api.unpause(dag_id)
    say("unpaused: " + ", ".join(PIPELINE_DAGS + ([REMEDIATION_DAG] if have_remediation else [])))

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    runs = {scenario: f"demo__{scenario}__{stamp}" for scenario in SCENARIOS}
    for scenario, run_id in runs.items():
        conf = {} if scenario == "default" else {"scenario": scenario}
        api.trigger("orders_etl", run_id, conf)
        say(f"triggered orders_etl {json.dumps(conf):<36} run_id={run_id}")

    say("waiting for the pipeline runs to finish ...")
    states: dict[str, str] = {}
    while len(states) < len(runs) and time.monotonic() < deadline:
        for scenario, run_id in runs.items():
            if scenario not in states and (state := api.run_state("orders_etl", run_id)) in TERMINAL:
                states[scenario] = state
                failed = api.failed_tasks("orders_etl", run_id) if state == "failed" else []
                say(f"  {scenario:<19} {state:<8} {'failed task: ' + ', '.join(failed) if failed else ''}")
        time.sleep(5)
    failed_runs = {runs[s] for s, st in states.items() if st == "failed"}

    remediation = wait_for_remediations(api, failed_runs, deadline) if have_remediation and failed_runs else {}
    missing = failed_runs - set(remediation)
    if len(states) < len(runs):
        say(
            f"WARNING: pipeline runs still unfinished after {timeout:.0f}s: "
            + ", ".join(runs[s] for s in SCENARIOS if s not in states)
        )
    if have_remediation and missing:
        say("WARNING: no finished remediation run for: " + ", ".join(sorted(missing)))

    print_incidents(runs, states, remediation)
    try:
        if api.get("/patchit/").status_code != 404:
            print(f"PATCHIT's own pages: {api.base}/patchit/ (also linked from the Airflow UI)\n")
    except httpx.HTTPError:
        pass
    return 0


def wait_for_remediations(api: Api, failed_runs: set[str], deadline: float, settle: float = 90) -> dict[str, dict]:
    """Pipeline run id -> its finished remediation run. Done when every failed run has one, or
    when nothing new has appeared for `settle` seconds (a failure capture did not start one)."""
    say(f"waiting for PATCHIT's remediation runs ({len(failed_runs)} failed pipeline runs) ...")
    done: dict[str, dict] = {}
    seen: set[str] = set()
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        pending = False
        for dr in api.runs(REMEDIATION_DAG):
            source = _source_run_id(dr.get("conf") or {})
            if source not in failed_runs:
                continue
            if dr["dag_run_id"] not in seen:
                seen.add(dr["dag_run_id"])
                last_change = time.monotonic()
            if dr["state"] not in TERMINAL:
                pending = True
            elif source not in done:
                done[source] = dr
                last_change = time.monotonic()
                say(f"  {dr['dag_run_id']} for {source}: {dr['state']}")
        if failed_runs <= set(done) or (not pending and time.monotonic() - last_change > settle):
            break
        time.sleep(5)
    return done


def _source_run_id(conf: dict) -> str | None:
    event = conf.get("event") or {}
    return event.get("run_id") or conf.get("run_id")


def load_incidents() -> tuple[list[dict], dict[str, dict]]:
    """PATCHIT's incidents (newest first) from its store under AIRFLOW_HOME, and, for failures
    grouped into an open incident with the same fingerprint, event id -> that incident."""
    from patchit_provider.engine.models import AuditKind
    from patchit_provider.engine.store import default_sqlite_url, open_store

    with open_store(default_sqlite_url(os.environ["AIRFLOW_HOME"])) as store:
        incidents = store.list_incidents(limit=200)
        grouped = {
            audit.data["event_id"]: incident.model_dump(mode="json")
            for incident in incidents
            for audit in store.audit_trail(incident.incident_id)
            if audit.kind == AuditKind.OCCURRENCE_ADDED and audit.data.get("event_id")
        }
    return [incident.model_dump(mode="json") for incident in incidents], grouped


def print_incidents(runs: dict[str, str], states: dict[str, str], remediation: dict[str, dict]) -> None:
    incidents, grouped = load_incidents()
    by_run = {inc["event"]["run_id"]: inc for inc in incidents}
    for run_id, dr in remediation.items():  # a repeated failure: shown as its open incident
        event_id = ((dr.get("conf") or {}).get("event") or {}).get("event_id")
        if run_id not in by_run and event_id in grouped:
            by_run[run_id] = grouped[event_id]

    print()
    print("What PATCHIT found (its incident store; also: `patchit incidents`, `patchit show <id>`):")
    print()
    rows = [("scenario", "expected", "run", "failed task", "category", "remediation", "outcome", "culprit", "branch")]
    for scenario, run_id in runs.items():
        inc = by_run.get(run_id) or {}
        triage = inc.get("triage") or {}
        culprit = triage.get("culprit")
        seen = f", {inc['occurrences']}x" if inc.get("occurrences", 1) > 1 else ""
        outcome = f"{inc.get('outcome') or '-'} ({inc['state']}{seen})" if inc else "-"
        rows.append(
            (
                scenario,
                EXPECTED[scenario],
                states.get(scenario, "running"),
                f"orders_etl.{inc['event']['task_id']}" if inc else "-",
                triage.get("category", "-"),
                triage.get("remediation", "-"),
                outcome,
                f"{culprit['path']}:{culprit.get('line')}" if culprit else "-",
                (inc.get("publication") or {}).get("branch", "-"),
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    print()
    for scenario, run_id in runs.items():
        triage = (by_run.get(run_id) or {}).get("triage")
        if triage:
            print(f"  {scenario}: {triage['summary']}")
            if triage.get("next_step"):
                print(f"  {'':{len(scenario)}}  next step: {triage['next_step']}")
    print()


def rerun_patched(api: Api, timeout: float) -> int:
    """Re-run, with the same conf, each pipeline run whose failure PATCHIT published a patch for."""
    api.login()
    deadline = time.monotonic() + timeout
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    reruns: dict[str, tuple[str, dict, str]] = {}
    for inc in load_incidents()[0]:
        event = inc["event"]
        if not (inc.get("publication") or {}).get("branch") or event["run_id"] in reruns:
            continue
        original = api.get(f"/api/v2/dags/{event['pipeline_id']}/dagRuns/{event['run_id']}")
        conf = (original.json().get("conf") or {}) if original.status_code == 200 else {}
        run_id = f"{event['run_id']}__patched__{stamp}"
        api.trigger(event["pipeline_id"], run_id, conf)
        reruns[event["run_id"]] = (event["pipeline_id"], conf, run_id)
        say(f"re-running {event['pipeline_id']} {json.dumps(conf)} with the patch applied: {run_id}")
    if not reruns:
        say("no published patch to re-run")
        return 1
    results: dict[str, str] = {}
    while len(results) < len(reruns) and time.monotonic() < deadline:
        for dag_id, conf, run_id in reruns.values():
            if run_id not in results and (state := api.run_state(dag_id, run_id)) in TERMINAL:
                results[run_id] = state
                say(f"  {dag_id} {json.dumps(conf)}: {state}")
        time.sleep(5)
    return 0 if results and all(state == "success" for state in results.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wait-ready")
    p.add_argument("--timeout", type=float, default=240)
    p.add_argument("--pid", type=int, help="stop waiting when this process is gone")
    p = sub.add_parser("run")
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("rerun-patched")
    p.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    api = Api()
    if args.cmd == "wait-ready":

        def alive() -> bool:
            if not args.pid:
                return True
            try:
                os.kill(args.pid, 0)
                return True
            except ProcessLookupError:
                return False

        wait_ready(api, args.timeout, alive)
        return 0
    if args.cmd == "rerun-patched":
        return rerun_patched(api, args.timeout)
    return run(api, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
