"""One settings root: the CLI, the Airflow hook and the UI open the same incident store, and
settings are read once per process (again when the `[patchit]` environment changes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patchit_provider.engine.models import FailureEvent
from patchit_provider.engine.settings import PatchitSettings, resolve_store_url
from patchit_provider.engine.store import open_store


@pytest.fixture
def airflow_home(tmp_path, monkeypatch):
    home = tmp_path / "airflow-home"
    home.mkdir()
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("AIRFLOW__PATCHIT__") or key == "PATCHIT_STORE_URL":
            monkeypatch.delenv(key)
    from patchit_provider.config import reset_settings

    reset_settings()
    yield home
    reset_settings()


def _cli_url() -> str:
    from patchit_provider.cli import _store_url

    return _store_url(None)


def _hook_url() -> str:
    from patchit_provider.hooks.store import PatchitStoreHook

    return PatchitStoreHook().get_uri()


def test_cli_and_hook_resolve_the_same_store(airflow_home, monkeypatch, tmp_path):
    expected = f"sqlite:///{(airflow_home / 'patchit' / 'patchit.db').resolve()}"
    assert _cli_url() == _hook_url() == expected

    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(tmp_path / "elsewhere.db"))
    assert _cli_url() == _hook_url() == f"sqlite:///{tmp_path / 'elsewhere.db'}"

    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_URL", f"sqlite:///{tmp_path / 'by-url.db'}")
    assert _cli_url() == _hook_url() == f"sqlite:///{tmp_path / 'by-url.db'}"


def test_patchit_incidents_reads_the_database_airflow_writes(airflow_home, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(tmp_path / "airflow-writes.db"))
    from patchit_provider.hooks.store import PatchitStoreHook

    with PatchitStoreHook().get_store() as store:  # what the listener and the DAG write to
        incident, _ = store.create_incident(FailureEvent(pipeline_id="sales_daily", run_id="r1", task_id="load"))
    proc = subprocess.run(
        [sys.executable, "-m", "patchit_provider.cli", "incidents", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = json.loads(proc.stdout)
    assert [i["incident_id"] for i in listed] == [incident.incident_id]


def test_cli_refuses_an_unknown_state_filter(airflow_home, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "patchit_provider.cli",
            "incidents",
            "--state",
            "bogus",
            "--store",
            f"sqlite:///{tmp_path / 's.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode != 0
    assert "bad filter" in proc.stderr and "bogus" not in proc.stdout


def test_settings_are_read_once_per_process_and_again_when_the_environment_changes(airflow_home, monkeypatch):
    from patchit_provider.config import load_settings, reset_settings

    first = load_settings()
    assert load_settings() is first
    monkeypatch.setenv("AIRFLOW__PATCHIT__WATCH", "tagged")
    changed = load_settings()
    assert changed is not first and changed.watch == "tagged"
    assert load_settings() is changed
    reset_settings()
    again = load_settings()
    assert again is not changed and again.watch == "tagged"


def test_engine_resolver_precedence(tmp_path):
    home = tmp_path / "home"
    assert resolve_store_url(PatchitSettings(), airflow_home=home) == f"sqlite:///{home.resolve()}/patchit/patchit.db"
    assert (home / "patchit").is_dir()
    assert (
        resolve_store_url(PatchitSettings(store_path=str(tmp_path / "a.db")), airflow_home=home)
        == f"sqlite:///{tmp_path}/a.db"
    )
    url = "postgresql://u@db/patchit"
    assert (
        resolve_store_url(PatchitSettings(store_url=url, store_path=str(tmp_path / "a.db")), airflow_home=home) == url
    )
    assert PatchitSettings.from_env({"PATCHIT_STORE_URL": url}).store_url == url
    with open_store(resolve_store_url(PatchitSettings(), airflow_home=home)) as store:
        assert Path(store.url.database) == (home / "patchit" / "patchit.db").resolve()
