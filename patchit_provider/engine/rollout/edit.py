"""Edits to a plan: each accepted edit list makes a new version, re-validated, naming who edited.

An edit that breaks an invariant is refused with `PlanEditError` and a sentence saying why; the
plan it was applied to is left as it was (plans are values, never changed in place). Invariants:
every member in exactly one wave, no empty wave, a budget and concurrency the contract accepts,
and the whole plan still valid (policy limit on the worst case, windows, deadline).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import (
    MoveMember,
    PlanAuthor,
    PlanEdit,
    ResizeWave,
    RolloutPlan,
    SetApprovalPoints,
    SetBake,
    SetMaxConcurrency,
    SetMaxErrors,
)
from patchit_provider.engine.rollout.validate import evaluate

EDITS = TypeAdapter(list[PlanEdit])


class PlanEditError(InputError, ValueError):
    """The edit is refused; the message is the reason, for a person to read."""


def parse_edits(data: object) -> list[PlanEdit]:
    """Edits from JSON (the UI, a model); malformed -> PlanEditError naming the first problem."""
    try:
        return EDITS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise PlanEditError(f"malformed edit at {where or 'the top'}: {first['msg']}") from exc


def apply_edits(
    plan: RolloutPlan,
    edits: Sequence[PlanEdit],
    *,
    by: str,
    now: datetime | None = None,
    author: PlanAuthor | None = None,
) -> RolloutPlan:
    """The next version of `plan` with `edits` applied in order, or PlanEditError."""
    if not by.strip():
        raise PlanEditError("an edit must say who made it")
    if not plan.valid or plan.spec is None:
        raise PlanEditError("only a valid plan can be edited; fix its spec and plan again")
    if not edits:
        raise PlanEditError("no edit given")
    waves = [list(w.members) for w in plan.waves]
    spec = plan.spec
    for number, edit in enumerate(edits, 1):
        label = f"edit {number} ({edit.op})"
        if isinstance(edit, MoveMember):
            waves = _move(waves, edit, label)
        elif isinstance(edit, ResizeWave):
            waves = _resize(waves, edit, label)
        elif isinstance(edit, SetMaxErrors):
            spec = spec.model_copy(update={"max_errors": edit.max_errors})
        elif isinstance(edit, SetMaxConcurrency):
            spec = spec.model_copy(update={"max_concurrency": edit.max_concurrency})
        elif isinstance(edit, SetBake):
            spec = spec.model_copy(update={"bake_seconds": edit.bake_seconds})
        elif isinstance(edit, SetApprovalPoints):
            spec = spec.model_copy(update={"approval_points": list(dict.fromkeys(edit.approval_points))})
        else:  # pragma: no cover - the discriminated union admits nothing else
            raise PlanEditError(f"{label}: unknown edit")
    result = evaluate(
        spec,
        waves,
        now=now or plan.start_at,
        policy_max_failures=plan.policy_max_failures,
        author=author or plan.generated_by,
        version=plan.version + 1,
        parent_version=plan.version,
        edited_by=by,
        edits=edits,
    )
    if not result.valid:
        raise PlanEditError("the edited plan is invalid: " + " ".join(result.problems))
    return result.model_copy(update={"plan_id": plan.plan_id})


def _move(waves: list[list[str]], edit: MoveMember, label: str) -> list[list[str]]:
    source = next((i for i, wave in enumerate(waves) if edit.member in wave), None)
    if source is None:
        raise PlanEditError(f"{label}: {edit.member!r} is not a member of this plan")
    if edit.to_wave > len(waves):
        raise PlanEditError(
            f"{label}: there is no wave {edit.to_wave} (the plan has {len(waves)}; {len(waves)} appends a new one)"
        )
    if edit.to_wave == source:
        raise PlanEditError(f"{label}: {edit.member!r} is already in wave {source}")
    if len(waves[source]) == 1:
        raise PlanEditError(
            f"{label}: moving {edit.member!r} would leave wave {source} empty; resize the waves instead"
        )
    waves = [list(w) for w in waves]
    waves[source].remove(edit.member)
    if edit.to_wave == len(waves):
        waves.append([edit.member])
    else:
        waves[edit.to_wave].append(edit.member)
    return waves


def _resize(waves: list[list[str]], edit: ResizeWave, label: str) -> list[list[str]]:
    """Grow by taking the next waves' first members, or shrink by handing the wave's last members
    to the front of the next wave (a new last wave when needed); emptied waves disappear."""
    i = edit.wave
    if i >= len(waves):
        raise PlanEditError(f"{label}: there is no wave {i} (the plan has {len(waves)})")
    current = len(waves[i])
    if edit.size == current:
        raise PlanEditError(f"{label}: wave {i} already has {current} member(s)")
    rest = [m for wave in waves[i + 1 :] for m in wave]
    if edit.size > current + len(rest):
        raise PlanEditError(
            f"{label}: wave {i} cannot hold {edit.size} members; it and the waves after it have {current + len(rest)}"
        )
    waves = [list(w) for w in waves]
    if edit.size > current:
        need = edit.size - current
        waves[i] += rest[:need]
        taken = set(rest[:need])
        later = [[m for m in wave if m not in taken] for wave in waves[i + 1 :]]
        return waves[: i + 1] + [wave for wave in later if wave]
    surplus = waves[i][edit.size :]
    waves[i] = waves[i][: edit.size]
    if i + 1 < len(waves):
        waves[i + 1] = surplus + waves[i + 1]
    else:
        waves.append(surplus)
    return waves
