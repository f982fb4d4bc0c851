"""Duration estimates: per member from its own figure, its history (p50/p90), or the spec's
`member_seconds`; per wave as members going through `max_concurrency` slots in plan order.

Pure functions: the Airflow adapter fetches task-instance durations and passes them in as
`duration_history`. Estimates are whole seconds rounded up, so the plan's figures are integers
and its formulas exact.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from patchit_provider.engine.models import RolloutSpec

PERCENTILES = {"p50": 0.5, "p90": 0.9}


def nearest_rank(samples: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: an observed value, the ceil(q x n)-th smallest."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def member_estimates(spec: RolloutSpec) -> tuple[dict[str, int | None], dict[str, str]]:
    """(member id -> estimated seconds or None when nothing is known, member id -> source).

    Precedence: the member's `seconds`; its pXX_seconds for the chosen percentile; the chosen
    percentile of its history (by id, then by task); its other percentile (source says so);
    the spec's `member_seconds`."""
    chosen = spec.duration_percentile
    other = "p50" if chosen == "p90" else "p90"
    q = PERCENTILES[chosen]
    seconds: dict[str, int | None] = {}
    source: dict[str, str] = {}
    for member in spec.members:
        history = spec.duration_history.get(member.id) or (
            spec.duration_history.get(member.task) if member.task else None
        )
        given = getattr(member, f"{chosen}_seconds")
        fallback = getattr(member, f"{other}_seconds")
        if member.seconds is not None:
            seconds[member.id], source[member.id] = math.ceil(member.seconds), "member"
        elif given is not None:
            seconds[member.id], source[member.id] = math.ceil(given), chosen
        elif history:
            seconds[member.id], source[member.id] = math.ceil(nearest_rank(history, q)), f"history {chosen}"
        elif fallback is not None:
            seconds[member.id], source[member.id] = math.ceil(fallback), f"{other} instead of {chosen}"
        elif spec.member_seconds is not None:
            seconds[member.id], source[member.id] = math.ceil(spec.member_seconds), "member_seconds"
        else:
            seconds[member.id], source[member.id] = None, "none"
    return seconds, source


def wave_seconds(durations: Sequence[int], max_concurrency: int) -> int:
    """Makespan of the members taken in order, each starting when one of `max_concurrency`
    slots frees. With equal durations d this is ceil(len / max_concurrency) x d."""
    slots = [0] * min(max_concurrency, max(len(durations), 1))
    for duration in durations:
        heapq.heappush(slots, heapq.heappop(slots) + duration)
    return max(slots)


def min_duration(waves: Sequence[int], bake_seconds: int) -> int:
    """Sum of the wave durations plus the bake time between consecutive waves."""
    return sum(waves) + bake_seconds * max(len(waves) - 1, 0)
