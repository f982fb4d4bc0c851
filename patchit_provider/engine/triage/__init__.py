"""Triage: classify an Evidence into a taxonomy category, remediation, culprit and fingerprint."""

from patchit_provider.engine.triage.classify import triage
from patchit_provider.engine.triage.fingerprint import FINGERPRINT_VERSION, fingerprint, normalize_message

__all__ = ["FINGERPRINT_VERSION", "fingerprint", "normalize_message", "triage"]
