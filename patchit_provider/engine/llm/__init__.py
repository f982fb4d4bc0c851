"""LLM-assisted patch proposals: backends on httpx, bounded redacted prompts, strict answers.

Here: the backend protocol and errors, `Budget`, `build_backend`. The stage itself is
`llm.propose.propose_with_llm`; the prompt `llm.prompt.build_prompt`; the answer parser
`llm.answer.parse_edits` (kept out of this module so that building a backend stays light).
Nothing here imports Airflow.
"""

from patchit_provider.engine.llm.base import (
    LLMAnswer,
    LLMAnswerError,
    LLMAuthError,
    LLMBackend,
    LLMBudgetExceeded,
    LLMError,
    LLMRateLimited,
    LLMRequest,
)
from patchit_provider.engine.llm.budget import Budget
from patchit_provider.engine.llm.factory import BACKENDS, build_backend

__all__ = [
    "BACKENDS",
    "Budget",
    "LLMAnswer",
    "LLMAnswerError",
    "LLMAuthError",
    "LLMBackend",
    "LLMBudgetExceeded",
    "LLMError",
    "LLMRateLimited",
    "LLMRequest",
    "build_backend",
]
