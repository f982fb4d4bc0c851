"""Issue 10's "how it is checked" points that the source itself shows, kept as tests so they stay
true: the UI and the notification ledger use only the store's public API, the remediation DAG id
is written in one module, and the engine never runs on default settings it made up itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "patchit_provider"
TEXT_SUFFIXES = {".py", ".html", ".js", ".json", ".yaml", ".yml", ".toml", ".cfg", ".txt"}


def _files(*folders: str) -> list[Path]:
    roots = [PACKAGE / folder for folder in folders] if folders else [PACKAGE]
    return sorted(
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts
    )


def _lines_matching(pattern: str, files: list[Path]) -> list[str]:
    found = re.compile(pattern)
    return [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if found.search(line)
    ]


def test_the_ui_and_the_notification_ledger_use_only_the_public_store_api():
    assert _lines_matching(r"\._read|\._write", _files("www", "engine/notify")) == []


def test_the_remediation_dag_id_is_written_in_one_module():
    holders = sorted({line.split(":", 1)[0] for line in _lines_matching("patchit_remediation", _files())})
    assert holders == ["engine/constants.py"]


def test_the_engine_never_makes_up_default_settings():
    assert _lines_matching(r"PatchitSettings\(\)", _files()) == []


def test_the_remediator_needs_the_resolved_settings(tmp_path):
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.store import open_store

    with open_store(f"sqlite:///{tmp_path}/store.db") as store:
        with pytest.raises(TypeError, match="settings"):
            Remediator(store)  # type: ignore[call-arg]
        settings = PatchitSettings(approval="always")
        assert Remediator(store, settings).settings is settings
