"""Secret redaction, applied to everything PATCHIT stores, shows, sends to an LLM or puts in a PR.

Two layers: well-known token formats and secret-named assignments (precise), then long
high-entropy tokens (a safety net). Decided trade-offs:
- Pure hex strings (git SHAs, digests, event ids, UUIDs) are never redacted for entropy alone:
  evidence must keep commit ids and fingerprints readable. A hex secret is still caught when it
  is assigned to a secret-named key (`api_key=...`) or embedded in a URL's credentials.
- Words, identifiers and paths are never redacted: entropy candidates need 20+ characters
  (not part of a dotted name or an absolute path), digits and letters mixed, and a high
  character entropy.
Adapters add platform maskers (Airflow's secrets masker) with `register_extra_redactor`, so this
module never imports Airflow.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable

from pydantic import BaseModel

MARK = "***"

_SECRET_KEY = (
    r"[\w.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|credentials?|auth[_-]?key|session[_-]?key|passphrase|signature)[\w.-]*"
)
_SECRET_KEY_RE = re.compile(rf"(?i)^{_SECRET_KEY}$")

# (pattern, replacement) in order; replacements keep the non-secret context readable.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # A whole key block; a block cut short (a truncated log) loses its key lines, not the rest of the log.
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", re.S), MARK),
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\r?\n[ \t]*[A-Za-z0-9+/=:-]{8,}[ \t]*(?=\r?\n|\Z))*"), MARK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MARK),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), MARK),
    (re.compile(r"(?<![A-Za-z0-9])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b"), MARK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"), MARK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), MARK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MARK),
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), MARK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), MARK),
    (re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"), "https://hooks.slack.com/services/" + MARK),
    # scheme://user:password@host -> keep user and host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,30}://[^\s:/@'\"]+:)(?!\*\*\*@)\S+@(?=[\w.\[-])"), r"\1" + MARK + "@"),
    (re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+)(?!\*\*\*)[^\s\"',]+"), r"\1" + MARK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MARK),
    # query parameters: ?token=...&sig=...
    (re.compile(r"(?i)([?&](?:access_token|token|api_key|apikey|key|password|secret|sig|signature|x-amz-signature|x-amz-credential)=)(?!\*\*\*)[^&\s\"']+"), r"\1" + MARK),
]
# key = value / key: value / "key": "value" / key='value'
_ASSIGNMENT = re.compile(
    rf"(?i)(?P<key>\b{_SECRET_KEY})(?P<sep>[\"']?\s*(?:=|:|=>)\s*)(?:(?P<q>[\"'])(?P<qv>[^\"'\n]*)(?P=q)|(?P<v>[^\s\"',;&}}\])]+))"
)
_CANDIDATE = re.compile(r"(?<![\w/.])[A-Za-z0-9+/_=-]{20,}")
_HEXISH = re.compile(r"^[0-9a-fA-F-]+$")
_HARMLESS_VALUES = {"", MARK, "none", "null", "true", "false", "nil", "***@", "<redacted>"}

ExtraRedactor = Callable[[str], str]
_extra: list[ExtraRedactor] = []


def register_extra_redactor(fn: ExtraRedactor) -> Callable[[], None]:
    """Add a redactor (e.g. Airflow's secrets masker) run after the built-in ones.

    Returns a function that removes it again. An extra redactor's replacements are counted by
    the `***` markers it adds.
    """
    _extra.append(fn)
    return lambda: _extra.remove(fn) if fn in _extra else None


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_random(token: str) -> bool:
    if _HEXISH.match(token) or token.startswith("/") or token.endswith("/"):
        return False
    bonus = 0.2 if "/" in token else 0.0  # a relative path is not random; demand more
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    if digits < 2 or letters < 4:
        return False
    if not any(c.isupper() for c in token) and not any(c in "+=" for c in token) and digits < 4:
        return False
    threshold = 4.2 if len(token) < 32 else 4.4 if len(token) < 64 else 4.6
    return shannon_entropy(token) >= min(threshold, math.log2(len(token)) - 0.3) + bonus


def redact(text: str) -> tuple[str, int]:
    """Return the text with secrets replaced by `***`, and the number of replacements."""
    if not text:
        return text, 0
    total = 0
    for pattern, replacement in _PATTERNS:
        text, n = pattern.subn(replacement, text)
        total += n

    def _assignment(match: re.Match[str]) -> str:
        nonlocal total
        value = match["qv"] if match["q"] else match["v"]
        if value is None or value.strip().lower() in _HARMLESS_VALUES or value.startswith(MARK):
            return match[0]
        total += 1
        quote = match["q"] or ""
        return f"{match['key']}{match['sep']}{quote}{MARK}{quote}"

    text = _ASSIGNMENT.sub(_assignment, text)

    def _entropy(match: re.Match[str]) -> str:
        nonlocal total
        token = match[0]
        if _looks_random(token):
            total += 1
            return MARK
        return token

    text = _CANDIDATE.sub(_entropy, text)
    for fn in list(_extra):
        try:
            before = text.count(MARK)
            new = fn(text)
        except Exception:  # noqa: BLE001 - a broken adapter must not break redaction
            continue
        if isinstance(new, str) and new != text:
            total += max(1, new.count(MARK) - before)
            text = new
    return text, total


def redact_obj(obj: Any) -> tuple[Any, int]:
    """A redacted copy of nested dicts/lists/tuples/pydantic models, and the replacement count.

    Values under secret-named keys are replaced whole, whatever they look like; keys are
    redacted too (events from other platforms may carry anything as a key).
    """
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, BaseModel):
        data, count = redact_obj(obj.model_dump(mode="python"))
        return type(obj).model_validate(data), count
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        count = 0
        for key, value in obj.items():
            if isinstance(key, str) and _SECRET_KEY_RE.match(key) and isinstance(value, (str, int, float)) \
                    and str(value).strip().lower() not in _HARMLESS_VALUES:
                out[key], count = MARK, count + 1
                continue
            safe_key, key_count = redact(key) if isinstance(key, str) else (key, 0)
            out[safe_key], n = redact_obj(value)
            count += n + key_count
        return out, count
    if isinstance(obj, (list, tuple)):
        items, count = [], 0
        for value in obj:
            red, n = redact_obj(value)
            items.append(red)
            count += n
        return type(obj)(items) if isinstance(obj, tuple) else items, count
    return obj, 0
