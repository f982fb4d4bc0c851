"""The one place the Airflow adapters read PATCHIT's settings: the `[patchit]` config section.

Uses the Task SDK's conf so it works on workers (no core import) as well as in the scheduler and
API server; a missing option falls back to the PatchitSettings default.
"""

from __future__ import annotations

from patchit_provider.engine.settings import PatchitSettings

SECTION = "patchit"


def load_settings() -> PatchitSettings:
    from airflow.sdk.configuration import conf

    values: dict[str, str] = {}
    for name in PatchitSettings.model_fields:
        raw = conf.get(SECTION, name, fallback=None)
        if raw is not None and str(raw).strip() != "":
            values[name] = str(raw)
    return PatchitSettings.from_mapping(values)
