"""Regenerate the labelled triage corpus by really running failing pipelines.

    python benchmarks/corpus/generate.py                 # everything (main + heldout)
    python benchmarks/corpus/generate.py --set heldout   # one set
    python benchmarks/corpus/generate.py --engine python --only 'py_*'

Every scenario lives in `scenarios/<set>/<name>/`: `repo/` is the pipeline repository (realistic
pipeline code and its small input files) and `scenario.json` says how to run it, which runs to
keep as cases, and the label. Each run copies `repo/` to a fresh temporary directory (or, for a
"container" run, to /opt/airflow/dags/repo inside a private mount namespace), runs the pipeline
with a minimal environment, and keeps what it printed (or the file it logged to) verbatim as
`cases/<case>/log`, next to a pristine copy of `repo/` and `label.json`.

Engines: `python` (plain scripts), `airflow2` (a task callable run under harness/af2_runner.py,
which logs in Airflow 2's text format), `airflow3` (real DAG runs under `airflow standalone` with
LocalExecutor: the JSON-lines task logs with `error_detail` that the supervisor writes), `dbt`
(dbt-duckdb console output or logs/dbt.log) and `spark` (pyspark in local[1] mode, driver output).

Services the pipelines talk to are local: an HTTP server on 127.0.0.1 answering with fixed
statuses per path, and a port that was free a moment ago (nothing listens: connection refused).
Everything started here is stopped before exit.
"""

from __future__ import annotations

import argparse
import fnmatch
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
HARNESS = HERE / "harness"
OUTPUT = {"main": HERE / "cases", "heldout": HERE / "heldout"}
VENV_BIN = Path(sys.executable).parent
CONTAINER_ROOT = "/opt/airflow/dags/repo"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "target", "logs", "*.duckdb", "*.duckdb.wal", "dbt_packages")


# --------------------------------------------------------------------------- local services

class _Api(http.server.BaseHTTPRequestHandler):
    """A small partner API: each path answers with one fixed status."""

    routes = {
        "/v1/customers": (401, {"error": "invalid_token", "error_description": "The access token expired"}),
        "/v1/shipments": (403, {"error": "forbidden", "message": "API key lacks scope shipments:read"}),
        "/v1/rates": (429, {"error": "rate_limited", "retry_after": 30}),
        "/v1/inventory": (500, {"error": "internal", "message": "upstream database unavailable"}),
        "/v1/catalog": (503, {"error": "maintenance"}),
        "/v1/reports": (403, {"error": "forbidden"}),
        "/v2/accounts": (401, {"error": "unauthorized"}),
    }

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path.startswith("/v1/slow"):
            time.sleep(3)
        status, body = self.routes.get(path, (200, {"items": []}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "30")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (read timeout scenario)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


class Services:
    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Api)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def closed_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    return Services.closed_port()


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment: nothing of this machine's own environment reaches a pipeline."""
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "JAVA_HOME": os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"),
    }


def substitute(value: str, context: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), value)


def resolve_culprit(repo: Path, culprit: dict | None) -> dict | None:
    if culprit is None:
        return None
    path = culprit["path"]
    if "match" not in culprit:
        return {"path": path, "line": culprit.get("line")}
    lines = (repo / path).read_text().splitlines()
    hits = [i for i, line in enumerate(lines, 1) if culprit["match"] in line]
    if len(hits) != 1:
        raise SystemExit(f"culprit match {culprit['match']!r} found {len(hits)} times in {path}")
    return {"path": path, "line": hits[0]}


SECRET_SHAPES = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}")


def machine_secrets() -> list[str]:
    names = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.I)
    return [v for k, v in os.environ.items() if names.search(k) and len(v) >= 8]


def check_no_secrets(text: str, case: str) -> None:
    if SECRET_SHAPES.search(text):
        raise SystemExit(f"{case}: the log holds a token-shaped string: {SECRET_SHAPES.search(text).group(0)[:12]}...")
    for value in machine_secrets():
        if value in text:
            raise SystemExit(f"{case}: the log holds a secret of this machine's environment")


def write_case(out_dir: Path, case: str, log: bytes, scenario: dict, src_repo: Path) -> None:
    text = log.decode("utf-8", "replace")
    check_no_secrets(text, case)
    expect = scenario.get("expect")
    if expect and expect not in text:
        raise CaseError(f"{case}: expected {expect!r} in the log; the pipeline did not fail as intended:\n{text[-3000:]}")
    target = out_dir / case
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "log").write_bytes(log)
    shutil.copytree(src_repo, target / "repo", ignore=IGNORE)
    label = dict(scenario["label"])
    label["culprit"] = resolve_culprit(src_repo, label.get("culprit"))
    label["engine"] = scenario["engine"]
    label["scenario"] = scenario["name"]
    (target / "label.json").write_text(json.dumps(label, indent=2) + "\n")
    print(f"  wrote {target.relative_to(HERE)} ({len(log)} bytes)")


class CaseError(Exception):
    """A run did not fail the way its scenario says: no case is written for it."""


# --------------------------------------------------------------------------- runners

def run_subprocess(scenario: dict, run: dict, services: Services) -> bytes:
    """python / airflow2 / dbt / spark: run the command in a fresh copy of the repository."""
    src = scenario["dir"] / "repo"
    tmp = Path(tempfile.mkdtemp(prefix="pipeline-"))
    try:
        context = {
            "date": run.get("date", "2024-05-01"), "api": services.api,
            "closed": f"http://127.0.0.1:{services.closed_port()}", "harness": str(HARNESS),
            "python": str(VENV_BIN / "python"), "venv": str(VENV_BIN),
        }
        env = base_env(tmp / "home")
        (tmp / "home").mkdir()
        container = bool(run.get("container"))
        repo = Path(CONTAINER_ROOT) if container else tmp / "repo"
        context["repo"] = str(repo)
        env["PYTHONPATH"] = str(repo)
        if scenario["engine"] == "spark":
            env["PYSPARK_PYTHON"] = str(VENV_BIN / "python")
            env["SPARK_LOCAL_IP"] = "127.0.0.1"
            env["PYSPARK_SUBMIT_ARGS"] = (
                "--master local[1] --driver-memory 512m --conf spark.ui.enabled=false "
                "--conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 "
                "--conf spark.sql.shuffle.partitions=1 pyspark-shell"
            )
        for key, value in scenario.get("env", {}).items():
            env[key] = substitute(value, context)
        for key, value in run.get("env", {}).items():
            env[key] = substitute(value, context)
        setup = [[substitute(a, context) for a in cmd] for cmd in scenario.get("setup", [])]
        command = [substitute(a, context) for a in scenario["command"]]
        if command[0] in ("python", "dbt"):
            command[0] = str(VENV_BIN / command[0])
        for cmd in setup:
            if cmd[0] in ("python", "dbt"):
                cmd[0] = str(VENV_BIN / cmd[0])
        script = {"setup": setup, "command": command, "log_file": scenario.get("log_file")}
        if container:
            # A private mount namespace: /opt is a tmpfs here only, so the repository sits at a
            # container-like path without touching the machine's own /opt.
            inner = (
                f"mount -t tmpfs -o size={run.get('tmpfs', '64m')} tmpfs /opt && mkdir -p {CONTAINER_ROOT} && "
                f"cp -a {src}/. {CONTAINER_ROOT}/ && cd {CONTAINER_ROOT} && "
                f"{sys.executable} {HARNESS / 'run_steps.py'} {tmp / 'steps.json'} {tmp / 'out.log'}"
            )
            (tmp / "steps.json").write_text(json.dumps(script))
            subprocess.run(["unshare", "-m", "sh", "-c", inner], env=env, timeout=600, check=True)
        else:
            shutil.copytree(src, repo, ignore=IGNORE)
            (tmp / "steps.json").write_text(json.dumps(script))
            subprocess.run([sys.executable, str(HARNESS / "run_steps.py"), str(tmp / "steps.json"), str(tmp / "out.log")],
                           cwd=repo, env=env, timeout=600, check=True)
        return (tmp / "out.log").read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def settle(path: Path, timeout: float = 120) -> None:
    """Wait until a task log holds the failure and has stopped growing (the run's state can be
    final in the database before the task's supervisor has written the last lines)."""
    deadline, last = time.time() + timeout, -1
    while time.time() < deadline:
        size = path.stat().st_size
        if size == last and b'"level":"error"' in path.read_bytes():
            return
        last = size
        time.sleep(3)


def run_airflow3(scenarios: list[dict], services: Services, out_dirs: dict[str, Path]) -> None:
    """All airflow3 scenarios in one throwaway `airflow standalone` (LocalExecutor, SQLite)."""
    if not scenarios:
        return
    home = Path(tempfile.mkdtemp(prefix="airflow-home-"))
    dags = home / "dags"
    dags.mkdir()
    port = free_port()
    env = base_env(home)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__PATCHIT__WATCH": "none",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    })
    for scenario in scenarios:
        for key, value in scenario.get("env", {}).items():
            env[key] = substitute(value, {"api": services.api, "closed": f"http://127.0.0.1:{services.closed_port()}"})
    expected = {s["dag_id"]: len(s["runs"]) for s in scenarios}
    log = open(home / "standalone.out", "wb")
    proc = subprocess.Popen([str(VENV_BIN / "airflow"), "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=home)
    print(f"  airflow standalone pid {proc.pid}, home {home}, port {port}")
    try:
        # DAGs go in only once the API server answers: a task started before it fails to
        # reach the execution API and leaves a one-line log.
        deadline = time.time() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5):
                    break
            except (OSError, urllib.error.URLError):
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the API server did not come up: see {home / 'standalone.out'}")
                time.sleep(2)
        time.sleep(5)
        seen: dict[str, str] = {}
        for scenario in scenarios:
            for item in (scenario["dir"] / "repo").iterdir():
                if item.name in seen:
                    raise SystemExit(f"{scenario['name']}: {item.name} also in {seen[item.name]} (one shared dags folder)")
                seen[item.name] = scenario["name"]
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, dags / item.name)
        deadline = time.time() + 900
        states: dict[str, list[tuple[str, str]]] = {}
        while time.time() < deadline:
            time.sleep(5)
            if proc.poll() is not None:
                raise SystemExit(f"airflow standalone exited: see {home / 'standalone.out'}")
            db = home / "airflow.db"
            if not db.exists():
                continue
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                    rows = conn.execute("SELECT dag_id, run_id, state FROM dag_run ORDER BY logical_date, run_id").fetchall()
            except sqlite3.Error:
                continue
            states = {}
            for dag_id, run_id, state in rows:
                states.setdefault(dag_id, []).append((run_id, state))
            done = all(
                len([r for r in states.get(d, []) if r[1] in ("failed", "success")]) >= n for d, n in expected.items()
            )
            pending = {d: states.get(d) for d, n in expected.items()
                       if len([r for r in states.get(d, []) if r[1] in ("failed", "success")]) < n}
            print(f"  waiting for {len(pending)} dag(s): {sorted(pending)[:6]}", flush=True)
            if done:
                break
        else:
            raise SystemExit(f"airflow runs did not finish: {states}")
        time.sleep(3)
        errors = []
        for scenario in scenarios:
            runs = [r for r in states[scenario["dag_id"]] if r[1] in ("failed", "success")]
            for spec, (run_id, state) in zip(scenario["runs"], runs):
                task_dir = home / "logs" / f"dag_id={scenario['dag_id']}" / f"run_id={run_id}" / f"task_id={spec['task_id']}"
                attempts = sorted(task_dir.glob("attempt=*.log"))
                if not attempts:
                    raise SystemExit(f"{spec['case']}: no task log under {task_dir} (run state {state})")
                settle(attempts[-1])
                try:
                    write_case(out_dirs[scenario["set"]], spec["case"], attempts[-1].read_bytes(), scenario, scenario["dir"] / "repo")
                except CaseError as exc:
                    errors.append(str(exc))
        if errors:
            keep = Path(tempfile.mkdtemp(prefix="airflow-failed-logs-"))
            shutil.copytree(home / "logs", keep / "logs")
            log.flush()
            shutil.copy2(home / "standalone.out", keep / "standalone.out")
            raise SystemExit("\n\n".join(errors) + f"\n(task logs kept in {keep})")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        time.sleep(1)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (task supervisors, gunicorn)
        except ProcessLookupError:
            pass
        shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------- main

def load(sets: list[str], engines: set[str] | None, only: list[str]) -> list[dict]:
    scenarios = []
    for name in sets:
        for path in sorted((SCENARIOS / name).glob("*/scenario.json")):
            scenario = json.loads(path.read_text())
            scenario.update(dir=path.parent, name=path.parent.name, set=name)
            if engines and scenario["engine"] not in engines:
                continue
            if only and not any(fnmatch.fnmatch(scenario["name"], p) or any(fnmatch.fnmatch(r["case"], p) for r in scenario["runs"]) for p in only):
                continue
            scenarios.append(scenario)
    return scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["main", "heldout", "all"], default="all")
    parser.add_argument("--engine", action="append", help="python, airflow2, airflow3, dbt, spark (repeatable)")
    parser.add_argument("--only", action="append", default=[], help="scenario or case name glob (repeatable)")
    parser.add_argument("--relabel", action="store_true", help="only rewrite label.json of existing cases")
    args = parser.parse_args(argv)
    sets = ["main", "heldout"] if args.set == "all" else [args.set]
    scenarios = load(sets, set(args.engine) if args.engine else None, args.only)
    if args.relabel:
        for scenario in scenarios:
            for run in scenario["runs"]:
                path = OUTPUT[scenario["set"]] / run["case"] / "label.json"
                if path.parent.is_dir():
                    label = dict(scenario["label"], engine=scenario["engine"], scenario=scenario["name"])
                    label["culprit"] = resolve_culprit(scenario["dir"] / "repo", label.get("culprit"))
                    path.write_text(json.dumps(label, indent=2) + "\n")
        return 0
    services = Services()
    try:
        for scenario in scenarios:
            if scenario["engine"] == "airflow3":
                continue
            print(f"{scenario['set']}/{scenario['name']} ({scenario['engine']})", flush=True)
            for run in scenario["runs"]:
                log = run_subprocess(scenario, run, services)
                write_case(OUTPUT[scenario["set"]], run["case"], log, scenario, scenario["dir"] / "repo")
        airflow = [s for s in scenarios if s["engine"] == "airflow3"]
        if airflow:
            print(f"airflow3: {len(airflow)} scenario(s)", flush=True)
            run_airflow3(airflow, services, OUTPUT)
    finally:
        services.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
