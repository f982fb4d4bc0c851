"""Notifications: a message to configured webhooks when an incident opens and at each outcome.

Plain Python: the HTTP post is injected (the Airflow side builds it on HttpHook). Slack
incoming-webhook and generic JSON formats, one thread key per fingerprint, redacted and escaped,
rate-limited per sink through the incident store so that a storm sends a summary, not a flood.
"""

from patchit_provider.engine.notify.messages import (
    FORMATS,
    Moment,
    build_message,
    build_summary,
    document,
    summary_text,
    thread_key,
)
from patchit_provider.engine.notify.ratelimit import DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS, RateLimiter
from patchit_provider.engine.notify.sender import Delivery, Notifier, Post, PostError, Sink

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_WINDOW_SECONDS",
    "FORMATS",
    "Delivery",
    "Moment",
    "Notifier",
    "Post",
    "PostError",
    "RateLimiter",
    "Sink",
    "build_message",
    "build_summary",
    "document",
    "summary_text",
    "thread_key",
]
