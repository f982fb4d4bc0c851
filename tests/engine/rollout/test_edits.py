"""Editing a plan: a new version each time, re-validated, naming who edited; an edit that breaks
an invariant is refused with a reason and changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from patchit_provider.engine.models import (
    ApprovalPoint,
    MoveMember,
    ResizeWave,
    SetApprovalPoints,
    SetBake,
    SetMaxConcurrency,
    SetMaxErrors,
)
from patchit_provider.engine.rollout import PlanEditError, apply_edits, plan_rollout
from patchit_provider.engine.rollout.edit import parse_edits

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def plan():
    members = [{"id": f"dag_{c}", "criticality": n} for n, c in enumerate("abcdefghij")]
    spec = {
        "members": members,
        "waves": [1, "30%"],
        "max_errors": 1,
        "max_concurrency": 2,
        "member_seconds": 60,
        "bake_seconds": 120,
        "policy_max_failures": 4,
    }
    result = plan_rollout(spec, now=NOW)
    assert [w.members for w in result.waves] == [
        ["dag_a"],
        ["dag_b", "dag_c", "dag_d"],
        ["dag_e", "dag_f", "dag_g"],
        ["dag_h", "dag_i", "dag_j"],
    ]
    return result


def members(plan):
    return [w.members for w in plan.waves]


def test_move_a_member_makes_version_2_by_the_editor(plan):
    plan = plan.model_copy(update={"plan_id": "rollout-42"})
    edited = apply_edits(plan, [MoveMember(member="dag_j", to_wave=1)], by="alice")
    assert edited.plan_id == "rollout-42"
    assert members(edited) == [
        ["dag_a"],
        ["dag_b", "dag_c", "dag_d", "dag_j"],
        ["dag_e", "dag_f", "dag_g"],
        ["dag_h", "dag_i"],
    ]
    assert (edited.version, edited.parent_version, edited.edited_by) == (2, 1, "alice")
    assert edited.edits == [MoveMember(member="dag_j", to_wave=1)]
    assert edited.generated_by.kind == "deterministic"
    # re-computed: wave 1 now takes two rounds of 2 slots
    assert [w.seconds for w in edited.waves] == [60, 120, 120, 60]
    assert edited.min_duration_seconds == 360 + 3 * 120
    assert edited.start_at == plan.start_at  # the schedule keeps its start
    again = apply_edits(edited, [MoveMember(member="dag_b", to_wave=4)], by="bob")
    assert again.version == 3 and again.parent_version == 2 and again.edited_by == "bob"
    assert again.waves[-1].members == ["dag_b"]  # the wave count appends a new last wave


def test_resize_grows_from_and_shrinks_into_the_next_wave(plan):
    grown = apply_edits(plan, [ResizeWave(wave=1, size=5)], by="alice")
    assert members(grown) == [
        ["dag_a"],
        ["dag_b", "dag_c", "dag_d", "dag_e", "dag_f"],
        ["dag_g"],
        ["dag_h", "dag_i", "dag_j"],
    ]
    absorbed = apply_edits(plan, [ResizeWave(wave=2, size=6)], by="alice")
    assert members(absorbed) == [
        ["dag_a"],
        ["dag_b", "dag_c", "dag_d"],
        ["dag_e", "dag_f", "dag_g", "dag_h", "dag_i", "dag_j"],
    ]
    shrunk = apply_edits(plan, [ResizeWave(wave=3, size=1)], by="alice")
    assert members(shrunk)[-2:] == [["dag_h"], ["dag_i", "dag_j"]]


def test_budget_concurrency_bake_and_approvals_are_revalidated(plan):
    edited = apply_edits(
        plan,
        [
            SetMaxErrors(max_errors="20%"),
            SetMaxConcurrency(max_concurrency=1),
            SetBake(bake_seconds=0),
            SetApprovalPoints(approval_points=[ApprovalPoint.BEFORE_PROMOTION]),
        ],
        by="carol",
    )
    assert edited.max_errors == 2 and edited.worst_case_failures == 3
    assert edited.min_duration_seconds == 10 * 60
    assert [w.approval_before for w in edited.waves] == [False, True, False, False]
    assert edited.spec.max_errors == "20%" and plan.spec.max_errors == 1  # the old version is untouched


@pytest.mark.parametrize(
    ("edits", "reason"),
    [
        ([MoveMember(member="dag_z", to_wave=1)], "edit 1 (move_member): 'dag_z' is not a member of this plan"),
        (
            [MoveMember(member="dag_a", to_wave=2)],
            "edit 1 (move_member): moving 'dag_a' would leave wave 0 empty; resize the waves instead",
        ),
        ([MoveMember(member="dag_b", to_wave=1)], "edit 1 (move_member): 'dag_b' is already in wave 1"),
        (
            [MoveMember(member="dag_b", to_wave=9)],
            "edit 1 (move_member): there is no wave 9 (the plan has 4; 4 appends a new one)",
        ),
        ([ResizeWave(wave=7, size=1)], "edit 1 (resize_wave): there is no wave 7 (the plan has 4)"),
        (
            [ResizeWave(wave=2, size=7)],
            "edit 1 (resize_wave): wave 2 cannot hold 7 members; it and the waves after it have 6",
        ),
        ([ResizeWave(wave=0, size=1)], "edit 1 (resize_wave): wave 0 already has 1 member(s)"),
        (
            [SetMaxErrors(max_errors=3)],
            (
                "the edited plan is invalid: The worst case of 5 failed member(s) (max_errors 3 + "
                "max_concurrency 2, capped at 10 members) exceeds the policy limit of 4; lower max_errors or max_concurrency."
            ),
        ),
        (
            [SetMaxErrors(max_errors=1), MoveMember(member="nobody", to_wave=0)],
            "edit 2 (move_member): 'nobody' is not a member of this plan",
        ),
        ([], "no edit given"),
    ],
)
def test_an_edit_that_breaks_an_invariant_is_refused(plan, edits, reason):
    before = plan.model_dump()
    with pytest.raises(PlanEditError) as refused:
        apply_edits(plan, edits, by="alice")
    assert str(refused.value) == reason
    assert plan.model_dump() == before


def test_an_edit_must_name_its_author_and_apply_to_a_valid_plan(plan):
    with pytest.raises(PlanEditError, match="who made it"):
        apply_edits(plan, [SetBake(bake_seconds=1)], by=" ")
    invalid = plan_rollout({"members": [], "waves": [1]}, now=NOW)
    with pytest.raises(PlanEditError, match="only a valid plan"):
        apply_edits(invalid, [SetBake(bake_seconds=1)], by="alice")


def test_an_edit_that_misses_the_deadline_is_refused():
    spec = {
        "members": [{"id": f"m{i}"} for i in range(4)],
        "waves": [1, "100%"],
        "max_concurrency": 4,
        "member_seconds": 600,
        "deadline": "2026-12-01T13:00:00Z",
    }
    plan = plan_rollout(spec, now=NOW)
    assert plan.valid and plan.finish_at == datetime(2026, 12, 1, 12, 20, tzinfo=timezone.utc)
    with pytest.raises(PlanEditError, match="after the deadline 2026-12-01T13:00:00Z"):
        apply_edits(plan, [SetBake(bake_seconds=3600)], by="alice")


def test_edits_from_json_are_checked_before_use():
    assert parse_edits([{"op": "resize_wave", "wave": 1, "size": 2}]) == [ResizeWave(wave=1, size=2)]
    with pytest.raises(PlanEditError, match="malformed edit at 0"):
        parse_edits([{"op": "delete_everything"}])
    with pytest.raises(PlanEditError, match="malformed edit at 0.resize_wave.size"):
        parse_edits([{"op": "resize_wave", "wave": 1, "size": 0}])
    with pytest.raises(PlanEditError, match="malformed edit at 0.set_max_errors.max_errors"):
        parse_edits([{"op": "set_max_errors", "max_errors": "150%"}])


def test_a_member_id_that_looks_like_a_secret_is_refused_without_being_repeated():
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # a GitHub token's shape
    plan = plan_rollout({"members": [{"id": "orders"}, {"id": secret}], "waves": [1], "member_seconds": 1}, now=NOW)
    assert not plan.valid and plan.waves == []
    assert plan.problems == [
        (
            "1 member id(s) look like secrets (members[1]) and would be redacted wherever the plan is shown or "
            "stored; give them ids that are not credentials."
        )
    ]
    assert secret not in " ".join(plan.problems + plan.notes)
