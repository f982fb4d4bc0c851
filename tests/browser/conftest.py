"""A real `airflow standalone` with the PATCHIT provider, and Debian's Chromium driven by Playwright.

Airflow is started by the demo's own script (`scripts/demo.sh serve`, with the demo's settings
from airflow/demo.env and its pipeline repository) but in a temporary state directory and on
port 28090, so a running demo (.demo/, port 28080) is left alone. demo.sh starts it with setsid
(its own session and process group); `demo.sh stop` ends that whole session when the browser
tests are over (package-scoped fixtures: the rest of the suite does not share the two cores with an
idle Airflow and Chromium), pass or fail, and a SIGKILL of the process group backs it up.

Needs `bash scripts/browser-deps.sh` (Debian's chromium, the pinned playwright); the tests are
skipped with that hint when either is missing. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PORT = int(os.environ.get("PATCHIT_BROWSER_PORT", "28090"))
BASE = f"http://127.0.0.1:{PORT}"
USER = PASSWORD = "admin"  # airflow/demo.env's simple-auth-manager user
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# This offline machine: no background networking, no GPU, no sandbox as root, a fresh profile.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: real airflow standalone + headless Chromium (scripts/browser-deps.sh)")


def approval_gate() -> tuple[str, str]:
    """(mode, why): how the approval step is exercised. Decided before Airflow starts, because
    it chooses `[patchit] approval` for the whole run.
    - "ui": the incident page's Approve button answers the DAG's HITL step;
    - "rest": the DAG has the HITL step but the page's button is not wired yet (answers 501):
      the step is answered through Airflow's hitlDetails REST endpoint instead;
    - "skip": no HITL step in patchit_remediation yet."""
    dag_src = (ROOT / "patchit_provider" / "dags" / "remediation.py").read_text()
    pages_src = (ROOT / "patchit_provider" / "www" / "pages.py").read_text()
    if not any(word in dag_src for word in ("ApprovalOperator", "HITLOperator", "HITLBranchOperator")):
        return "skip", "patchit_remediation has no HITL approval step yet (patchit_provider/dags/remediation.py)"
    if "HTTP_501_NOT_IMPLEMENTED" in pages_src:
        return "rest", "Approve on the incident page is not wired to the HITL step yet (answers 501)"
    return "ui", ""


def _demo_env(state_dir: Path, approval: bool) -> dict[str, str]:
    # Nothing of this pytest process's Airflow configuration (AIRFLOW_HOME, unit-test mode, ...)
    # may leak into the standalone: demo.env sets what it needs.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PATCHIT_", "DEMO_"))}
    env.update(DEMO_DIR=str(state_dir), DEMO_PORT=str(PORT), PATH=f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}")
    if approval:
        env["AIRFLOW__PATCHIT__APPROVAL"] = "always"
    return env


def _port_in_use() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", PORT)) == 0


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="package")
def browser_deps() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} missing: run bash scripts/browser-deps.sh")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright missing: run bash scripts/browser-deps.sh")


@pytest.fixture(scope="package")
def airflow_standalone(browser_deps):
    """Base URL of a running standalone; stopped (whole session) afterwards, even on failure."""
    if _port_in_use():
        pytest.fail(f"port {PORT} on 127.0.0.1 is already in use (PATCHIT_BROWSER_PORT=... to use another)")
    state = Path(tempfile.mkdtemp(prefix="patchit-browser-"))
    gate = approval_gate()
    env = _demo_env(state, approval=gate[0] != "skip")
    demo = ["bash", str(ROOT / "scripts" / "demo.sh")]
    started = time.monotonic()
    try:
        done = subprocess.run([*demo, "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            log = (state / "standalone.log").read_text()[-3000:] if (state / "standalone.log").exists() else ""
            pytest.fail(
                f"demo.sh serve failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}\n{log}"
            )
        print(f"\n[browser] airflow standalone ready on {BASE} in {time.monotonic() - started:.0f}s (state: {state})")
        yield {"base": BASE, "state": state, "approval_gate": gate, "env": env}
    finally:
        pidfile = state / "standalone.pid"
        pgid = pidfile.read_text().strip() if pidfile.exists() else ""
        subprocess.run([*demo, "stop"], env=env, cwd=ROOT, capture_output=True, timeout=120)
        if pgid:  # belt and braces: the process group demo.sh started with setsid
            try:
                os.killpg(int(pgid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
        if os.environ.get("PATCHIT_BROWSER_KEEP_STATE") != "1":
            subprocess.run(["rm", "-rf", str(state)], check=False)


@pytest.fixture(scope="package")
def base(airflow_standalone) -> str:
    return airflow_standalone["base"]


@pytest.fixture(scope="package")
def token(airflow_standalone) -> str:
    resp = httpx.post(f"{BASE}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["access_token"]


@pytest.fixture(scope="package")
def api(airflow_standalone, token):
    """The demo driver's REST client (airflow/demo_driver.py), logged in."""
    sys.path.insert(0, str(ROOT / "airflow"))
    try:
        import demo_driver
    finally:
        sys.path.remove(str(ROOT / "airflow"))
    saved = {k: os.environ.get(k) for k in ("AIRFLOW__API__BASE_URL", "DEMO_USER", "DEMO_PASSWORD")}
    os.environ.update(AIRFLOW__API__BASE_URL=BASE, DEMO_USER=USER, DEMO_PASSWORD=PASSWORD)
    try:
        client = demo_driver.Api()
        client.login()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield client
    client.http.close()


# The failing `orders_etl` runs the browser tests inspect (scenario -> the test that reads it):
# code_typo (test_ui.py: a validated patch, then the approval), schema_drift (test_pages.py: an
# escalation).
SCENARIOS = ("code_typo", "schema_drift")


@pytest.fixture(scope="package", autouse=True)
def failing_runs(api) -> dict[str, str]:
    """Scenario -> run id of its failing `orders_etl` run, all triggered together before the first
    browser test, so that PATCHIT remediates them side by side (the remediation DAG allows two
    active runs) while the tests that need no incident run, instead of one wait after another."""
    for dag_id in ("orders_etl", "patchit_remediation"):
        api.unpause(dag_id)
    stamp = f"{time.time_ns():x}"
    runs = {scenario: f"browser__{scenario}__{stamp}" for scenario in SCENARIOS}
    for scenario, run_id in runs.items():
        api.trigger("orders_etl", run_id, {"scenario": scenario})
    return runs


@pytest.fixture(scope="package")
def browser_context(airflow_standalone, token):
    """One Chromium (Debian's, through executable_path) logged in by the `_token` cookie."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="patchit-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(30_000)
        context.add_cookies([{"name": "_token", "value": token, "url": BASE}])
        try:
            yield context
        finally:
            context.close()
            subprocess.run(["rm", "-rf", profile], check=False)


@pytest.fixture(scope="package")
def page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page
