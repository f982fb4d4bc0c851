"""The original PATCHIT's in-house contract: `POST {base_url}/v1/propose_patch` answering
`{"diff": "..."}` or `{"patch": "..."}` (optionally with "model", "rationale" and
"usage": {"input_tokens", "output_tokens"}). The answer text is the diff or patch as given; the
answer parser turns either form into search/replace edits.

Request body: {"model", "prompt_version", "system", "prompt", "max_tokens", "temperature"}.
"""

from __future__ import annotations

from typing import Any

from patchit_provider.engine.llm.base import (
    LLMAnswer,
    LLMAnswerError,
    LLMAuthError,
    LLMError,
    LLMRequest,
    vendor_answer,
)
from patchit_provider.engine.llm.http import HttpConfig, send


class InHouseBackend:
    name = "inhouse"

    def __init__(self, config: HttpConfig, model: str = "inhouse") -> None:
        self.config = config
        self.model = model or "inhouse"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def complete(self, request: LLMRequest) -> LLMAnswer:
        body = {
            "model": self.model,
            "prompt_version": request.prompt_version,
            "system": request.system,
            "prompt": request.prompt,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        with self.config.client(self._headers()) as client:
            data = send(self.config, client, "POST", "/v1/propose_patch", json_body=body, what="POST /v1/propose_patch")
        return self.parse(data)

    def parse(self, data: Any) -> LLMAnswer:
        if not isinstance(data, dict):
            raise LLMAnswerError(f"/v1/propose_patch answer is not an object: {str(data)[:200]}")
        text = data.get("diff") if data.get("diff") is not None else data.get("patch")
        if not isinstance(text, str) or not text.strip():
            raise LLMAnswerError('/v1/propose_patch answer has no non-empty "diff" or "patch" string')
        rationale = data.get("rationale")
        if isinstance(rationale, str) and rationale.strip():
            text = f"RATIONALE: {rationale.strip()}\n{text}"
        return vendor_answer(self, data, text, input_tokens="input_tokens", output_tokens="output_tokens")

    def check(self) -> str:
        """The contract has no check endpoint: prove the server answers and accepts the key."""
        with self.config.client(self._headers()) as client:
            try:
                send(self.config, client, "GET", "/", what="GET /")
            except LLMAuthError:
                raise
            except LLMAnswerError:  # a 2xx page that is not JSON: a live server that took the key
                pass
            except LLMError as exc:  # 404/405 on "/" is fine; transport failures and 5xx are not
                if exc.status is None or exc.status >= 500:
                    raise
        return "reachable (the in-house contract has no check endpoint)"
