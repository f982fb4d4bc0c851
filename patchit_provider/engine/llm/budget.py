"""A per-incident spending cap on LLM calls, in tokens and in US dollars.

Checked before every call against a pessimistic estimate (the prompt at ~4 characters a token
plus the full `max_tokens` of answer), so a call that could overshoot is never started; updated
afterwards from the usage the vendor reports. Prices are USD per million tokens, per model,
configured by the operator: a stale built-in table would be worse than none, so a cost cap on a
model without a price refuses to run rather than count it as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from patchit_provider.engine.llm.base import LLMAnswer, LLMBudgetExceeded, LLMRequest

CHARS_PER_TOKEN = 4

# model name (exact, longest prefix, or "*") -> (USD per 1M input tokens, USD per 1M output tokens)
Prices = dict[str, tuple[float, float]]


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def price_of(prices: Prices, model: str) -> tuple[float, float] | None:
    if model in prices:
        return prices[model]
    prefixes = [key for key in prices if key != "*" and model.startswith(key)]
    if prefixes:
        return prices[max(prefixes, key=len)]
    return prices.get("*")


@dataclass
class Budget:
    """Limits for one incident (None: unlimited) and what has been spent so far."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    prices: Prices = field(default_factory=dict)
    tokens_used: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        price = price_of(self.prices, model)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000

    def check(self, request: LLMRequest, model: str) -> None:
        """Raise LLMBudgetExceeded unless the worst case of this call fits the budget."""
        input_tokens = estimate_tokens(request.system) + estimate_tokens(request.prompt)
        worst = input_tokens + request.max_tokens
        if self.max_tokens is not None and self.tokens_used + worst > self.max_tokens:
            raise LLMBudgetExceeded(
                f"token budget: {self.tokens_used} used + up to {worst} for this call > {self.max_tokens}"
            )
        if self.max_cost_usd is not None:
            cost = self.cost(model, input_tokens, request.max_tokens)
            if cost is None:
                raise LLMBudgetExceeded(f"cost budget set but no price configured for model {model!r}")
            if self.cost_usd + cost > self.max_cost_usd:
                raise LLMBudgetExceeded(
                    f"cost budget: ${self.cost_usd:.4f} spent + up to ${cost:.4f} for this call > ${self.max_cost_usd:.4f}"
                )

    def record(self, answer: LLMAnswer) -> None:
        """Add the usage the vendor reported for a finished call."""
        self.calls += 1
        self.tokens_used += answer.input_tokens + answer.output_tokens
        cost = self.cost(answer.model, answer.input_tokens, answer.output_tokens)
        if cost is not None:
            self.cost_usd += cost
