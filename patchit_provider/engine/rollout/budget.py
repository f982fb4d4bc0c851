"""The error budget and the worst case, as the trusted systems define them.

Sizes and budgets are a count or "P%" of all members, rounded down (Ansible's `serial` and
`max_fail_percentage`, AWS SSM's `MaxErrors`). Percentages are exact fractions, never floats:
10% of 30 members is 3, not 2.9999. The stop rule is SSM's: a rollout stops as soon as the
failures counted across all waves STRICTLY exceed the budget.
"""

from __future__ import annotations

from fractions import Fraction


def is_percent(value: int | str) -> bool:
    return isinstance(value, str)


def percent(value: str) -> Fraction:
    """ "12.5%" -> Fraction(25, 2). The pattern is checked by the contract."""
    return Fraction(value.strip().rstrip("%").strip())


def count_of(value: int | str, total: int, *, minimum: int) -> int:
    """A count as given, or floor(total x P / 100) with `minimum` as the floor."""
    if isinstance(value, str):
        return max(minimum, int(total * percent(value) / 100))
    return value


def max_errors_count(value: int | str, total: int) -> int:
    """The budget as a count: a percentage rounds down and may be 0 (stop at the first failure)."""
    return count_of(value, total, minimum=0)


def worst_case_failures(max_errors: int, max_concurrency: int, members: int) -> int:
    """Failures that can happen before a stop is seen: the budget, plus what was already in
    flight when the failure that exceeds it arrived, never more than there are members."""
    return min(max_errors + max_concurrency, members)


def budget_exceeded(failures: int, max_errors: int) -> bool:
    """The stop rule: cumulative failures strictly above the budget."""
    return failures > max_errors
