"""Bounds on what a failure event may carry, shared by capture and the ingest API.

An event crosses the store, the remediation run's conf and Airflow's own REST API: anything
accepted here must survive all of them. So text is valid Unicode without NUL, integers fit the
32-bit columns Airflow stores them in, dates are timezone-aware and plausible, and `metadata`
is small, shallow JSON (deep or huge nesting broke JSON encoders and the store downstream).

Free text from JSON (the ingest API) is refused when it is not clean; the same text from a live
Python exception (capture) is cleaned instead (U+FFFD for a lone surrogate, NUL dropped), so a
failure is never lost because its message held an undecodable file name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

INT32_MAX = 2**31 - 1
JSON_SAFE_INT = 2**53 - 1  # beyond this, JSON readers (JavaScript, Airflow's UI) lose precision
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)  # clock skew between the failing system and us

MAX_ID_CHARS = 250
MAX_URI_CHARS = 2_048
MAX_PATH_CHARS = 4_096
MAX_ARTIFACT_URIS = 32
MAX_FRAMES = 200
MAX_FRAME_TEXT = 4_096

META_MAX_DEPTH = 8  # {"a": 1} is depth 1
META_MAX_KEYS = 128  # per object
META_MAX_ITEMS = 256  # per list
META_MAX_NODES = 2_048  # values in the whole tree
META_MAX_KEY_CHARS = 128
META_MAX_STR_CHARS = 8_192


def clean_text(value: str, info: ValidationInfo | None = None) -> str:
    """Refuse NUL and lone surrogates in JSON input; clean them in Python input (capture)."""
    bad_nul = "\x00" in value
    try:
        value.encode("utf-8")
        bad_unicode = False
    except UnicodeEncodeError:
        bad_unicode = True
    if not (bad_nul or bad_unicode):
        return value
    if info is not None and info.mode == "python":
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value.replace("\x00", ""))
    if bad_nul:
        raise ValueError("NUL characters are not allowed")
    raise ValueError("text is not valid Unicode (a lone surrogate)")


def _text(value: Any, handler: Any, info: ValidationInfo) -> Any:
    result = handler(value)
    return clean_text(result, info) if isinstance(result, str) else result


# Every string field of the event contracts is SafeText (plus a max_length where it has one).
SafeText = Annotated[str, WrapValidator(_text)]


@dataclass(frozen=True)
class Bounded:
    """Text of min..max characters, written `Annotated[str, Bounded(max_chars, min_chars)]`. Too
    long: refused in JSON input, cut in Python input (a parser or capture never loses a failure
    over an overlong line). The text is also SafeText (`clean_text`)."""

    max_chars: int
    min_chars: int = 0

    def _check(self, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        result = handler(value)
        if not isinstance(result, str):
            return result
        result = clean_text(result, info)
        if len(result) > self.max_chars:
            if info.mode != "python":
                raise PydanticCustomError(
                    "string_too_long",
                    "String should have at most {max_length} characters",
                    {"max_length": self.max_chars},
                )
            result = result[: self.max_chars]
        if len(result) < self.min_chars:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} characters",
                {"min_length": self.min_chars},
            )
        return result

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_wrap_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_chars
        if self.min_chars:
            json_schema["minLength"] = self.min_chars
        return json_schema


@dataclass(frozen=True)
class AtMost:
    """A list of at most `max_items`, written `Annotated[list[X], AtMost(max_items)]`: refused in
    JSON input; Python input keeps the last ones (the innermost frames of a very deep traceback
    are where the error is)."""

    max_items: int

    def _check(self, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if isinstance(value, (list, tuple)) and len(value) > self.max_items:
            if info.mode != "python":
                raise PydanticCustomError(
                    "too_long", "List should have at most {max_length} items", {"max_length": self.max_items}
                )
            value = list(value)[-self.max_items :]
        return handler(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_wrap_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxItems"] = self.max_items
        return json_schema


# The bounded texts the contracts share.
IdText = Annotated[str, Bounded(MAX_ID_CHARS)]
RequiredId = Annotated[str, Bounded(MAX_ID_CHARS, 1)]
PathText = Annotated[str, Bounded(MAX_PATH_CHARS)]
UriText = Annotated[str, Bounded(MAX_URI_CHARS)]
FrameText = Annotated[str, Bounded(MAX_FRAME_TEXT)]


def check_detected_at(value: datetime, info: ValidationInfo) -> datetime:
    """Timezone-aware (JSON input must say its zone; Python callers' naive values are UTC) and
    between 2000-01-01 and one day from now."""
    if value.tzinfo is None or value.utcoffset() is None:
        if info.mode != "python":
            raise ValueError("detected_at needs a timezone (e.g. 2026-11-22T10:00:00Z)")
        value = value.replace(tzinfo=timezone.utc)
    try:
        utc = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ValueError("detected_at is out of range") from None
    latest = datetime.now(timezone.utc) + FUTURE_SLACK
    if not EARLIEST <= utc <= latest:
        raise ValueError(f"detected_at must be between {EARLIEST.date()} and one day from now")
    return value


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Small, shallow JSON: depth, keys, list items, total values, string lengths, numbers that
    JSON readers keep exactly, and only JSON scalars as leaves. Iterative: no recursion limit
    can be hit by a hostile depth."""
    nodes = 0
    stack: list[tuple[Any, int, str]] = [(value, 1, "metadata")]
    while stack:
        item, depth, where = stack.pop()
        nodes += 1
        if nodes > META_MAX_NODES:
            raise ValueError(f"metadata holds more than {META_MAX_NODES} values")
        if isinstance(item, dict):
            if depth > META_MAX_DEPTH:
                raise ValueError(f"metadata is nested deeper than {META_MAX_DEPTH} levels (at {where[:200]})")
            if len(item) > META_MAX_KEYS:
                raise ValueError(f"{where[:200]} has more than {META_MAX_KEYS} keys")
            for key, child in item.items():
                if not isinstance(key, str) or len(key) > META_MAX_KEY_CHARS:
                    raise ValueError(
                        f"metadata keys are strings of at most {META_MAX_KEY_CHARS} characters (at {where[:200]})"
                    )
                clean_text(key)
                stack.append((child, depth + 1, f"{where}.{key}"))
        elif isinstance(item, list):
            if depth > META_MAX_DEPTH:
                raise ValueError(f"metadata is nested deeper than {META_MAX_DEPTH} levels (at {where[:200]})")
            if len(item) > META_MAX_ITEMS:
                raise ValueError(f"{where[:200]} has more than {META_MAX_ITEMS} items")
            stack.extend((child, depth + 1, f"{where}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, str):
            if len(item) > META_MAX_STR_CHARS:
                raise ValueError(f"{where[:200]} is longer than {META_MAX_STR_CHARS} characters")
            clean_text(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > JSON_SAFE_INT:
                raise ValueError(f"{where[:200]} is outside ±(2^53-1)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"{where[:200]} is not a finite number")
        else:
            raise ValueError(f"{where[:200]} is a {type(item).__name__}; metadata holds JSON values only")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(check_metadata)]
