"""PatchitStoreHook: where the incident store lives, as an Airflow hook.

The adapter half of the one store resolver: `[patchit] store_url` wins; else `store_conn_id`
names a postgres connection (-> `postgresql+psycopg://` URL); else the engine's resolver
(`engine.settings.resolve_store_url`: `store_path`, or {AIRFLOW_HOME}/patchit/patchit.db, which
every process on one host reaches). The CLI, the UI and the operators all resolve through here,
so `patchit incidents` reads the database Airflow writes. The store itself is the engine's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import quote

from airflow.sdk import BaseHook

from patchit_provider.engine.settings import resolve_store_url

if TYPE_CHECKING:
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.store import IncidentStore


def airflow_home() -> str:
    return os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow")


class PatchitStoreHook(BaseHook):
    conn_name_attr = "store_conn_id"
    default_conn_name = ""
    conn_type = "postgres"
    hook_name = "PATCHIT incident store"

    def __init__(self, store_conn_id: str | None = None, settings: PatchitSettings | None = None) -> None:
        super().__init__()
        if settings is None:
            from patchit_provider.config import load_settings

            settings = load_settings()
        self.settings = settings
        self.store_conn_id = settings.store_conn_id if store_conn_id is None else store_conn_id

    def get_uri(self) -> str:
        if self.store_conn_id and not self.settings.store_url.strip():
            conn = self.get_connection(self.store_conn_id)
            auth = ""
            if conn.login:
                auth = quote(conn.login, safe="")
                if conn.password:
                    auth += ":" + quote(conn.password, safe="")
                auth += "@"
            port = f":{conn.port}" if conn.port else ""
            return f"postgresql+psycopg://{auth}{conn.host or 'localhost'}{port}/{conn.schema or ''}"
        return resolve_store_url(self.settings, airflow_home=airflow_home())

    def get_store(self) -> IncidentStore:
        from patchit_provider.engine.store import open_store
        from patchit_provider.hooks.masking import install_airflow_masking

        install_airflow_masking()  # Airflow's masker and this process's connection/variable values
        return open_store(self.get_uri())


def store_url(explicit: str | None = None) -> str:
    """The store URL of this Airflow installation (`explicit` wins): what the CLI opens."""
    if explicit:
        return explicit
    return PatchitStoreHook().get_uri()
