"""Properties of the deterministic planner, for any members, waves, budget, concurrency and
window: the semantics of ../shared/cli-contract.md (`patchit rollout plan`), checked against
oracles written here from the contract's words, not from the planner's code."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchit_provider.engine.models import (
    MoveMember,
    ResizeWave,
    SetMaxConcurrency,
    SetMaxErrors,
)
from patchit_provider.engine.rollout import PlanEditError, apply_edits, plan_rollout

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
members_st = st.lists(
    st.fixed_dictionaries({"id": ids, "criticality": st.integers(0, 5)}),
    min_size=1,
    max_size=60,
    unique_by=lambda m: m["id"],
)
percent_st = st.one_of(
    st.integers(1, 100).map(lambda p: f"{p}%"),
    st.decimals(Decimal("0.1"), Decimal(100), places=1).map(lambda p: f"{p}%"),
)
wave_entry = st.one_of(st.integers(1, 80), percent_st)
budget_st = st.one_of(st.integers(0, 80), st.integers(0, 100).map(lambda p: f"{p}%"))


def entry_size(entry, total: int) -> int:
    """The contract: a count as is; "P%" of all members rounded down, at least 1."""
    if isinstance(entry, int):
        return entry
    return max(1, math.floor(Decimal(total) * Decimal(entry[:-1]) / 100))


def budget_count(value, total: int) -> int:
    return value if isinstance(value, int) else math.floor(Decimal(total) * Decimal(value[:-1]) / 100)


@FAST
@given(
    members=members_st,
    waves=st.lists(wave_entry, min_size=1, max_size=5),
    max_errors=budget_st,
    concurrency=st.integers(1, 10),
    member_seconds=st.integers(0, 900),
    bake=st.integers(0, 900),
)
def test_waves_budget_and_duration_follow_the_contract(members, waves, max_errors, concurrency, member_seconds, bake):
    spec = {
        "members": members,
        "waves": waves,
        "max_errors": max_errors,
        "max_concurrency": concurrency,
        "member_seconds": member_seconds,
        "bake_seconds": bake,
    }
    plan = plan_rollout(spec, now=NOW)
    assert plan.valid, plan.problems
    total = len(members)
    placed = [m for wave in plan.waves for m in wave.members]
    # every member in exactly one wave, least critical first, ties by id
    assert sorted(placed) == sorted(m["id"] for m in members)
    assert len(placed) == len(set(placed))
    assert placed == [m["id"] for m in sorted(members, key=lambda m: (m["criticality"], m["id"]))]
    # sizes: entry k (the last one repeating); the final wave takes what is left
    sizes = [len(w.members) for w in plan.waves]
    for k, size in enumerate(sizes):
        expected = entry_size(waves[min(k, len(waves) - 1)], total)
        if k < len(sizes) - 1:
            assert size == expected
        else:
            assert 1 <= size <= expected
    assert [w.index for w in plan.waves] == list(range(len(sizes)))
    # budget, worst case, minimum duration
    assert plan.max_errors == budget_count(max_errors, total)
    assert plan.worst_case_failures == min(plan.max_errors + concurrency, total)
    assert plan.min_duration_seconds == sum(math.ceil(s / concurrency) * member_seconds for s in sizes) + bake * (
        len(sizes) - 1
    )
    # without windows the schedule is the minimum duration, wave after wave
    assert plan.finish_at - plan.start_at == timedelta(seconds=plan.min_duration_seconds)


def nearest_rank(samples, q):
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@FAST
@given(
    histories=st.lists(st.lists(st.integers(1, 3600), min_size=1, max_size=12), min_size=1, max_size=20),
    percentile=st.sampled_from(["p50", "p90"]),
    concurrency=st.integers(1, 6),
    waves=st.lists(wave_entry, min_size=1, max_size=3),
)
def test_history_estimates_feed_the_wave_durations(histories, percentile, concurrency, waves):
    members = [{"id": f"m{i:03d}", "task": f"dag.t{i % 3}"} for i in range(len(histories))]
    # histories keyed by member id for even members, by task for the others (the task's samples)
    history = {f"m{i:03d}": h for i, h in enumerate(histories) if i % 2 == 0}
    for i, h in enumerate(histories):
        if i % 2:
            history.setdefault(f"dag.t{i % 3}", h)
    spec = {
        "members": members,
        "waves": waves,
        "max_concurrency": concurrency,
        "duration_history": history,
        "duration_percentile": percentile,
    }
    plan = plan_rollout(spec, now=NOW)
    assert plan.valid, plan.problems
    q = {"p50": 0.5, "p90": 0.9}[percentile]
    for m in members:
        samples = history.get(m["id"]) or history.get(m["task"])
        expected = nearest_rank(samples, q) if samples else 0
        assert plan.member_seconds[m["id"]] == expected
    for wave in plan.waves:
        d = [plan.member_seconds[m] for m in wave.members]
        # members through `concurrency` slots: never shorter than the longest member or the
        # total spread over the slots, never longer than list scheduling's bound
        assert wave.seconds >= max(d) and wave.seconds >= math.ceil(sum(d) / concurrency)
        assert wave.seconds <= math.ceil(sum(d) / concurrency) + max(d)
        if len(set(d)) == 1:
            assert wave.seconds == math.ceil(len(d) / concurrency) * d[0]
    assert plan.min_duration_seconds == sum(w.seconds for w in plan.waves)


CORRUPTIONS = {
    "zero size": (lambda s: s["waves"].insert(0, 0), "waves[0]"),
    "over 100%": (lambda s: s["waves"].append("101%"), "waves["),
    "zero percent": (lambda s: s["waves"].insert(0, "0%"), "waves[0]"),
    "not a size": (lambda s: s["waves"].append("ten"), "waves["),
    "no concurrency": (lambda s: s.update(max_concurrency=0), "max_concurrency"),
    "negative bake": (lambda s: s.update(bake_seconds=-1), "bake_seconds"),
    "negative duration": (lambda s: s.update(member_seconds=-5), "member_seconds"),
    "budget over 100%": (lambda s: s.update(max_errors="150%"), "max_errors"),
    "negative budget": (lambda s: s.update(max_errors=-1), "max_errors"),
    "duplicate id": (lambda s: s["members"].append(dict(s["members"][0])), "unique"),
    "no members": (lambda s: s.update(members=[]), "no members"),
    "no waves": (lambda s: s.update(waves=[]), "waves"),
    "abort on success": (lambda s: s.update(gates=[{"on_success": "abort"}]), "gates[0].on_success"),
}


@FAST
@given(
    members=members_st,
    waves=st.lists(wave_entry, min_size=1, max_size=4),
    corruption=st.sampled_from(sorted(CORRUPTIONS)),
)
def test_an_impossible_spec_is_refused_with_a_reason(members, waves, corruption):
    spec = {"members": members, "waves": waves, "max_concurrency": 2, "member_seconds": 60}
    corrupt, needle = CORRUPTIONS[corruption]
    corrupt(spec)
    plan = plan_rollout(spec, now=NOW)
    assert not plan.valid
    assert plan.waves == []
    assert plan.problems and all(p.endswith(".") for p in plan.problems)
    assert any(needle in p for p in plan.problems), plan.problems


@FAST
@given(
    members=members_st,
    max_errors=st.integers(0, 20),
    concurrency=st.integers(1, 10),
    limit=st.integers(0, 25),
)
def test_worst_case_above_the_policy_limit_makes_the_plan_invalid(members, max_errors, concurrency, limit):
    spec = {
        "members": members,
        "waves": [1, "50%"],
        "max_errors": max_errors,
        "max_concurrency": concurrency,
        "member_seconds": 10,
        "policy_max_failures": limit,
    }
    plan = plan_rollout(spec, now=NOW)
    worst = min(max_errors + concurrency, len(members))
    assert plan.worst_case_failures == worst
    assert plan.valid == (worst <= limit)
    if not plan.valid:
        assert plan.waves == []
        assert any("policy limit" in p and str(limit) in p for p in plan.problems)


@FAST
@given(
    members=st.integers(1, 40),
    open_hour=st.integers(0, 23),
    length_hours=st.integers(1, 10),
    cutoff_minutes=st.integers(0, 50),
    member_minutes=st.integers(1, 30),
    concurrency=st.integers(1, 5),
    bake_minutes=st.integers(0, 120),
    waves=st.lists(wave_entry, min_size=1, max_size=3),
)
def test_every_wave_runs_inside_a_window_and_ends_before_its_cutoff(
    members, open_hour, length_hours, cutoff_minutes, member_minutes, concurrency, bake_minutes, waves
):
    spec = {
        "members": [{"id": f"d{i:02d}"} for i in range(members)],
        "waves": waves,
        "max_concurrency": concurrency,
        "member_seconds": member_minutes * 60,
        "bake_seconds": bake_minutes * 60,
        "windows": [
            {
                "daily_start": f"{open_hour:02d}:00",
                "daily_end": f"{(open_hour + length_hours) % 24:02d}:00",
                "cutoff_seconds": cutoff_minutes * 60,
            }
        ],
    }
    plan = plan_rollout(spec, now=NOW)
    capacity = timedelta(hours=length_hours, minutes=-cutoff_minutes)
    sizes, left = [], members
    while left:
        sizes.append(min(entry_size(waves[min(len(sizes), len(waves) - 1)], members), left))
        left -= sizes[-1]
    longest = max(math.ceil(size / concurrency) * member_minutes * 60 for size in sizes)
    # a wave that cannot finish before the cutoff never starts: a plan needing one is invalid
    assert plan.valid == (longest <= capacity.total_seconds()), plan.problems
    if not plan.valid:
        assert any("no maintenance window" in p for p in plan.problems), plan.problems
        return
    previous_end = None
    for wave, slot in zip(plan.waves, plan.schedule):
        opening = slot.start.replace(hour=open_hour, minute=0, second=0, microsecond=0)
        if opening > slot.start:
            opening -= timedelta(days=1)
        assert slot.start >= NOW
        assert slot.end - slot.start == timedelta(seconds=wave.seconds)
        assert slot.end <= opening + capacity, (slot, opening)
        if previous_end is not None:
            assert slot.start >= previous_end + timedelta(minutes=bake_minutes)
        previous_end = slot.end


edit_st = st.one_of(
    st.builds(lambda m, w: ("move", m, w), st.integers(0, 59), st.integers(0, 12)),
    st.builds(lambda w, s: ("resize", w, s), st.integers(0, 12), st.integers(1, 60)),
    st.builds(lambda e: ("errors", e), budget_st),
    st.builds(lambda c: ("concurrency", c), st.integers(1, 12)),
)


@FAST
@given(
    members=members_st,
    waves=st.lists(wave_entry, min_size=1, max_size=4),
    edits=st.lists(edit_st, min_size=1, max_size=4),
)
def test_edits_keep_the_invariants_or_are_refused_with_a_reason(members, waves, edits):
    spec = {
        "members": members,
        "waves": waves,
        "max_errors": 1,
        "max_concurrency": 2,
        "member_seconds": 60,
        "policy_max_failures": 6,
    }
    plan = plan_rollout(spec, now=NOW)
    assert plan.valid
    ids_ = [m["id"] for m in members]
    ops = []
    for edit in edits:
        if edit[0] == "move":
            ops.append(MoveMember(member=ids_[edit[1] % len(ids_)], to_wave=edit[2]))
        elif edit[0] == "resize":
            ops.append(ResizeWave(wave=edit[1], size=edit[2]))
        elif edit[0] == "errors":
            ops.append(SetMaxErrors(max_errors=edit[1]))
        else:
            ops.append(SetMaxConcurrency(max_concurrency=edit[1]))
    before = plan.model_dump()
    try:
        edited = apply_edits(plan, ops, by="alice")
    except PlanEditError as exc:
        assert len(str(exc)) > 10
        assert plan.model_dump() == before  # the plan edited is left as it was
        return
    assert edited.valid and edited.version == 2 and edited.parent_version == 1 and edited.edited_by == "alice"
    placed = [m for wave in edited.waves for m in wave.members]
    assert sorted(placed) == sorted(ids_) and all(wave.members for wave in edited.waves)
    assert edited.worst_case_failures <= 6
    assert edited.min_duration_seconds == sum(
        math.ceil(len(w.members) / edited.max_concurrency) * 60 for w in edited.waves
    )
