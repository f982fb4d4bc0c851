"""OpenAI's chat completions API, which OpenAI, Groq, OpenRouter, vLLM, Ollama, LM Studio and
most gateways speak: `POST {base_url}/chat/completions` with `Authorization: Bearer <key>`.

`base_url` includes the version prefix, as in the vendors' docs (https://api.openai.com/v1,
https://api.groq.com/openai/v1, http://localhost:11434/v1). `max_tokens` is sent because every
compatible server accepts it (OpenAI's reasoning models excepted: see REASONING_MODEL); the
answer is `choices[0].message.content`, the usage `usage.prompt_tokens` / `completion_tokens`.
"""

from __future__ import annotations

import re
from typing import Any

from patchit_provider.engine.llm.base import LLMAnswer, LLMAnswerError, LLMRequest, vendor_answer
from patchit_provider.engine.llm.http import HttpConfig, send

# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...) take `max_completion_tokens` instead.
REASONING_MODEL = re.compile(r"^(?:openai/)?(?:o\d|gpt-5)")


class OpenAICompatBackend:
    name = "openai"

    def __init__(self, config: HttpConfig, model: str) -> None:
        self.config = config
        self.model = model

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:  # local servers (Ollama, LM Studio) need none
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def complete(self, request: LLMRequest) -> LLMAnswer:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.prompt},
            ],
            "stream": False,
        }
        if REASONING_MODEL.match(self.model):  # they reject max_tokens and a non-default temperature
            body["max_completion_tokens"] = request.max_tokens
        else:
            body["max_tokens"] = request.max_tokens
            body["temperature"] = request.temperature
        with self.config.client(self._headers()) as client:
            data = send(self.config, client, "POST", "/chat/completions", json_body=body, what="chat/completions")
        return self.parse(data)

    def parse(self, data: Any) -> LLMAnswer:
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMAnswerError(
                f"chat/completions answer without choices[0].message.content: {str(data)[:200]}"
            ) from exc
        if not isinstance(content, str) or not content.strip():
            reason = choice.get("finish_reason") if isinstance(choice, dict) else None
            raise LLMAnswerError(f"chat/completions answer has no text (finish_reason={reason!r})")
        return vendor_answer(self, data, content, input_tokens="prompt_tokens", output_tokens="completion_tokens")

    def check(self) -> str:
        """`GET /models`: free, and it proves the base URL and (on OpenAI) the key."""
        with self.config.client(self._headers()) as client:
            data = send(self.config, client, "GET", "/models", what="GET /models")
        ids = [m.get("id") for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
        if ids and self.model not in ids:
            return f"reachable, but model {self.model!r} is not listed ({len(ids)} models offered)"
        return f"reachable; model {self.model!r} {'listed' if ids else 'not checked (no model list)'}"
