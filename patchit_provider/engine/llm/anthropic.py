"""Anthropic's Messages API: `POST {base_url}/v1/messages` with `x-api-key` and
`anthropic-version: 2023-06-01` headers, the system prompt in `system`, the answer in the
`text` blocks of `content`, usage in `usage.input_tokens` / `usage.output_tokens`.

Errors come as {"type": "error", "error": {"type": ..., "message": ...}}; 529
`overloaded_error` and 429 `rate_limit_error` are retried by the shared HTTP layer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from patchit_provider.engine.llm.base import LLMAnswer, LLMAnswerError, LLMRequest, vendor_answer
from patchit_provider.engine.llm.http import HttpConfig, send

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicBackend:
    name = "anthropic"

    def __init__(self, config: HttpConfig, model: str) -> None:
        self.config = config
        self.model = model

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self.config.api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
        }

    def complete(self, request: LLMRequest) -> LLMAnswer:
        body = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.prompt}],
            "temperature": request.temperature,
        }
        with self.config.client(self._headers()) as client:
            data = send(self.config, client, "POST", "/v1/messages", json_body=body, what="POST /v1/messages")
        return self.parse(data)

    def parse(self, data: Any) -> LLMAnswer:
        if not isinstance(data, dict) or data.get("type") != "message" or not isinstance(data.get("content"), list):
            raise LLMAnswerError(f"/v1/messages answer is not a message: {str(data)[:200]}")
        text = "".join(
            block.get("text", "")
            for block in data["content"]
            if isinstance(block, dict) and block.get("type") == "text"
        )
        if not text.strip():
            raise LLMAnswerError(f"/v1/messages answer has no text (stop_reason={data.get('stop_reason')!r})")
        return vendor_answer(self, data, text, input_tokens="input_tokens", output_tokens="output_tokens")

    def check(self) -> str:
        """`GET /v1/models/{model}`: free, and proves both the key and the model name."""
        with self.config.client(self._headers()) as client:
            data = send(
                self.config, client, "GET", f"/v1/models/{quote(self.model, safe='')}", what="GET /v1/models/{model}"
            )
        return f"model {data.get('id', self.model)!r} available" if isinstance(data, dict) else "reachable"
