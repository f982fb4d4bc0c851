"""(a) Provider discovery: metadata, entry points, plugin, listener registration, config."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_provider_info_validates_against_airflow_schema():
    import airflow
    import jsonschema

    from patchit_provider.get_provider_info import get_provider_info

    info = get_provider_info()
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-provider-patchit"
    assert info["notifications"] == ["patchit_provider.notifications.patchit.PatchitNotifier"]
    assert info["config"]["patchit"]["options"]["watch"]["default"] == "all"


def test_every_class_and_module_named_in_provider_info_imports():
    from airflow.sdk._shared.module_loading import import_string

    from patchit_provider.get_provider_info import get_provider_info

    info = get_provider_info()
    for dotted in info["notifications"] + [p["plugin-class"] for p in info["plugins"]]:
        assert import_string(dotted)
    for entry in info["hooks"] + info["operators"]:
        for module in entry["python-modules"]:
            __import__(module)


def test_entry_points_resolve():
    provider = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("patchit_provider")]
    plugin = [ep for ep in entry_points(group="airflow.plugins") if ep.value.startswith("patchit_provider")]
    assert len(provider) == 1 and len(plugin) == 1
    assert provider[0].load()()["name"] == "PATCHIT"
    assert plugin[0].load().name == "patchit"


def test_providers_manager_discovers_patchit(airflow_db):
    from airflow.providers_manager import ProvidersManager

    providers = ProvidersManager().providers
    assert "airflow-provider-patchit" in providers
    assert providers["airflow-provider-patchit"].version == "0.1.0"


def test_listener_registered_on_task_sdk_and_core_managers(airflow_db):
    from airflow.listeners.listener import get_listener_manager as core_manager
    from airflow.sdk.listener import get_listener_manager as sdk_manager

    from patchit_provider.plugins import listener

    assert listener in sdk_manager().pm.get_plugins()
    assert listener in core_manager().pm.get_plugins()


def test_listener_module_is_light():
    """Imported in every task process: no FastAPI, no engine, no httpx at import."""
    code = (
        "import sys; import patchit_provider.plugins.listener, patchit_provider.plugins.patchit;"
        "heavy = [m for m in ('fastapi', 'httpx', 'patchit_provider.engine.pipeline', 'git', 'sqlalchemy.orm')"
        " if m in sys.modules and m not in before]; print(heavy)"
    )
    code = "import sys; import airflow.sdk; before = set(sys.modules); " + code
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_airflow_cli_sees_provider_plugin_and_config(airflow_db):
    airflow = str(Path(sys.executable).with_name("airflow"))
    env_watch = subprocess.run([airflow, "config", "get-value", "patchit", "watch"], capture_output=True, text=True)
    assert env_watch.returncode == 0, env_watch.stderr[-2000:]
    assert env_watch.stdout.strip().splitlines()[-1] == "all"
    plugins = subprocess.run([airflow, "plugins", "--output", "json"], capture_output=True, text=True)
    assert plugins.returncode == 0, plugins.stderr[-2000:]
    (entry,) = [p for p in json.loads(plugins.stdout.strip().splitlines()[-1]) if p["name"] == "patchit"]
    assert "patchit_provider.plugins.listener" in str(entry["listeners"])


def test_load_settings_reads_patchit_section(patchit_env):
    from patchit_provider.config import load_settings

    patchit_env(watch="tagged", watch_tag="prod", ignore_dags="a, b", capture_timeout="1.5")
    settings = load_settings()
    assert (settings.watch, settings.watch_tag, settings.ignore_dags, settings.capture_timeout) == (
        "tagged",
        "prod",
        ["a", "b"],
        1.5,
    )


def test_store_hook_urls(airflow_db, monkeypatch, tmp_path):
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.hooks.store import PatchitStoreHook

    default = PatchitStoreHook(settings=PatchitSettings()).get_uri()
    assert default == f"sqlite:///{(airflow_db / 'patchit' / 'patchit.db').resolve()}"
    path = PatchitStoreHook(settings=PatchitSettings(store_path=str(tmp_path / "s.db"))).get_uri()
    assert path == f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_PG", "postgres://pat:s%40cret@db.example:5433/incidents")
    pg = PatchitStoreHook(settings=PatchitSettings(store_conn_id="patchit_pg")).get_uri()
    assert pg == "postgresql+psycopg://pat:s%40cret@db.example:5433/incidents"


def test_get_provider_info_imports_no_airflow_and_no_hook_module():
    """Airflow may call it while airflow.sdk is initializing: importing a hook there is circular."""
    code = (
        "import sys; from patchit_provider.get_provider_info import get_provider_info; get_provider_info();"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith(('airflow.', 'patchit_provider.hooks'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
