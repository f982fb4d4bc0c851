"""Reading a spec and validating a plan: every problem is one readable sentence.

The contract (`models.RolloutSpec`) checks a spec field by field and across fields (sizes of 0
or over 100%, duplicate ids, windows, deadline); `read_spec` turns its errors into sentences (a
user reads them in the CLI's `problems`), one per place. `evaluate` computes a plan's figures
from explicit waves and decides `valid`: the planner, edits and the model planner all end here,
so one set of rules holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from patchit_provider.engine.models import (
    ApprovalPoint,
    PlanAuthor,
    PlanEdit,
    RolloutMember,
    RolloutPlan,
    RolloutSpec,
    RolloutWave,
    utcnow,
)
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.rollout import budget, durations
from patchit_provider.engine.rollout.schedule import schedule_waves

SPEC_KEYS = frozenset(RolloutSpec.model_fields)
MEMBER_KEYS = frozenset(RolloutMember.model_fields)


def read_spec(data: Any) -> tuple[RolloutSpec | None, list[str], list[str]]:
    """(spec or None, problems, notes). Unknown keys are allowed by the contract: named in notes."""
    if not isinstance(data, Mapping):
        return None, [f"The spec must be a JSON object, not {type(data).__name__}."], []
    notes = [f"Unknown key {key!r} ignored." for key in data if key not in SPEC_KEYS]
    members = data.get("members")
    if isinstance(members, list):
        extra = sorted({k for m in members if isinstance(m, Mapping) for k in m if k not in MEMBER_KEYS})
        notes += [f"Unknown member key {key!r} ignored." for key in extra]
    try:
        spec = RolloutSpec.model_validate(dict(data))
    except ValidationError as exc:
        return None, spec_sentences(exc), notes
    return spec, [], notes


UNION_BRANCHES = frozenset({"int", "constrained-str", "str"})


def spec_sentences(exc: ValidationError) -> list[str]:
    """One sentence per place in the spec; a count-or-"P%" union reports once, not per branch."""
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        union = bool(loc) and loc[-1] in UNION_BRANCHES
        where = _where(loc[:-1] if union else loc)
        if where in problems:
            continue
        got = error.get("input")
        if union:
            text = f'{where} must be a whole count or a percentage like "10%" (got {_show(got)})'
        else:
            text = _sentence(where, error["type"], error.get("ctx") or {}, got, error["msg"])
        problems[where] = text + "."
    return list(problems.values())


def _sentence(where: str, kind: str, ctx: dict[str, Any], got: Any, msg: str) -> str:
    if kind == "missing":
        return f"{where} is required"
    if kind == "greater_than_equal":
        return f"{where} must be at least {_num(ctx.get('ge'))} (got {_show(got)})"
    if kind == "less_than_equal":
        return f"{where} must be at most {_num(ctx.get('le'))} (got {_show(got)})"
    if kind in ("too_short", "string_too_short") and isinstance(got, str):
        return f"{where} must not be empty"
    if kind in ("too_short", "string_too_short"):
        return f"{where} needs at least {ctx.get('min_length')} item(s)"
    if kind in ("too_long", "string_too_long"):
        return f"{where} is too long (at most {ctx.get('max_length')})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be a whole number (got {_show(got)})"
    if kind == "timezone_aware":
        return f"{where} must carry a time zone, e.g. 2026-12-01T22:00:00Z (got {_show(got)})"
    if kind == "value_error":
        return f"{where}: {ctx.get('error', msg)}" if where != "the spec" else str(ctx.get("error", msg))
    if kind == "enum":
        return f"{where} must be one of {ctx.get('expected')} (got {_show(got)})"
    return f"{where}: {msg} (got {_show(got)})"


def _num(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "the spec"


def wave_problems(spec: RolloutSpec, waves: Sequence[Sequence[str]]) -> list[str]:
    """The invariants of explicit waves: each member in exactly one wave, no empty wave."""
    problems: list[str] = []
    known = {m.id for m in spec.members}
    placed = Counter(member for wave in waves for member in wave)
    for i, wave in enumerate(waves):
        if not wave:
            problems.append(f"Wave {i} is empty; every wave needs at least 1 member.")
    for member, count in sorted(placed.items()):
        if member not in known:
            problems.append(f"Wave member {member!r} is not a member of the spec.")
        elif count > 1:
            problems.append(f"Member {member!r} is in {count} waves; each member belongs to exactly one.")
    missing = sorted(known - set(placed))
    if missing:
        problems.append(
            f"{len(missing)} member(s) are in no wave: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}."
        )
    return problems


def secret_like_members(spec: RolloutSpec) -> list[int]:
    """Indexes of member ids that redaction would hide: every place a plan is shown, stored or
    sent to a model redacts, so such a member would turn into '***' and could not be executed."""
    ids = [m.id for m in spec.members]
    if not redact("\n".join(ids))[1]:  # one pass over all ids: the usual case costs one call
        return []
    return [i for i, member_id in enumerate(ids) if redact(member_id)[1]]


def evaluate(
    spec: RolloutSpec,
    waves: Sequence[Sequence[str]],
    *,
    now: datetime | None = None,
    policy_max_failures: int | None = None,
    notes: Sequence[str] = (),
    author: PlanAuthor | None = None,
    version: int = 1,
    parent_version: int | None = None,
    edited_by: str | None = None,
    edits: Sequence[PlanEdit] = (),
) -> RolloutPlan:
    """The plan for these explicit waves: figures, schedule, and `valid` with its reasons."""
    notes = list(notes)
    problems = wave_problems(spec, waves)
    hidden = secret_like_members(spec)
    if hidden:
        where = ", ".join(f"members[{i}]" for i in hidden[:5]) + (", ..." if len(hidden) > 5 else "")
        problems.append(
            f"{len(hidden)} member id(s) look like secrets ({where}) and would be redacted wherever the plan is "
            "shown or stored; give them ids that are not credentials."
        )
    limits = [x for x in (policy_max_failures, spec.policy_max_failures) if x is not None]
    policy = min(limits) if limits else None
    common: dict[str, Any] = {
        "deadline": spec.deadline,
        "approval_points": spec.approval_points,
        "risk_level": spec.risk_level,
        "rationale": spec.rationale,
        "assumptions": list(spec.assumptions),
        "generated_by": author or PlanAuthor(),
        "version": version,
        "parent_version": parent_version,
        "edited_by": edited_by,
        "edits": list(edits),
        "spec": spec,
        "policy_max_failures": policy,
        "max_concurrency": spec.max_concurrency,
        "bake_seconds": spec.bake_seconds,
    }
    if problems:
        return RolloutPlan(valid=False, problems=problems, notes=notes, **common)

    total = len(spec.members)
    max_errors = budget.max_errors_count(spec.max_errors, total)
    worst = budget.worst_case_failures(max_errors, spec.max_concurrency, total)
    estimates, sources = durations.member_estimates(spec)
    unknown = sorted(m for m, s in estimates.items() if s is None)
    if unknown:
        text = (
            f"{len(unknown)} member(s) have no duration estimate (no seconds, no duration_history, no "
            f"member_seconds): {', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}"
        )
        if spec.windows or spec.deadline:
            problems.append(text[0].upper() + text[1:] + "; the windows and the deadline cannot be checked.")
        else:
            notes.append(text + "; counted as 0 seconds.")
    seconds = {m: s or 0 for m, s in estimates.items()}
    for source, count in sorted(Counter(sources.values()).items()):
        if source.startswith("history"):
            notes.append(
                f"{count} member duration(s) estimated as the {spec.duration_percentile} of their duration history."
            )
        elif "instead of" in source:
            notes.append(f"{count} member duration(s) use the {source}: no {spec.duration_percentile} was known.")
    wave_secs = [durations.wave_seconds([seconds[m] for m in wave], spec.max_concurrency) for wave in waves]
    bake = math.ceil(spec.bake_seconds)
    figures: dict[str, Any] = {
        "max_errors": max_errors,
        "worst_case_failures": worst,
        "min_duration_seconds": durations.min_duration(wave_secs, bake),
        "member_seconds": seconds,
    }
    if policy is not None and worst > policy:
        problems.append(
            f"The worst case of {worst} failed member(s) (max_errors {max_errors} + max_concurrency "
            f"{spec.max_concurrency}, capped at {total} members) exceeds the policy limit of {policy}; "
            "lower max_errors or max_concurrency."
        )
    start = spec.start_at or now or utcnow()
    sched = schedule_waves(wave_secs, bake, start, spec.windows, spec.deadline)
    problems += sched.problems
    if ApprovalPoint.BEFORE_PROMOTION in spec.approval_points and len(waves) < 2:
        notes.append("before_promotion approval has no effect: the plan has a single wave.")
    if problems:
        return RolloutPlan(valid=False, problems=problems, notes=notes, **figures, **common)
    gates = spec.gates
    first_outside = sched.outside[0] if sched.outside else None  # the out-of-window approval is asked there
    plan_waves = [
        RolloutWave(
            index=i,
            members=list(wave),
            seconds=wave_secs[i],
            gate=gates[min(i, len(gates) - 1)],
            approval_before=(i == 0 and ApprovalPoint.BEFORE_FIRST_WAVE in spec.approval_points)
            or (i == 1 and ApprovalPoint.BEFORE_PROMOTION in spec.approval_points)
            or i == first_outside,
        )
        for i, wave in enumerate(waves)
    ]
    return RolloutPlan(
        valid=True,
        waves=plan_waves,
        schedule=sched.waves,
        start_at=start,
        finish_at=sched.finish,
        needs_out_of_window_approval=bool(sched.outside),
        out_of_window_reason=sched.out_of_window_reason,
        notes=notes,
        **figures,
        **common,
    )
