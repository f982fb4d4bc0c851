"""The per-incident budget: checked before a call on the worst case, updated from reported usage."""

from __future__ import annotations

import pytest

from patchit_provider.engine.llm import Budget, LLMAnswer, LLMBudgetExceeded, LLMRequest
from patchit_provider.engine.llm.budget import price_of

REQ = LLMRequest(system="s" * 400, prompt="p" * 3600, max_tokens=1000)  # ~1002 input tokens + 1000 output


def answer(model: str = "gpt-4o", inp: int = 1000, out: int = 500) -> LLMAnswer:
    return LLMAnswer(text="x", model=model, backend="openai", input_tokens=inp, output_tokens=out)


def test_unlimited_budget_allows_and_counts():
    budget = Budget()
    budget.check(REQ, "gpt-4o")
    budget.record(answer())
    assert (budget.tokens_used, budget.calls, budget.cost_usd) == (1500, 1, 0.0)


def test_token_budget_refuses_a_call_whose_worst_case_does_not_fit():
    budget = Budget(max_tokens=2500)
    budget.check(REQ, "gpt-4o")  # 0 + ~2002 <= 2500
    budget.record(answer(inp=1000, out=500))
    with pytest.raises(LLMBudgetExceeded, match="token budget: 1500 used"):
        budget.check(REQ, "gpt-4o")


def test_cost_budget_uses_the_price_table_and_reported_usage():
    budget = Budget(max_cost_usd=0.021, prices={"gpt-4o": (2.5, 10.0)})
    budget.check(REQ, "gpt-4o")
    budget.record(answer("gpt-4o-2024-08-06", inp=1000, out=500))  # dated name matches by prefix
    assert budget.cost_usd == pytest.approx((1000 * 2.5 + 500 * 10.0) / 1e6)
    budget.check(REQ, "gpt-4o")  # 0.0075 + worst case ~0.0125 <= 0.021
    budget.record(answer(inp=1000, out=1000))
    with pytest.raises(LLMBudgetExceeded, match="cost budget"):
        budget.check(REQ, "gpt-4o")


def test_cost_budget_without_a_price_refuses_rather_than_counting_free():
    with pytest.raises(LLMBudgetExceeded, match="no price configured for model 'mystery'"):
        Budget(max_cost_usd=1.0, prices={"gpt-4o": (1, 1)}).check(REQ, "mystery")
    Budget(max_cost_usd=1.0, prices={"*": (0.0, 0.0)}).check(REQ, "llama3")  # local model: free by choice


def test_price_lookup_exact_then_longest_prefix_then_star():
    prices = {"claude": (1, 1), "claude-opus": (15, 75), "*": (3, 3), "claude-opus-4": (5, 25)}
    assert price_of(prices, "claude-opus-4") == (5, 25)
    assert price_of(prices, "claude-opus-3-x") == (15, 75)
    assert price_of(prices, "claude-haiku") == (1, 1)
    assert price_of(prices, "gpt") == (3, 3)
    assert price_of({}, "gpt") is None
