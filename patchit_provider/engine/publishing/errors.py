"""The publishing error, in its own module so every publishing module can raise it without a cycle."""

from __future__ import annotations

from patchit_provider.engine.errors import PatchitError


class PublishError(PatchitError, RuntimeError):
    """A validated patch could not be published (no fingerprint, no commit, a forge refused)."""
