"""Secret redaction, applied to everything PATCHIT stores, shows, sends to a model or puts in a PR.

Layers, most exact first:
1. literal values: the connections and variables the failed task could use, fed by the
   adapters from Airflow's own secrets masker (`add_secret_values`, `register_extra_redactor`),
   so this package never imports Airflow; value-based masking is exact;
2. detect-secrets' maintained plugins (token formats, quoted keyword assignments) and its
   heuristic filters (`plugins.py`);
3. PATCHIT's rules for formats and places detect-secrets does not cover: command lines, URLs,
   unquoted `key=value` / `key: value` assignments, more token prefixes (`rules.py`);
4. an entropy net for long random tokens.
ANSI escapes are stripped first, so a colourised key is still a key. Values that only look
like secrets (ids, hashes, counts, fingerprints, `max_tokens=4096`) are kept (`benign.py`).

`redact_diff` keeps a diff's lines and prefixes (it stays parseable); `restore_diff` turns a
stored, redacted diff back into the real patch against the repository and refuses a patch
whose added lines carry a secret that is not already in the file.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from git import GitCommandError
from pydantic import BaseModel

from patchit_provider.engine.errors import PatchitError
from patchit_provider.engine.redaction import plugins, rules
from patchit_provider.engine.redaction.benign import (
    MARK,
    entropy,
    is_harmless_value,
    is_hex,
    is_placeholder,
    key_is_about_the_secret,
    looks_random,
)

__all__ = [
    "MARK",
    "redact",
    "redact_obj",
    "redact_diff",
    "redact_uri",
    "restore_diff",
    "register_extra_redactor",
    "add_secret_values",
    "clear_secret_values",
    "is_secret_key",
    "shannon_entropy",
    "RedactedPatchError",
    "redact_artifact_content",
    "IDENTITY_KEYS",
]

shannon_entropy = entropy
ExtraRedactor = Callable[[str], str]
_extra: list[ExtraRedactor] = []
_literals: list[str] = []  # longest first
_lock = threading.Lock()
_generation = 0
_cache: OrderedDict[tuple[int, str], tuple[str, int]] = OrderedDict()
_CACHE_MIN_CHARS, _CACHE_ENTRIES = 2_000, 64
MIN_LITERAL_CHARS = 5  # as Airflow's masker: shorter values would mask ordinary words

_CANDIDATE = re.compile(r"(?<![\w/.*])[A-Za-z0-9+/_=\-]{20,}")
MIN_RANDOM_SEGMENT = 20  # as _CANDIDATE: a shorter run is never judged random on its own
MIN_RANDOM_RUN = 16  # in a path segment, the longest run between - _ . that a token has
_WORDS = re.compile(r"[_.\-\s]+|(?<=[a-z0-9])(?=[A-Z])")


def _bump() -> None:
    global _generation
    _generation += 1
    _cache.clear()


def register_extra_redactor(fn: ExtraRedactor) -> Callable[[], None]:
    """Add a redactor (e.g. Airflow's secrets masker) run after the built-in ones.

    Returns a function that removes it again. An extra redactor's replacements are counted by
    the `***` markers it adds.
    """
    with _lock:
        _extra.append(fn)
        _bump()

    def unregister() -> None:
        with _lock:
            if fn in _extra:
                _extra.remove(fn)
            _bump()

    return unregister


def add_secret_values(values: Iterable[Any]) -> int:
    """Mask these exact values wherever they appear (connection passwords, variable values the
    task could read). Values shorter than MIN_LITERAL_CHARS are skipped. Returns how many are new."""
    new = {str(v) for v in values if v is not None and len(str(v).strip()) >= MIN_LITERAL_CHARS} - set(_literals)
    new = {v for v in new if v.strip().lower() not in ("none", "null", "true", "false") and MARK not in v}
    if new:
        with _lock:
            _literals[:] = sorted({*_literals, *new}, key=len, reverse=True)
            _bump()
    return len(new)


def clear_secret_values() -> None:
    with _lock:
        _literals.clear()
        _bump()


def _normal_key(key: str) -> str:
    return "_".join(w.lower() for w in _WORDS.split(key.strip("\"'`\\[] ")) if w)


@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    """`password`, `DB_PASS`, `apiKey`, `AIRFLOW__CORE__FERNET_KEY`; not `token_count`, `compass`."""
    norm = _normal_key(key)
    return bool(rules.SECRET_KEY_RE.match(norm)) and not key_is_about_the_secret(norm)


@lru_cache(maxsize=8192)
def _is_weak_key(key: str) -> bool:
    norm = _normal_key(key)
    return bool(rules.WEAK_KEY_RE.match(norm)) and not key_is_about_the_secret(norm)


def _key_material(value: str) -> bool:
    """A value of a `*_key` field that is key material (not `customer_id`)."""
    v = value.strip()
    if len(v) < 16:
        return False
    return (
        (is_hex(v) and len(v) >= 24)
        or looks_random(v)
        or (
            sum(c.isdigit() for c in v) >= 3 and sum(c.isalpha() for c in v) >= 3 and entropy(v) >= 3.5 and "_" not in v
        )
    )


def _apply(rule: rules.Rule, text: str) -> tuple[str, int]:
    pattern, group = rule
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        if group == 0:
            count += 1
            return MARK
        value = match.group(group)
        if value is None or value.startswith(MARK) or is_harmless_value(value):
            return match[0]
        count += 1
        start, end = match.span(group)
        return match[0][: start - match.start()] + MARK + match[0][end - match.start() :]

    return pattern.sub(repl, text), count


def _replace_values(text: str, values: Iterable[str]) -> tuple[str, int]:
    """Every occurrence of each value (longest first), with C-speed string search."""
    total = 0
    for value in sorted({v for v in values if len(v) >= 8 and MARK not in v}, key=len, reverse=True):
        if value in text:
            total += text.count(value)
            text = text.replace(value, MARK)
    return text, total


def _apply_lines(rule: rules.Rule, text: str) -> tuple[str, int]:
    """A key-block rule whose match becomes one `***` per line, so line numbers hold."""
    pattern, _ = rule
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "\n".join(MARK for _ in match[0].split("\n"))

    return pattern.sub(repl, text), count


def _redact_uncached(text: str) -> tuple[str, int]:
    """Strip ANSI, run the rule set on the suspicious lines only, then the exact values everywhere."""
    text = rules.ANSI.sub("", text)
    lines = text.split("\n")
    picked = _suspicious_lines(text, lines)
    values: set[str] = set()
    total = 0
    if picked:
        chunk = "\n".join(lines[i] for i in picked)
        red, total = _rules(chunk, values)
        red_lines = red.split("\n")
        if len(red_lines) == len(picked):
            for i, line in zip(picked, red_lines):
                lines[i] = line
            text = "\n".join(lines)
        else:  # a rule joined lines: redo on the whole text (slower, never wrong)
            values.clear()
            text, total = _rules(text, values)
    text, n = _replace_values(text, values)
    total += n
    text, n = _replace_values(text, _literals)
    total += n
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


def _suspicious_lines(text: str, lines: list[str]) -> list[int]:
    """Indexes of the lines the rule set must see: a keyword, a URL, a long token, a key block."""
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    hit: set[int] = set()
    for match in rules.SUSPICIOUS.finditer(text.lower()):
        hit.add(bisect_right(starts, match.start()) - 1)
    in_key = False
    for i, line in enumerate(lines):  # every line of a key block, even a short last one
        if "PRIVATE KEY" in line:
            hit.add(i)
            in_key = "BEGIN" in line and "END" not in line.split("PRIVATE KEY", 1)[1]
        elif in_key:
            hit.add(i)
            in_key = "-----END" not in line
    return sorted(hit)


def _rules(text: str, values: set[str]) -> tuple[str, int]:
    total = 0
    # detect-secrets reports values; collect them before the rules rewrite the text
    values |= plugins.format_hits(text) | plugins.keyword_hits(text)
    for rule in rules.KEY_BLOCKS:
        text, n = _apply_lines(rule, text)
        total += n
    for rule in (*rules.FORMATS, *rules.CONTEXT):
        text, n = _apply(rule, text)
        total += n

    def assignment(match: re.Match[str]) -> str:
        nonlocal total
        value = match["qv"] if match["q"] else match["v"]
        key = match["key"]
        if value is None or value.startswith(MARK):
            return match[0]
        strong = is_secret_key(key)
        if not strong and not (_is_weak_key(key) and _key_material(value)):
            if match["q"] and value:  # `"event": "DB_PASS=..."`: the quoted value may hold one
                inner = rules.ASSIGNMENT.sub(assignment, value)
                return f"{key}{match['sep']}{match['q']}{inner}{match['q']}" if inner != value else match[0]
            return match[0]
        context = "" if match["q"] else match.string[max(0, match.start() - 200) : match.end() + 200]
        if is_harmless_value(value, context):  # a quoted value is a literal, never a reference
            return match[0]
        total += 1
        if len(value) >= 8:
            values.add(value)
        quote = match["q"] or ""
        return f"{key}{match['sep']}{quote}{MARK}{quote}"

    text = rules.ASSIGNMENT.sub(assignment, text)

    def high_entropy(match: re.Match[str]) -> str:
        nonlocal total
        token = match[0]
        if "/" in token and ("-" in token or "_" in token):
            # A path (base64's alphabet has no - or _ beside its /): only a segment that is random
            # on its own is hidden, so `/tmp/airflow-it-k2j3h4g5/dags/etl.py` keeps its file.
            parts = token.split("/")
            hidden = [MARK if _random_segment(part) else part for part in parts]
            total += sum(part == MARK for part in hidden)
            return "/".join(hidden)
        if looks_random(token):
            total += 1
            return MARK
        return token

    text = _CANDIDATE.sub(high_entropy, text)
    text, n = _replace_values(text, values)
    return text, total + n


_SEPARATORS = re.compile(r"[-_.]")


def _random_segment(part: str) -> bool:
    """A path segment that is a token on its own: long, with a long unbroken run, and random.
    `patchit-airflow-it-k2j3h4g5` (words and the short suffix mkdtemp adds) is a name."""
    return (
        len(part) >= MIN_RANDOM_SEGMENT
        and max(len(run) for run in _SEPARATORS.split(part)) >= MIN_RANDOM_RUN
        and looks_random(part)
    )


def redact(text: str) -> tuple[str, int]:
    """Return the text with secrets replaced by `***`, and the number of replacements."""
    if not text:
        return text, 0
    if not isinstance(text, str):
        text = str(text)
    if len(text) < _CACHE_MIN_CHARS:
        return _redact_uncached(text)
    key = (_generation, text)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    result = _redact_uncached(text)
    with _lock:
        _cache[key] = result
        while len(_cache) > _CACHE_ENTRIES:
            _cache.popitem(last=False)
    return result


def redact_uri(uri: str) -> tuple[str, int]:
    """A URI fit to show: no userinfo password or token user, no secret-looking query values."""
    if not uri:
        return uri, 0
    text, count = redact(uri)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text, count
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        if password and password != MARK:
            userinfo, count = f"{user}:{MARK}", count + 1
        elif not password and user != MARK and (looks_random(user) or len(user) >= 20):
            userinfo, count = MARK, count + 1
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            if (
                value
                and value != MARK
                and (is_secret_key(name) or looks_random(value) or (is_hex(value) and len(value) >= 32))
            ):
                value, count = MARK, count + 1
            pairs.append(f"{name}={value}")
        query = "&".join(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), count


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY")


def redact_diff(diff: str) -> tuple[str, int]:
    """Redact a unified diff line by line: same lines, same prefixes, so it still parses."""
    if not diff:
        return diff, 0
    out, total, in_key = [], 0, False
    for line in diff.split("\n"):
        prefix = line[:1] if line[:1] in (" ", "+", "-") and not line.startswith(("+++ ", "--- ")) else ""
        body = line[len(prefix) :]
        if _KEY_BEGIN.search(body):
            in_key = not _KEY_END.search(body)
            out.append(prefix + MARK)
            total += 1
            continue
        if in_key:
            in_key = not _KEY_END.search(body)
            out.append(prefix + MARK)
            total += 1
            continue
        red, n = redact(body)
        out.append(prefix + red.replace("\n", " "))
        total += n
    return "\n".join(out), total


class RedactedPatchError(GitCommandError, PatchitError):
    """A stored diff cannot be turned back into the real patch: its added lines hold a secret.
    A GitCommandError, so whoever applies a diff reports it as a failed `apply`."""

    def __init__(self, reason: str) -> None:
        super().__init__(["git", "apply"], 1, stderr=reason)


def _secrets_between(original: str, redacted: str) -> list[str] | None:
    """The values redaction replaced in `original` to give `redacted`, in order."""
    pieces = redacted.split(MARK)
    pattern = "^" + "(.+?)".join(re.escape(p) for p in pieces) + "$"
    match = re.match(pattern, original, re.S)
    return list(match.groups()) if match else None


def _restore_added(line: str, known: list[str], removed: list[tuple[str, list[str]]] | None = None) -> str | None:
    """An added line with `***` slots filled with values already in the file, if redacting it
    gives the stored line back; None when it cannot be (the patch adds a secret). The removed
    line most like it is tried first, slot for slot (a changed line keeps its own secrets)."""
    from difflib import SequenceMatcher

    slots = line.count(MARK)
    pieces = line.split(MARK)
    for _, values in sorted(removed or [], key=lambda pair: -SequenceMatcher(None, pair[0], line).ratio()):
        if len(values) == slots:
            candidate = "".join(p + v for p, v in zip(pieces, values)) + pieces[-1]
            if redact(candidate)[0] == line:
                return candidate
    if not known or slots > 3:
        return None

    def fill(index: int, built: str) -> str | None:
        if index == slots:
            candidate = built + pieces[-1]
            return candidate if redact(candidate)[0] == line else None
        for value in known:
            found = fill(index + 1, built + pieces[index] + value)
            if found is not None:
                return found
        return None

    return fill(0, "")


def restore_diff(diff: str, repo_root: Any) -> str:
    """The real patch behind a redacted (stored) diff, read back from the repository's files.

    Context and removed lines are taken from the file when redacting the file's line gives the
    stored line; added lines may only reuse secrets already in the file's changed lines. Raises
    RedactedPatchError when an added line carries a secret the file does not hold (a patch must
    never add one). A diff without `***` is returned as it is.
    """
    from pathlib import Path

    if not diff or MARK not in diff:
        return diff
    root = Path(repo_root)
    out: list[str] = []
    old_lines: list[str] = []
    old_no = 0
    known: list[str] = []
    removed: list[tuple[str, list[str]]] = []
    for line in diff.split("\n"):
        if line.startswith("--- "):
            path = line[4:].strip().split("\t")[0]
            rel = path[2:] if path.startswith(("a/", "b/")) else path
            file = root / rel
            old_lines = (
                file.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
                if rel != "/dev/null" and file.is_file()
                else []
            )
            out.append(line)
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old_no, known, removed = int(hunk.group(1)), [], []
            out.append(line)
            continue
        if line[:1] in (" ", "-") and not line.startswith("--- ") and old_lines:
            real = old_lines[old_no - 1] if 0 < old_no <= len(old_lines) else None
            old_no += 1
            stored = line[1:]
            if MARK in stored and real is not None:
                if redact_diff(" " + real)[0][1:] == stored:
                    values = _secrets_between(real, stored) or []
                    known += values
                    if line[0] == "-":
                        removed.append((stored, values))
                    out.append(line[0] + real)
                    continue
            out.append(line)
            continue
        if line.startswith("+") and not line.startswith("+++ ") and MARK in line[1:]:
            restored = _restore_added(line[1:], known, removed)
            if restored is None:
                raise RedactedPatchError(
                    "the patch adds a secret (or a redacted value it cannot have read from the file): refused"
                )
            out.append("+" + restored)
            continue
        out.append(line)
    return "\n".join(out)


# Identifiers PATCHIT looks incidents up by: redacting them would break idempotency and grouping.
IDENTITY_KEYS = frozenset(
    {
        "incident_id",
        "event_id",
        "pipeline_id",
        "run_id",
        "task_id",
        "fingerprint",
        "grouped_into",
        "remediation_run_id",
        "commit",
        "head",
        "branch",
        "kind",
        "state",
        "platform",
        "media_type",
    }
)


def redact_artifact_content(name: str, media_type: str, content: str) -> str:
    """An artifact's content, redacted; a diff keeps its lines."""
    if name.endswith((".diff", ".patch")) or media_type == "text/x-diff":
        return redact_diff(content)[0]
    return redact(content)[0]


def redact_obj(obj: Any, _key: str | None = None) -> tuple[Any, int]:
    """A redacted copy of nested dicts/lists/tuples/pydantic models, and the replacement count.

    Values under secret-named keys are replaced whole, whatever they look like; keys are
    redacted too (events from other platforms may carry anything as a key); `diff` values keep
    their lines, URI fields lose userinfo and query tokens.
    """
    if isinstance(obj, Enum):
        return obj, 0
    if isinstance(obj, str):
        if _key in IDENTITY_KEYS:
            return obj, 0
        if _key == "diff":
            return redact_diff(obj)
        if _key in ("log_uri", "artifact_uris", "url", "uri", "html_url", "webhook_url"):
            return redact_uri(obj)
        return redact(obj)
    if isinstance(obj, BaseModel):
        # field by field, then model_copy: nested models stay models, and a malformed model stays
        # malformed for its owner to refuse (the store does)
        changes, count = {}, 0
        for name in type(obj).model_fields:
            value = getattr(obj, name, None)
            red, n = redact_obj(value, name)
            if n or red is not value:
                changes[name] = red
            count += n
        return obj.model_copy(update=changes), count
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        count = 0
        for key, value in obj.items():
            if (
                isinstance(key, str)
                and isinstance(value, (str, int, float))
                and not isinstance(value, bool)
                and is_secret_key(key)
                and not is_placeholder(str(value))
            ):
                out[key], count = MARK, count + 1
                continue
            safe_key, key_count = redact(key) if isinstance(key, str) else (key, 0)
            out[safe_key], n = redact_obj(value, key if isinstance(key, str) else None)
            count += n + key_count
        return out, count
    if isinstance(obj, (list, tuple)):
        items, count = [], 0
        for value in obj:
            red, n = redact_obj(value, _key)
            items.append(red)
            count += n
        return type(obj)(items) if isinstance(obj, tuple) else items, count
    return obj, 0
