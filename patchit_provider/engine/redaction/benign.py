"""What is NOT a secret: evidence must keep its ids, hashes, counts and names readable.

detect-secrets' own heuristic filters (templated values, `$VAR`, sequential strings, indirect
references such as `get_secret()`) plus PATCHIT's: numbers, hex digests and UUIDs outside a
secret-named assignment, identifiers, paths, version strings, base64 of plain text.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

from detect_secrets.filters.heuristic import (
    is_indirect_reference,
    is_prefixed_with_dollar_sign,
    is_sequential_string,
    is_templated_secret,
)

MARK = "***"
HARMLESS_VALUES = frozenset(
    {
        "",
        MARK,
        "none",
        "null",
        "nil",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "***@",
        "<redacted>",
        "redacted",
        "undefined",
        "empty",
        "required",
        "optional",
        "changeme?",
        "string",
        "str",
        "bytes",
        "secretstr",
        "masked",
        "hidden",
        "n/a",
        "na",
        "unset",
        "not set",
        "missing",
        "expired",
        "invalid",
        "...",
        "xxx",
        "xxxx",
        "****",
    }
)
# Keys that name a secret but whose value is about it, not it: token_count, max_tokens, password_reset_at.
_ABOUT_WORDS = frozenset(
    {
        "count",
        "counts",
        "max",
        "min",
        "limit",
        "limits",
        "size",
        "len",
        "length",
        "num",
        "number",
        "ttl",
        "expires",
        "expiry",
        "expiration",
        "expire",
        "expired",
        "at",
        "on",
        "type",
        "kind",
        "id",
        "ids",
        "url",
        "uri",
        "path",
        "file",
        "filename",
        "name",
        "names",
        "usage",
        "used",
        "total",
        "reset",
        "policy",
        "hint",
        "field",
        "fields",
        "column",
        "columns",
        "header",
        "prefix",
        "suffix",
        "env",
        "var",
        "ref",
        "version",
        "index",
        "idx",
        "position",
        "offset",
        "timeout",
        "budget",
        "rate",
        "estimate",
        "estimated",
        "remaining",
        "manager",
        "backend",
        "provider",
        "source",
        "store",
        "arn",
        "mode",
        "format",
        "algorithm",
        "algo",
        "rotation",
        "rotated",
        "updated",
        "created",
        "changed",
        "last",
        "required",
        "enabled",
        "method",
        "prompt",
        "completion",
        "input",
        "output",
        "tokens_per_minute",
        "per",
        "second",
        "minute",
        "lookup",
        "cmd",
        "command",
        "class",
        "module",
        "location",
        "dir",
        "key_id",
        "keyid",
        "fingerprint",
        "strength",
    }
)
_WORD_SPLIT = re.compile(r"[_.\-\s]+|(?<=[a-z])(?=[A-Z])")
_NUMBER = re.compile(r"^[+-]?\d[\d_,]*(?:\.\d+)?(?:e[+-]?\d+)?$", re.I)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_VERSION = re.compile(r"^v?\d+(?:\.\d+){1,3}(?:[-+.]?[A-Za-z0-9]+)*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?$")
_REFERENCE = re.compile(
    r"(?i)^(?:\{\{.*\}\}|\$\{.*\}|\$[A-Z_][A-Z0-9_]*|%\(.*\)s|<[^<>]+>|env_var\(.*|os\.environ.*|getenv\(.*|"
    r"Variable\.get\(.*|var\.value\..*|conn\..*|secrets?\..*|self\..*|settings\..*|config\..*|vault:.*|"
    r"arn:aws:secretsmanager:.*|projects/[^/]+/secrets/.*)$"
)


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def key_is_about_the_secret(key: str) -> bool:
    """`token_count`, `max_tokens`, `password_reset_at`, `api_key_id`: the value describes a secret."""
    words = {w.lower() for w in _WORD_SPLIT.split(key) if w}
    return bool(words & _ABOUT_WORDS) or key.lower().startswith(("max", "min", "num", "n_"))


def is_placeholder(value: str) -> bool:
    """Under a key that names a secret, only an empty value, a marker or a reference is kept."""
    v = value.strip().strip("\"'`")
    return v.lower() in HARMLESS_VALUES or v.startswith(MARK) or is_templated_secret(v) or bool(_REFERENCE.match(v))


def is_harmless_value(value: str, line: str = "") -> bool:
    """A value assigned to a secret-named key that is still not a secret."""
    v = value.strip().strip("\"'`")
    if v.lower() in HARMLESS_VALUES or v.startswith(MARK) or len(v) < 3:
        return True
    if is_templated_secret(v) or is_prefixed_with_dollar_sign(v) or _REFERENCE.match(v):
        return True
    if _NUMBER.match(v) and len(v) <= 6:
        return True
    if set(v) <= {"*", "x", "X", "#", "-", "."}:
        return True
    if line and len(line) <= 1000 and is_indirect_reference(line) and "(" in v:
        return True
    return False


def looks_random(token: str) -> bool:
    """A long token no person wrote: digits and letters mixed, high character entropy.

    Pure hex (git SHAs, digests, fingerprints, UUIDs) is never redacted for entropy alone: evidence
    must keep commit ids readable; a hex secret is caught by its key or format instead.
    """
    if _HEX.match(token.replace("-", "")):
        return False
    if (token.startswith("/") or token.endswith("/")) and max(len(part) for part in token.split("/")) < 24:
        return False  # a path, not base64 that happens to end in "/"
    if is_sequential_string(token) or _VERSION.match(token):
        return False
    bonus = 0.2 if "/" in token else 0.0  # a relative path is not random; demand more
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    if digits < 2 and not _mixed_case_random(token):
        return False
    if letters < 4:
        return False
    if not any(c.isupper() for c in token) and not any(c in "+=" for c in token) and digits < 4:
        return False
    wordlike = _wordlike(token)
    if "_" in token and _IDENTIFIER.match(token) and max(len(part) for part in token.split("_")) < 16 and wordlike:
        return False  # TestCustomerOrders2024, customer_orders_v2_2024
    threshold = 4.2 if len(token) < 32 else 4.4 if len(token) < 64 else 4.6
    if not wordlike:
        threshold -= 0.2  # no words to lower the entropy: a random draw may sit just below the bar
    if entropy(token) < min(threshold, math.log2(len(token)) - 0.3) + bonus:
        return False
    return not is_plain_base64(token)


def _mixed_case_random(token: str) -> bool:
    """A long token without digits that is still random (token_urlsafe can draw one or none):
    many upper and lower letters that do not make words."""
    upper = sum(c.isupper() for c in token)
    lower = sum(c.islower() for c in token)
    return len(token) >= 30 and upper >= 6 and lower >= 6 and not _wordlike(token) and entropy(token) >= 4.2


_FRAGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _wordlike(token: str) -> bool:
    """Made of words: CamelCase and snake_case fragments of four characters or more carry most of
    it (`TestCustomerOrders2024`, `customer_orders_v2_2024`); a random draw breaks into short
    fragments (`zQTQh8YtqNfLfO`: z, QTQ, h, 8, Ytq, Nf, Lf, O)."""
    fragments = _FRAGMENT.findall(token)
    total = sum(len(f) for f in fragments)
    return total > 0 and sum(len(f) for f in fragments if len(f) >= 4) / total >= 0.7


def is_plain_base64(token: str) -> bool:
    """Base64 of ordinary text (`aGVsbG8gd29ybGQ=`) is not a secret; of `user:password`, it is."""
    if len(token) % 4 or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", token):
        return False
    try:
        raw = base64.b64decode(token.replace("-", "+").replace("_", "/"), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    printable = sum(c.isprintable() or c in "\n\t" for c in decoded)
    if printable < len(decoded) or not decoded:
        return False
    if re.fullmatch(r"[^:\s]{1,64}:\S+", decoded):
        return False  # a Basic auth pair
    return " " in decoded or "\n" in decoded or decoded.startswith(("{", "[", "<"))


def is_benign_token(value: str) -> bool:
    """A format-detector hit that is an id, a word or a sequence, not a secret."""
    if is_sequential_string(value) or _UUID.match(value):
        return True
    if value.isalpha():
        return True  # APPLICATION, ACCOUNTSTATUS...
    return False


def is_hex(value: str) -> bool:
    return bool(_HEX.match(value))
