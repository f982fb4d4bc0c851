"""Store errors: callers catch `StoreError`; the subclasses say what went wrong."""

from __future__ import annotations

from patchit_provider.engine.errors import NotFoundError, PatchitError


class StoreError(PatchitError):
    """Anything the incident store cannot do."""


class StoreUnavailableError(StoreError):
    """The database could not be reached or answered with an operational error (refused,
    timed out, locked for too long, disk full). The message names the URL, never its password."""


class IncidentNotFoundError(StoreError, NotFoundError):
    """A write referred to an incident id the store does not hold."""


class SchemaVersionError(StoreError):
    """The database was written by a newer PATCHIT: refuse rather than corrupt it."""
