"""Cursor's Cloud Agents API (v0, the one the original PATCHIT used), at https://api.cursor.com:

1. `POST /v0/agents` {"prompt": {"text"}, "source": {"repository", "ref"}, "model"?, "target":
   {"autoCreatePr": false}} -> {"id", "status": "CREATING", ...}
2. `GET /v0/agents/{id}` until `status` is FINISHED (or ERROR / EXPIRED), at most `max_polls`
   times, `poll_interval` seconds apart; past that the agent is stopped
   (`POST /v0/agents/{id}/stop`) so it does not keep working, and billing, unseen.
3. `GET /v0/agents/{id}/conversation` -> {"messages": [{"type": "assistant_message", "text"}]}:
   the last assistant message is the answer, parsed like any other model's.

Authentication is HTTP Basic with the API key as user name. The agent works on a GitHub
repository (`repository`, `ref`), so this backend needs them; it reports no token usage.
"""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import quote

from patchit_provider.engine.llm.base import LLMAnswer, LLMAnswerError, LLMError, LLMRequest
from patchit_provider.engine.llm.http import HttpConfig, send

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.cursor.com"
DONE = "FINISHED"
FAILED = frozenset({"ERROR", "EXPIRED", "STOPPED"})


class CursorBackend:
    name = "cursor"

    def __init__(
        self,
        config: HttpConfig,
        model: str = "",
        *,
        repository: str,
        ref: str = "main",
        max_polls: int = 60,
        poll_interval: float = 10.0,
    ) -> None:
        if not repository:
            raise ValueError("the cursor backend needs the GitHub repository URL the agent works on")
        self.config = config
        self.model = model or "auto"
        self.repository = repository
        self.ref = ref
        self.max_polls = max_polls
        self.poll_interval = poll_interval

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.config.api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}

    def complete(self, request: LLMRequest) -> LLMAnswer:
        body: dict[str, Any] = {
            "prompt": {"text": f"{request.system}\n\n{request.prompt}"},
            "source": {"repository": self.repository, "ref": self.ref},
            "target": {"autoCreatePr": False},
        }
        if self.model != "auto":
            body["model"] = self.model
        with self.config.client(self._headers()) as client:
            launched = send(self.config, client, "POST", "/v0/agents", json_body=body, what="POST /v0/agents")
            agent_id = launched.get("id") if isinstance(launched, dict) else None
            if not isinstance(agent_id, str) or not agent_id:
                raise LLMAnswerError(f"POST /v0/agents answer has no agent id: {str(launched)[:200]}")
            path = f"/v0/agents/{quote(agent_id, safe='')}"
            status = self._wait(client, path, agent_id)
            if status != DONE:
                raise LLMError(f"cursor agent {agent_id} ended with status {status}")
            conversation = send(
                self.config, client, "GET", f"{path}/conversation", what="GET /v0/agents/{id}/conversation"
            )
        return LLMAnswer(text=self._last_answer(conversation, agent_id), model=self.model, backend=self.name)

    def _wait(self, client: Any, path: str, agent_id: str) -> str:
        for poll in range(self.max_polls):
            agent = send(self.config, client, "GET", path, what="GET /v0/agents/{id}")
            status = agent.get("status") if isinstance(agent, dict) else None
            if not isinstance(status, str):
                raise LLMAnswerError(f"GET /v0/agents/{agent_id} answer has no status: {str(agent)[:200]}")
            if status == DONE or status in FAILED:
                return status
            if poll < self.max_polls - 1:
                self.config.sleep(self.poll_interval)
        try:
            send(self.config, client, "POST", f"{path}/stop", what="POST /v0/agents/{id}/stop")
        except LLMError as exc:  # best effort: the timeout below is the error that matters
            log.warning("could not stop cursor agent %s: %s", agent_id, exc)
        raise LLMError(f"cursor agent {agent_id} not finished after {self.max_polls} polls; stopped it")

    @staticmethod
    def _last_answer(conversation: Any, agent_id: str) -> str:
        messages = conversation.get("messages") if isinstance(conversation, dict) else None
        if not isinstance(messages, list):
            raise LLMAnswerError(f"conversation of cursor agent {agent_id} has no messages list")
        texts: list[str] = [
            m["text"]
            for m in messages
            if isinstance(m, dict)
            and m.get("type") == "assistant_message"
            and isinstance(m.get("text"), str)
            and m["text"].strip()
        ]
        if not texts:
            raise LLMAnswerError(f"cursor agent {agent_id} finished without an assistant message")
        return texts[-1]

    def check(self) -> str:
        """`GET /v0/me`: free, and proves the key."""
        with self.config.client(self._headers()) as client:
            data = send(self.config, client, "GET", "/v0/me", what="GET /v0/me")
        name = data.get("apiKeyName") if isinstance(data, dict) else None
        return f"API key {name!r} valid" if name else "API key valid"
