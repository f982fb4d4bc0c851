"""Reading PATCHIT's connection extras: shared by the LLM and GitHub hooks (no Airflow import)."""

from __future__ import annotations

from typing import Any

# Seconds a connection's "Test" button may take: a short, retry-free call.
TEST_TIMEOUT = 10.0


def extra_number(extra: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    """A non-negative number from a connection extra; empty means the default."""
    value = extra.get(key)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"extra {key!r} must be a {kind.__name__}, not {value!r}") from exc
    if number < 0:
        raise ValueError(f"extra {key!r} must not be negative")
    return number
