"""PATCHIT's exception tree: `except PatchitError` catches everything PATCHIT raises on purpose.

Modelled on httpx's `HTTPError`: one root, a few families below it, and the specific classes
where they are raised (`StoreError` in engine/store, `LLMError` in engine/llm, `PublishError` in
engine/publishing, ...) re-parented onto these families. Each keeps its old builtin base too
(ValueError, LookupError, RuntimeError, PermissionError), so existing `except` clauses work.
Import-free apart from the standard library: every module may raise these.
"""

from __future__ import annotations


class PatchitError(Exception):
    """Anything PATCHIT raises on purpose."""


class NotFoundError(PatchitError, LookupError):
    """Something named by id (an incident, a rollout, a stage) does not exist. The one 'not found'."""


class LifecycleError(PatchitError):
    """An incident was asked to move to a state its lifecycle does not allow from where it is."""


class StagePreconditionError(PatchitError, RuntimeError):
    """A stage ran before what it needs exists (triage without evidence, publish without a repository)."""


class InputError(PatchitError, ValueError):
    """Input PATCHIT refuses (a malformed conf, report, diff, plan edit): the message says what is expected."""


class ApprovalMissing(PatchitError, PermissionError):
    """Publish refused: policy asked for a person's approval and it was not granted."""


class ExternalError(PatchitError, RuntimeError):
    """A tool or service PATCHIT calls (git, ruff, a webhook, the Airflow API) failed."""
