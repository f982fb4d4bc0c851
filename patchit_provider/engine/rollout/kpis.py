"""KPIs of rollouts, computed from the run records only (never kept as counters of their own)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from patchit_provider.engine.models import MemberResult, RolloutRun, RolloutState
from patchit_provider.engine.rollout.durations import nearest_rank


class RolloutKpis(BaseModel):
    rollouts: int = 0
    running: int = 0
    succeeded: int = 0
    aborted: int = 0  # aborted or escalated: stopped before the last wave
    members_finished: int = 0
    members_succeeded: int = 0
    member_success_rate: float | None = None  # succeeded / finished members; None when none finished
    time_to_recover_p50_seconds: float | None = None  # start -> finish of succeeded rollouts
    time_to_recover_p90_seconds: float | None = None


def rollout_kpis(runs: Iterable[RolloutRun]) -> RolloutKpis:
    kpis = RolloutKpis()
    recover: list[float] = []
    for run in runs:
        kpis.rollouts += 1
        if run.state is RolloutState.SUCCEEDED:
            kpis.succeeded += 1
            if run.started_at and run.finished_at:
                recover.append((run.finished_at - run.started_at).total_seconds())
        elif run.state in (RolloutState.ABORTED, RolloutState.ESCALATED):
            kpis.aborted += 1
        elif run.state in (RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.AWAITING_APPROVAL):
            kpis.running += 1
        for wave in run.waves:
            for rec in wave.results:
                if rec.result is None:
                    continue
                kpis.members_finished += 1
                kpis.members_succeeded += rec.result is MemberResult.SUCCEEDED
    if kpis.members_finished:
        kpis.member_success_rate = kpis.members_succeeded / kpis.members_finished
    if recover:
        kpis.time_to_recover_p50_seconds = nearest_rank(recover, 0.5)
        kpis.time_to_recover_p90_seconds = nearest_rank(recover, 0.9)
    return kpis
