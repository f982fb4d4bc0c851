"""PatchitLLMHook: the `patchit_llm` connection -> an engine LLM backend, budget and options.

Connection: host = base URL (empty: the vendor's default), password = API key, extra = JSON with
`backend` (openai | anthropic | inhouse | cursor), `model`, `max_tokens`, `timeout`,
`max_retries`, `budget_tokens`, `budget_usd`, `prices` ({"model": [usd_in, usd_out] per 1M
tokens}), `candidates`, `max_prompt_chars`, and for cursor `repository` and `ref`. The hook only
reads the connection; talking to the vendor is the engine's (`engine.llm`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseHook

from patchit_provider.engine.llm import BACKENDS, Budget, LLMError, build_backend
from patchit_provider.engine.llm.budget import Prices
from patchit_provider.hooks.extras import TEST_TIMEOUT, extra_number


@dataclass(frozen=True)
class LLMConnectionConfig:
    """The connection's settings, validated; defaults here are the documented ones."""

    backend: str
    base_url: str
    api_key: str
    model: str = ""
    max_tokens: int = 4096
    timeout: float = 60.0
    max_retries: int = 2
    budget_tokens: int | None = None
    budget_usd: float | None = None
    prices: Prices = field(default_factory=dict)
    candidates: int = 1
    max_prompt_chars: int = 24_000
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_connection(cls, host: str | None, password: str | None, extra: dict[str, Any]) -> LLMConnectionConfig:
        backend = str(extra.get("backend") or "openai").lower()
        if backend not in BACKENDS:
            raise ValueError(f"extra 'backend' must be one of {', '.join(BACKENDS)}, not {backend!r}")
        return cls(
            backend=backend,
            base_url=(host or "").strip(),
            api_key=password or "",
            model=str(extra.get("model") or ""),
            max_tokens=extra_number(extra, "max_tokens", int, 4096),
            timeout=extra_number(extra, "timeout", float, 60.0),
            max_retries=extra_number(extra, "max_retries", int, 2),
            budget_tokens=extra_number(extra, "budget_tokens", int, None),
            budget_usd=extra_number(extra, "budget_usd", float, None),
            prices=_prices(extra.get("prices")),
            candidates=extra_number(extra, "candidates", int, 1),
            max_prompt_chars=extra_number(extra, "max_prompt_chars", int, 24_000),
            options={
                k: extra[k]
                for k in ("repository", "ref", "max_polls", "poll_interval")
                if extra.get(k) not in (None, "")
            },
        )

    def build_backend(
        self, *, timeout: float | None = None, max_retries: int | None = None, transport: Any = None, sleep: Any = None
    ):
        return build_backend(
            self.backend,
            base_url=self.base_url,
            api_key=self.api_key,
            model=self.model,
            timeout=self.timeout if timeout is None else timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
            transport=transport,
            sleep=sleep,
            options=self.options,
        )

    def budget(self) -> Budget:
        """A fresh budget: one per incident."""
        return Budget(max_tokens=self.budget_tokens, max_cost_usd=self.budget_usd, prices=dict(self.prices))

    def proposer(self, *, transport: Any = None, sleep: Any = None):
        """The engine's LLMProposer: what the remediation DAG and `patchit remediate` hand over."""
        from patchit_provider.engine.llm.propose import LLMProposer

        return LLMProposer(
            self.build_backend(transport=transport, sleep=sleep),
            self.budget,
            candidates=self.candidates,
            max_chars=self.max_prompt_chars,
        )

    def reader(self, *, transport: Any = None, sleep: Any = None):
        """The engine's ModelReader: what reads a failure the catalogs left unknown (stage `read`)."""
        from patchit_provider.engine.llm.reading import ModelReader

        return ModelReader(self.build_backend(transport=transport, sleep=sleep), self.budget)


class PatchitLLMHook(BaseHook):
    conn_name_attr = "llm_conn_id"
    default_conn_name = "patchit_llm"
    conn_type = "patchit_llm"
    hook_name = "PATCHIT LLM"

    def __init__(self, llm_conn_id: str = default_conn_name, *, transport: Any = None, sleep: Any = None) -> None:
        super().__init__()
        self.llm_conn_id = llm_conn_id
        self._transport = transport  # httpx.MockTransport in tests
        self._sleep = sleep
        self._config: LLMConnectionConfig | None = None

    def get_config(self) -> LLMConnectionConfig:
        if self._config is None:
            conn = self.get_connection(self.llm_conn_id)
            self._config = LLMConnectionConfig.from_connection(conn.host, conn.password, conn.extra_dejson)
        return self._config

    def get_backend(self, *, timeout: float | None = None, max_retries: int | None = None):
        return self.get_config().build_backend(
            timeout=timeout, max_retries=max_retries, transport=self._transport, sleep=self._sleep
        )

    def get_budget(self) -> Budget:
        """A fresh budget: one per incident."""
        return self.get_config().budget()

    def get_proposer(self):
        """The engine's LLMProposer for this connection (what the remediation DAG hands over)."""
        return self.get_config().proposer(transport=self._transport, sleep=self._sleep)

    def get_reader(self):
        """The engine's ModelReader for this connection (the remediation DAG's `read` stage)."""
        return self.get_config().reader(transport=self._transport, sleep=self._sleep)

    def test_connection(self) -> tuple[bool, str]:
        """A cheap real call (model list / key info) with a short timeout and no retries."""
        try:
            backend = self.get_backend(timeout=TEST_TIMEOUT, max_retries=0)
            note = backend.check()
        except (LLMError, ValueError) as exc:
            return False, str(exc)
        except Exception as exc:  # the UI shows the message; never a stack trace
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"{backend.name}: {note}"


def _prices(value: Any) -> Prices:
    if value in (None, "", {}):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"extra 'prices' must be a JSON object: {exc}") from exc
    try:
        return {str(model): (float(pair[0]), float(pair[1])) for model, pair in dict(value).items()}
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise ValueError("extra 'prices' must map model names to [usd_in, usd_out] per 1M tokens") from exc
