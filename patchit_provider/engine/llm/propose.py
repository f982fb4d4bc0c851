"""Patch proposals from a model: prompt, call, parse, and the canonical diff of each candidate.

This stage proposes only. It applies edits in memory (never to disk) because the canonical diff
is regenerated from the edited text by `patching.diff.make_diff`; policy and validation are
later stages. Candidate 1 asks at temperature 0; further candidates at `CANDIDATE_TEMPERATURE`
so they can differ; identical diffs are kept once. A candidate whose answer is malformed or whose
edits do not apply is dropped with its reason logged; when none survives, `LLMAnswerError`
carries every reason, for the incident's audit trail. Budget errors and transport errors after
the first candidate stop the loop but keep the candidates already made.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from patchit_provider.engine.llm.answer import extract_rationale, parse_edits
from patchit_provider.engine.llm.base import LLMAnswerError, LLMBackend, LLMError, LLMRequest
from patchit_provider.engine.llm.budget import Budget
from patchit_provider.engine.llm.prompt import DEFAULT_MAX_CHARS, DEFAULT_MAX_TOKENS, PROMPT_VERSION, build_prompt
from patchit_provider.engine.models import Evidence, PatchProposal, Triage
from patchit_provider.engine.patching.diff import DiffError, make_diff
from patchit_provider.engine.patching.edits import EditError, apply_edits
from patchit_provider.engine.taxonomy import patch_forbidden

log = logging.getLogger(__name__)

CANDIDATE_TEMPERATURE = 0.7
MAX_CANDIDATES = 5


def propose_with_llm(
    evidence: Evidence,
    triage: Triage,
    repo_root: Path,
    backend: LLMBackend,
    *,
    candidates: int = 1,
    budget: Budget,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> list[PatchProposal]:
    """Up to `candidates` distinct proposals (never applied to disk, never validated).

    Returns [] without any call for categories that may never be patched (data.*, infra.*,
    config.missing): a model must not be paid to hide them.
    """
    if patch_forbidden(triage.category):
        return []
    root = Path(repo_root)
    request = build_prompt(evidence, triage, root, max_chars=max_chars, max_tokens=max_tokens)
    proposals: list[PatchProposal] = []
    failures: list[str] = []
    for index in range(max(1, min(candidates, MAX_CANDIDATES))):
        attempt = request if index == 0 else _with_temperature(request, CANDIDATE_TEMPERATURE)
        try:
            budget.check(attempt, backend.model)
            answer = backend.complete(attempt)
        except LLMAnswerError as exc:
            failures.append(f"candidate {index + 1}: {exc}")
            continue
        except LLMError:
            if proposals or failures:  # keep what earlier candidates produced
                # Type only: task logs are readable by every reader of the remediation DAG.
                log.warning("LLM candidate %d not requested (%s)", index + 1, type(sys.exc_info()[1]).__name__)
                break
            raise
        budget.record(answer)
        try:
            proposal = _proposal(answer.text, root, f"llm:{answer.backend}/{answer.model}")
        except LLMAnswerError as exc:
            failures.append(f"candidate {index + 1}: {exc}")
            # The reason may quote the answer (and through it the failure): it goes to the incident's
            # audit trail, behind PATCHIT's DAG checks, never to the task log.
            log.warning("LLM candidate %d dropped (%s)", index + 1, type(exc).__name__)
            continue
        if all(p.diff != proposal.diff for p in proposals):
            proposals.append(proposal)
    if not proposals:
        raise LLMAnswerError("no usable LLM patch: " + "; ".join(failures or ["no candidate"]))
    return proposals


def _proposal(text: str, root: Path, producer: str) -> PatchProposal:
    edits = parse_edits(text, root)
    try:
        contents = apply_edits(root, edits)
        diff = make_diff(root, contents)
    except (EditError, DiffError) as exc:
        raise LLMAnswerError(f"the answer's edits do not apply: {exc}") from exc
    return PatchProposal(
        producer=producer,
        edits=edits,
        diff=diff,
        files=sorted(contents),
        rationale=extract_rationale(text),
        prompt_version=PROMPT_VERSION,
    )


def _with_temperature(request: LLMRequest, temperature: float) -> LLMRequest:
    return replace(request, temperature=temperature)


class LLMProposer:
    """What the Remediator calls when no deterministic fixer applies: a backend, a fresh budget
    per incident, and the candidate count. Built by the Airflow hook or by a test."""

    def __init__(
        self,
        backend: LLMBackend,
        budget_factory: Callable[[], Budget],
        *,
        candidates: int = 1,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.backend = backend
        self.budget_factory = budget_factory
        self.candidates = candidates
        self.max_chars = max_chars

    def __call__(self, evidence: Evidence, triage: Triage, repo_root: Path) -> list[PatchProposal]:
        return propose_with_llm(
            evidence,
            triage,
            repo_root,
            self.backend,
            candidates=self.candidates,
            budget=self.budget_factory(),
            max_chars=self.max_chars,
        )
