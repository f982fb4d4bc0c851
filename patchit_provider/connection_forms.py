"""Connection forms of PATCHIT's connection types, for `get_provider_info()["connection-types"]`.

Plain data with no Airflow import: provider discovery may call get_provider_info while
`airflow.sdk` is still loading, so the hook modules (which import it) cannot be imported there.
"""

from __future__ import annotations

from typing import Any

from patchit_provider.engine.llm.base import BACKENDS


def _field(label: str, kind: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


def connection_types() -> list[dict[str, Any]]:
    return [llm_connection_type(), github_connection_type()]


def llm_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "patchit_provider.hooks.llm.PatchitLLMHook",
        "connection-type": "patchit_llm",
        "hook-name": "PATCHIT LLM",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "login"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {
                "host": "https://api.openai.com/v1 (empty: the backend's default)",
                "password": "API key (empty for local servers such as Ollama)",
                "model": "gpt-4o-mini, claude-sonnet-4-5, llama3.1 ...",
                "prices": '{"gpt-4o-mini": [0.15, 0.6]}',
                "repository": "https://github.com/acme/pipelines",
            },
        },
        "conn-fields": {
            "backend": _field(
                "Backend",
                "string",
                "openai: any OpenAI-compatible chat completions server (OpenAI, Groq, OpenRouter, vLLM, "
                "Ollama, LM Studio, gateways); anthropic: Messages API; inhouse: POST /v1/propose_patch; "
                "cursor: Cursor Cloud Agents.",
                default="openai",
                enum=list(BACKENDS),
            ),
            "model": _field("Model", "string", "Model name as the vendor spells it (optional for inhouse and cursor)."),
            "max_tokens": _field(
                "Max answer tokens", "integer", "Upper bound on the tokens of one answer.", default=4096, minimum=1
            ),
            "timeout": _field(
                "Timeout (s)", "number", "Timeout of every HTTP call, in seconds.", default=60, minimum=1
            ),
            "max_retries": _field(
                "Max retries",
                "integer",
                "Retries on 429/5xx/529 and connection errors, honouring Retry-After.",
                default=2,
                minimum=0,
            ),
            "budget_tokens": _field(
                "Token budget per incident",
                "integer",
                "Input plus output tokens one incident may use; empty: unlimited.",
                minimum=1,
            ),
            "budget_usd": _field(
                "Cost budget per incident (USD)",
                "number",
                "Needs a price for the model in 'prices'; empty: unlimited.",
                minimum=0,
            ),
            "prices": _field(
                "Prices (JSON)",
                "string",
                'USD per million tokens, per model name or prefix ("*" for any): {"model": [input, output]}.',
            ),
            "candidates": _field(
                "Candidates",
                "integer",
                "Patches asked for per incident; each is validated and the best chosen.",
                default=1,
                minimum=1,
                maximum=5,
            ),
            "max_prompt_chars": _field(
                "Max prompt characters", "integer", "Bound on the prompt's context.", default=24000, minimum=2000
            ),
            "repository": _field("Repository (cursor)", "string", "GitHub repository URL the Cursor agent works on."),
            "ref": _field(
                "Ref (cursor)", "string", "Branch, tag or commit the Cursor agent starts from.", default="main"
            ),
        },
    }


def github_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "patchit_provider.hooks.github.PatchitGitHubHook",
        "connection-type": "patchit_github",
        "hook-name": "PATCHIT GitHub",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "login"],
            "relabeling": {"host": "API URL", "password": "Token"},
            "placeholders": {
                "host": "https://api.github.com (GitHub Enterprise: https://HOST/api/v3)",
                "password": "github_pat_... (Contents and Pull requests: read and write)",
                "repository": "acme/pipelines",
                "base_branch": "main (empty: the repository's default branch)",
                "labels": "patchit, automated",
                "incident_url": "https://airflow.example.com/patchit/incidents/{incident_id}",
            },
        },
        "conn-fields": {
            "repository": _field(
                "Repository", "string", "The repository PATCHIT opens pull requests on, as owner/name."
            ),
            "base_branch": _field(
                "Base branch", "string", "Branch the pull requests target; empty: the repository's default branch."
            ),
            "labels": _field(
                "Labels",
                "string",
                "Comma-separated labels for new pull requests; the failure category is added.",
                default="patchit",
            ),
            "incident_url": _field(
                "Incident URL",
                "string",
                "Link template to an incident in PATCHIT's UI, with {incident_id}; used in comments.",
            ),
            "timeout": _field(
                "Timeout (s)", "number", "Timeout of every HTTP call, in seconds.", default=30, minimum=1
            ),
            "max_retries": _field(
                "Max retries",
                "integer",
                "Retries on 5xx and rate limits, honouring Retry-After and x-ratelimit-reset.",
                default=3,
                minimum=0,
            ),
        },
    }
