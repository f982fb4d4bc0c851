"""Grouping key of a failure: the same cause seen again gets the same fingerprint.

Like Sentry's grouping: in-repo frames as module:function (no line numbers, which move with
every edit), the exception type (last dotted part, so a JSON log's `JSONDecodeError` and a text
traceback's `json.decoder.JSONDecodeError` agree) and the message with its variable parts
masked. FINGERPRINT_VERSION changes whenever the recipe does, so old groups are not split
silently.
"""

from __future__ import annotations

import hashlib
import re

from patchit_provider.engine.models import Frame
from patchit_provider.engine.taxonomy import Category

FINGERPRINT_VERSION = 1

# Each pattern starts only where a run of its characters starts (a lookbehind), so a long token
# is scanned once, not once per position; on one line the matches are the same as without it.
_HINT = re.compile(r"(?:\.|(?<!\s))\s*(?:Did you mean|Perhaps you meant)[^\n]*", re.I)
_MASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:manual|scheduled|backfill|dataset_triggered|asset_triggered)__\S+"), "<run>"),
    # bounded repetitions (a URI scheme of at most 32 characters; DNS labels of at most 63, at most
    # 20 before the suffix): unbounded, every position of a long dotted token restarted a scan to
    # its end, 2.4 s on 20 KB (benchmarks/triage_hostile_text.py). Only tokens no URL or host name
    # has (a longer scheme or label) mask differently.
    (re.compile(r"\b[a-z][a-z0-9+.-]{0,31}://\S+", re.I), "<url>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    (re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"), "<date>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (
        re.compile(
            r"\b(?:[a-z0-9-]{1,63}\.){1,20}(?:com|net|org|io|local|internal|lan|cloud|svc|corp|amazonaws)(?::\d+)?\b",
            re.I,
        ),
        "<host>",
    ),
    # directories of a path (keep the file name: it tells which input is missing)
    (re.compile(r"(?:[A-Za-z]:|(?<![\w.@~+-]))(?:[\w.@~+-]*[/\\])+(?=[\w.@~+-]+)"), "<dir>/"),
    (re.compile(r"\b[0-9a-f]{7,}\b", re.I), "<hex>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])"), "<n>"),
]


def normalize_message(message: str) -> str:
    """The message with run ids, dates, numbers, hex, uuids, addresses, paths and hosts masked."""
    text = _HINT.sub("", message.strip().splitlines()[0] if message.strip() else "")
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return re.sub(r"\s+", " ", text).strip()[:500]


def frame_key(frame: Frame) -> str:
    module = re.sub(r"\.py$", "", frame.path).replace("/", ".")
    return f"{module}:{frame.function or '?'}"


def fingerprint(category: Category, exc_type: str, message: str, repo_frames: list[Frame]) -> str:
    """16 hex characters of sha256 over the versioned recipe."""
    parts = [
        f"v{FINGERPRINT_VERSION}",
        category.value,
        exc_type.rsplit(".", 1)[-1],
        normalize_message(message),
        *(frame_key(frame) for frame in repo_frames),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
