"""Authoritative catalogs triage decides from: exception classes and their bases, SQLSTATE,
Spark error conditions, HTTP status, errno, AWS error codes, signals and exit codes, and (only
where no structure exists) engine messages. Each entry cites its source; see resolve.py."""

from patchit_provider.engine.triage.catalogs.base import Verdict

__all__ = ["Verdict"]
