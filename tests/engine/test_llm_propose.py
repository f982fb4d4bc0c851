"""propose_with_llm with a scripted backend that speaks the LLMBackend protocol."""

from __future__ import annotations

from pathlib import Path

import git
import httpx
import pytest

from patchit_provider.engine.llm import (
    Budget,
    LLMAnswer,
    LLMAnswerError,
    LLMBackend,
    LLMBudgetExceeded,
    LLMError,
    LLMRequest,
    build_backend,
)
from patchit_provider.engine.llm.budget import estimate_tokens
from patchit_provider.engine.llm.prompt import PROMPT_VERSION, build_prompt
from patchit_provider.engine.llm.propose import propose_with_llm
from patchit_provider.engine.models import Culprit, ErrorInfo, ErrorSummary, Evidence, Triage
from patchit_provider.engine.taxonomy import Category, Remediation

ORDERS = "def compute_total(prices):\n    total = sum(prices)\n    return totl * 2\n"
GOOD = "RATIONALE: typo.\nFILE: dags/orders.py\n<<<<<<< SEARCH\n    return totl * 2\n=======\n    return total * 2\n>>>>>>> REPLACE\n"
OTHER = "RATIONALE: other.\nFILE: dags/orders.py\n<<<<<<< SEARCH\n    return totl * 2\n=======\n    return sum(prices) * 2\n>>>>>>> REPLACE\n"
NOT_APPLYING = (
    "FILE: dags/orders.py\n<<<<<<< SEARCH\n    return nothing_like_this\n=======\n    return 1\n>>>>>>> REPLACE\n"
)


class ScriptedBackend:
    name = "scripted"
    model = "m-1"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMAnswer:
        self.requests.append(request)
        item = self.answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return LLMAnswer(text=item, model=self.model, backend=self.name, input_tokens=100, output_tokens=50)

    def check(self) -> str:
        return "ok"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "orders.py").write_text(ORDERS)
    repo = git.Repo.init(tmp_path)
    repo.index.add(["dags/orders.py"])
    repo.index.commit("init")
    return tmp_path


EVIDENCE = Evidence(event_id="e1", error=ErrorInfo(type="NameError", message="name 'totl' is not defined"))


def triage(category: Category = Category.CODE_ERROR) -> Triage:
    return Triage(
        category=category,
        remediation=Remediation.PATCH,
        fingerprint="fp",
        summary="NameError",
        error=ErrorSummary(type="NameError", message="name 'totl' is not defined"),
        culprit=Culprit(path="dags/orders.py", line=3),
        confidence=0.9,
    )


def test_good_answer_becomes_a_proposal_with_canonical_diff(repo):
    backend = ScriptedBackend(GOOD)
    assert isinstance(backend, LLMBackend)
    budget = Budget()
    [proposal] = propose_with_llm(EVIDENCE, triage(), repo, backend, budget=budget)
    assert proposal.producer == "llm:scripted/m-1" and proposal.prompt_version == PROMPT_VERSION
    assert proposal.files == ["dags/orders.py"] and proposal.rationale == "typo."
    assert proposal.diff.startswith("diff --git a/dags/orders.py b/dags/orders.py")
    assert "-    return totl * 2\n+    return total * 2\n" in proposal.diff
    assert (repo / "dags" / "orders.py").read_text() == ORDERS  # nothing written
    assert budget.tokens_used == 150 and budget.calls == 1
    assert backend.requests[0].temperature == 0.0


def test_several_candidates_are_distinct_and_later_ones_sample(repo):
    backend = ScriptedBackend(GOOD, GOOD, OTHER)
    proposals = propose_with_llm(EVIDENCE, triage(), repo, backend, candidates=3, budget=Budget())
    assert [p.rationale for p in proposals] == ["typo.", "other."]  # the duplicate is kept once
    assert [r.temperature for r in backend.requests] == [0.0, 0.7, 0.7]


def test_bad_candidates_are_dropped_and_good_ones_kept(repo):
    backend = ScriptedBackend("I would rename it.", NOT_APPLYING, GOOD)
    [proposal] = propose_with_llm(EVIDENCE, triage(), repo, backend, candidates=3, budget=Budget())
    assert proposal.rationale == "typo."


def test_no_usable_candidate_raises_with_every_reason(repo):
    backend = ScriptedBackend("Just prose.", NOT_APPLYING)
    with pytest.raises(LLMAnswerError) as info:
        propose_with_llm(EVIDENCE, triage(), repo, backend, candidates=2, budget=Budget())
    message = str(info.value)
    assert (
        "candidate 1: the answer holds neither" in message and "candidate 2: the answer's edits do not apply" in message
    )


def test_edit_outside_the_repo_is_an_answer_error(repo):
    backend = ScriptedBackend("FILE: ../x.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    with pytest.raises(LLMAnswerError, match="outside the repository"):
        propose_with_llm(EVIDENCE, triage(), repo, backend, budget=Budget())


def test_never_patch_categories_make_no_call(repo):
    backend = ScriptedBackend()
    for category in (Category.INFRA_NETWORK, Category.DATA_QUALITY, Category.CONFIG_MISSING):
        assert propose_with_llm(EVIDENCE, triage(category), repo, backend, budget=Budget()) == []
    assert backend.requests == []


def test_budget_refuses_before_the_first_call(repo):
    backend = ScriptedBackend(GOOD)
    with pytest.raises(LLMBudgetExceeded):
        propose_with_llm(EVIDENCE, triage(), repo, backend, budget=Budget(max_tokens=100))
    assert backend.requests == []


def test_budget_stops_later_candidates_but_keeps_earlier_ones(repo):
    request = build_prompt(EVIDENCE, triage(), repo)
    worst = estimate_tokens(request.system) + estimate_tokens(request.prompt) + request.max_tokens
    backend = ScriptedBackend(GOOD, OTHER)
    budget = Budget(max_tokens=worst + 100)  # the first call fits; after its 150 tokens the next cannot
    proposals = propose_with_llm(EVIDENCE, triage(), repo, backend, candidates=2, budget=budget)
    assert len(proposals) == 1 and len(backend.requests) == 1 and budget.tokens_used == 150


def test_transport_error_on_first_call_propagates(repo):
    with pytest.raises(LLMError, match="down"):
        propose_with_llm(EVIDENCE, triage(), repo, ScriptedBackend(LLMError("down")), budget=Budget())


def test_end_to_end_with_the_inhouse_backend_returning_a_diff(repo):
    diff = "--- a/dags/orders.py\n+++ b/dags/orders.py\n@@ -2,2 +2,2 @@\n     total = sum(prices)\n-    return totl * 2\n+    return total * 2\n"
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"diff": diff, "model": "patchit-coder-7b"})

    backend = build_backend("inhouse", base_url="http://llm.internal", transport=httpx.MockTransport(handler))
    [proposal] = propose_with_llm(EVIDENCE, triage(), repo, backend, budget=Budget())
    assert proposal.producer == "llm:inhouse/patchit-coder-7b"
    assert "+    return total * 2\n" in proposal.diff and seen[0].url.path == "/v1/propose_patch"
