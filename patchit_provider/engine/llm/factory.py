"""One place that turns settings (an Airflow connection, CLI flags) into a backend."""

from __future__ import annotations

from typing import Any, Callable

import httpx

from patchit_provider.engine.llm.anthropic import DEFAULT_BASE_URL as ANTHROPIC_URL
from patchit_provider.engine.llm.anthropic import AnthropicBackend
from patchit_provider.engine.llm.base import BACKENDS as BACKENDS
from patchit_provider.engine.llm.base import LLMBackend
from patchit_provider.engine.llm.cursor import DEFAULT_BASE_URL as CURSOR_URL
from patchit_provider.engine.llm.cursor import CursorBackend
from patchit_provider.engine.llm.http import HttpConfig
from patchit_provider.engine.llm.inhouse import InHouseBackend
from patchit_provider.engine.llm.openai_compat import OpenAICompatBackend

DEFAULT_URLS = {"openai": "https://api.openai.com/v1", "anthropic": ANTHROPIC_URL, "cursor": CURSOR_URL}


def build_backend(
    backend: str,
    *,
    base_url: str = "",
    api_key: str = "",
    model: str = "",
    timeout: float = 60.0,
    max_retries: int = 2,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    options: dict[str, Any] | None = None,
) -> LLMBackend:
    """A backend by name; `options` holds backend-specific settings (cursor: repository, ref,
    max_polls, poll_interval). Raises ValueError for an unknown name or missing setting."""
    kind = (backend or "openai").lower()
    if kind not in BACKENDS:
        raise ValueError(f"unknown LLM backend {backend!r}; one of {', '.join(BACKENDS)}")
    url = base_url or DEFAULT_URLS.get(kind, "")
    if not url:
        raise ValueError(f"the {kind} backend needs a base URL")
    if "://" not in url:
        url = "https://" + url
    config = HttpConfig(
        base_url=url, api_key=api_key or "", timeout=timeout, max_retries=max_retries, transport=transport
    )
    if sleep is not None:
        config.sleep = sleep
    opts = dict(options or {})
    if kind == "openai":
        _need_model(kind, model)
        return OpenAICompatBackend(config, model)
    if kind == "anthropic":
        _need_model(kind, model)
        return AnthropicBackend(config, model)
    if kind == "inhouse":
        return InHouseBackend(config, model)
    return CursorBackend(
        config,
        model,
        repository=str(opts.get("repository") or ""),
        ref=str(opts.get("ref") or "main"),
        max_polls=int(opts.get("max_polls", 60)),
        poll_interval=float(opts.get("poll_interval", 10.0)),
    )


def _need_model(kind: str, model: str) -> None:
    if not model:
        raise ValueError(f"the {kind} backend needs a model name")
