"""The one place the Airflow adapters read PATCHIT's settings: the `[patchit]` config section.

Uses the Task SDK's conf so it works on workers (no core import) as well as in the scheduler and
API server; a missing option falls back to the PatchitSettings default. Read once per process
(the listener, the hooks and the UI ask often) and again only when the `AIRFLOW__PATCHIT__*`
environment changes; `reset_settings()` forgets the cached value (tests).
"""

from __future__ import annotations

import os
import threading

from patchit_provider.engine.settings import PatchitSettings

SECTION = "patchit"
_ENV_PREFIX = f"AIRFLOW__{SECTION.upper()}__"

_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, str], ...], PatchitSettings] | None = None  # (environment, settings)


def load_settings() -> PatchitSettings:
    """PATCHIT's settings of this process (the same object until the environment changes).
    Treat it as read-only: derive variants with `model_copy(update=...)`."""
    global _cached
    key = _environment_key()
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, _read_section())
        return _cached[1]


def reset_settings() -> None:
    """Forget the cached settings: the next load_settings() reads the configuration again."""
    global _cached
    with _lock:
        _cached = None


def _environment_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIX) or k == "AIRFLOW_HOME"))


def _read_section() -> PatchitSettings:
    from airflow.sdk.configuration import conf

    values: dict[str, str] = {}
    for name in PatchitSettings.model_fields:
        raw = conf.get(SECTION, name, fallback=None)
        if raw is not None and str(raw).strip() != "":
            values[name] = str(raw)
    return PatchitSettings.from_mapping(values)
