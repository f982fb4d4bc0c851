"""The one small interface every LLM backend speaks, and the errors it may raise.

Backends differ in wire format only; the rest of PATCHIT sees an `LLMRequest` go in and an
`LLMAnswer` (text plus the usage the vendor reported) come out, or one of these typed errors.
A malformed vendor answer is an `LLMAnswerError`, never an unhandled exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from patchit_provider.engine.errors import ExternalError

BACKENDS = ("openai", "anthropic", "inhouse", "cursor")


@dataclass(frozen=True)
class LLMRequest:
    """What to ask. `max_tokens` bounds the answer; `temperature` 0 asks for the likeliest one."""

    system: str
    prompt: str
    max_tokens: int = 4096
    temperature: float = 0.0
    prompt_version: str = ""


@dataclass(frozen=True)
class LLMAnswer:
    """What came back. Token counts are the vendor's own (0 when it reports none)."""

    text: str
    model: str
    backend: str
    input_tokens: int = 0
    output_tokens: int = 0


@runtime_checkable
class LLMBackend(Protocol):
    name: str
    model: str

    def complete(self, request: LLMRequest) -> LLMAnswer:
        """One answer to `request`; raises an `LLMError` subclass on any failure."""
        ...

    def check(self) -> str:
        """A cheap real call proving the endpoint and credentials work; returns a short note."""
        ...


def token_count(value: object) -> int:
    """A usage figure from a vendor answer, or 0 when it is missing or not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def vendor_answer(
    backend: LLMBackend, data: dict[str, Any], text: str, *, input_tokens: str, output_tokens: str
) -> LLMAnswer:
    """The answer of a vendor's JSON reply: its model (else the configured one) and the usage
    counts under the vendor's own key names (missing or malformed counts are 0)."""
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    return LLMAnswer(
        text=text,
        model=str(data.get("model") or backend.model),
        backend=backend.name,
        input_tokens=token_count(usage.get(input_tokens)),
        output_tokens=token_count(usage.get(output_tokens)),
    )


class LLMError(ExternalError, RuntimeError):
    """An LLM call failed. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, vendor_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.vendor_type = vendor_type


class LLMAuthError(LLMError):
    """401/403: the key is missing, wrong or lacks permission. Never retried."""


class LLMRateLimited(LLMError):
    """429 (or 529 overloaded) after the allowed retries, or a Retry-After longer than we wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class LLMAnswerError(LLMError):
    """The answer arrived but is unusable: not the documented shape, empty, or no valid edits."""


class LLMBudgetExceeded(LLMError):
    """The incident's token or cost budget does not allow another call."""
