"""The deterministic planner: members ordered least critical first, cut into waves by sizes
given the way Ansible's `serial` takes them.

Sizes: an integer is a count; "P%" is P percent of ALL members, rounded down, at least 1. One
entry per wave; the last entry repeats until every member is placed; the final wave takes what
is left (it may be smaller than its entry). The planner never guesses: every figure of the plan
is computed by `validate.evaluate` from the explicit waves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from patchit_provider.engine.models import RolloutMember, RolloutPlan, RolloutSpec
from patchit_provider.engine.rollout import budget
from patchit_provider.engine.rollout.validate import evaluate, read_spec


def order_members(members: Sequence[RolloutMember]) -> list[str]:
    """Least critical first, ties by id: the canary risks the least."""
    return [m.id for m in sorted(members, key=lambda m: (m.criticality, m.id))]


def wave_sizes(total: int, entries: Sequence[int | str]) -> list[int]:
    """The size of each wave for `total` members (entries already checked: counts >= 1, 0 < P <= 100)."""
    sizes: list[int] = []
    left = total
    while left > 0:
        entry = entries[min(len(sizes), len(entries) - 1)]
        size = budget.count_of(entry, total, minimum=1)
        sizes.append(min(size, left))
        left -= sizes[-1]
    return sizes


def assign_waves(spec: RolloutSpec) -> list[list[str]]:
    ordered = order_members(spec.members)
    waves: list[list[str]] = []
    at = 0
    for size in wave_sizes(len(ordered), spec.waves):
        waves.append(ordered[at : at + size])
        at += size
    return waves


def plan_rollout(
    spec: RolloutSpec | Mapping[str, Any],
    *,
    now: datetime | None = None,
    policy_max_failures: int | None = None,
) -> RolloutPlan:
    """A validated plan, version 1, from a spec or its raw JSON. An impossible spec gives a plan
    with `valid` false, no waves, and one sentence per problem; this never raises for bad input."""
    notes: list[str] = []
    if not isinstance(spec, RolloutSpec):
        parsed, problems, notes = read_spec(spec)
        if parsed is None:
            return RolloutPlan(valid=False, problems=problems, notes=notes)
        spec = parsed
    return evaluate(spec, assign_waves(spec), now=now, policy_max_failures=policy_max_failures, notes=notes)
