"""The incident store: incidents, occurrences, audit trail, artifacts and the notification
ledger in SQLite (default, no set-up) or PostgreSQL, through SQLAlchemy Core. Plain Python,
no Airflow import."""

from patchit_provider.engine.store.database import StoreDatabase
from patchit_provider.engine.store.engine import default_sqlite_url
from patchit_provider.engine.store.errors import (
    IncidentNotFoundError,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
)
from patchit_provider.engine.store.incidents import IncidentStore, open_store
from patchit_provider.engine.store.notifications import (
    Reservation,
    Summary,
    claim_summary,
    finish_notification,
    list_notifications,
    reserve_notification,
)
from patchit_provider.engine.store.schema import SCHEMA_VERSION
from patchit_provider.engine.store.sql import TERMINAL_STATES

__all__ = [
    "SCHEMA_VERSION",
    "TERMINAL_STATES",
    "IncidentNotFoundError",
    "IncidentStore",
    "Reservation",
    "SchemaVersionError",
    "StoreDatabase",
    "StoreError",
    "StoreUnavailableError",
    "Summary",
    "claim_summary",
    "default_sqlite_url",
    "finish_notification",
    "list_notifications",
    "open_store",
    "reserve_notification",
]
