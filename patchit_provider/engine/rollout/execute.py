"""Executing a rollout, wave by wave, as the stages of the `rollout` pipeline (engine/stages/rollout.py):
PLAN (the stored plan checked executable and started), then per wave APPROVE (approval point,
bake, live-run pressure), EXECUTE_WAVE (act on each member, watch it, count it) and GATE (the
gate's action; the last one finishes the rollout). `execute_rollout(inp, ctx)` is the loop over
them, through the framework's `run_stage`; every stage loads the run record, works, and stores
it, so the record is the only state and a retried task resumes from it.

Pure engine code: Airflow is reached only through `ctx.api` (the REST API's documented shapes,
see hooks/api.py), the records through `ctx.records` (engine/store/rollouts.py), incidents and
findings through `ctx.desk`, time through `ctx.clock`. Two kinds of rollout share every rule
below except how a member is acted on and judged:

RECOVERY (a member is one failed task instance):
- a member is cleared with a dry run first (exactly its one task instance, else inconclusive),
  then for real with `only_failed` and `run_on_latest_version`; at most `max_concurrency` in
  flight; "clearing M" and "cleared M" are journaled so a retried task never clears M twice;
- a re-run counts as a success only in state success ON the fixed DAG version (the latest when
  the rollout started); skipped, upstream_failed, removed, an older version or no end state
  before `member_timeout_seconds` are inconclusive; inconclusive members count against the
  budget like failures (a recovery that cannot be confirmed is not one);
- a failure with the incident's fingerprint means the fix did not work: stop at once and
  escalate; another fingerprint is handed to the receive path as a new failure.

UPGRADE (a member is a DAG id; `run.upgrade` names the finding's published branch and commit):
- deploying a wave records that the upgrade applies to its DAGs from now (`deployed_at`, journaled
  like a clear). With `deploy = "trigger"` the wave then starts one run of each member DAG
  (run id `patchit_upgrade__<rollout>__w<wave>`: deterministic, so a resumed task that triggers
  again gets Airflow's 409 and never a second run); with `deploy = "next_run"` it starts nothing
  and waits for the DAG's first run whose run_after is at or after `deployed_at`;
- the gate is that run ending `success`; `failed` is a failure; no end state before the wave's
  timeout (`wave_timeout_factor` x the plan's estimate for the wave, else
  `member_timeout_seconds`) is a time-out. Both count against the budget.

Both: the budget is cumulative and stops when failures STRICTLY exceed it (`budget_exceeded`),
and the escalation says why; later waves never start. Between waves: bake, the gate (continue /
pause / abort), approvals; before a recovery wave, a bounded wait while the DAG's live runs are
queued or the members' pool is full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, NoReturn, Protocol

from pydantic import BaseModel, Field

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import (
    ROLLOUT_FINAL_STATES,
    GateAction,
    MemberRecord,
    MemberResult,
    RecoveryMember,
    RolloutRun,
    RolloutState,
    WaveRecord,
)
from patchit_provider.engine.rollout.budget import budget_exceeded
from patchit_provider.engine.stages.base import StageContext

CLEARING, CLEARED = "clearing", "cleared"  # the journal's phases: before and after acting on a member
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
INCONCLUSIVE_TI_STATES = frozenset({"skipped", "upstream_failed", "removed"})
MAX_NOTE_CHARS = 1_000  # Airflow's limit on a TI note
UPGRADE_RUN_PREFIX = "patchit_upgrade"


class RolloutNotFound(NotFoundError):
    """No rollout run with that id (the one 'not found', engine.errors.NotFoundError)."""


class RolloutStage(str, Enum):
    """The rollout pipeline's stages (engine/stages/rollout.py registers them in this order)."""

    PLAN = "plan"
    APPROVE = "approve"
    EXECUTE_WAVE = "execute_wave"
    GATE = "gate"


# -- the context's typed protocols ------------------------------------------------------------


class RolloutApi(Protocol):
    """The Airflow REST API calls the executor needs (PatchitApiHook implements them)."""

    def clear_task_instances(self, dag_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def get_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]: ...

    def latest_dag_version(self, dag_id: str) -> int | None: ...

    def queued_run_ids(self, dag_id: str) -> list[str]: ...

    def pool_open_slots(self, pool: str) -> int | None: ...

    # upgrade rollouts: a member DAG's runs
    def trigger_dag_run(self, dag_id: str, run_id: str, conf: dict[str, Any], note: str | None = None) -> str: ...

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any] | None: ...

    def dag_runs_after(self, dag_id: str, after: str) -> list[dict[str, Any]]: ...


class RolloutRecords(Protocol):
    """RolloutStore's public API."""

    def get(self, rollout_id: str) -> RolloutRun | None: ...

    def save(self, run: RolloutRun) -> RolloutRun: ...

    def modify(self, rollout_id: str, change: Callable[[RolloutRun], RolloutRun]) -> RolloutRun: ...

    def mark(self, rollout_id: str, member: str, phase: str, *, try_before: int | None = None) -> bool: ...

    def marks(self, rollout_id: str) -> dict[str, dict[str, Any]]: ...


class IncidentDesk(Protocol):
    """Incidents: the fingerprint of a failed try, an escalation, a new failure's hand-off. An
    escalation's data carries the rollout's `kind` (an upgrade's subject is a finding id)."""

    def fingerprint_of(self, member: RecoveryMember, try_number: int) -> str | None: ...

    def escalate(self, subject: str, message: str, data: dict[str, Any]) -> None: ...

    def hand_off(self, member: RecoveryMember, try_number: int) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass(kw_only=True)
class RolloutContext(StageContext):
    """The rollout stages' context: the framework's (store, settings, notifier) plus Airflow's
    REST API, the run records, the desk and a clock."""

    api: RolloutApi
    records: RolloutRecords
    desk: IncidentDesk
    clock: Clock


# -- input and output -------------------------------------------------------------------------


class ExecuteInput(BaseModel):
    rollout_id: str
    stop_after_wave: int | None = Field(default=None, description="Return after this wave (the DAG's canary task: 0).")
    resume: bool = Field(default=False, description="A person continues a paused rollout.")
    poll_seconds: float = Field(default=5.0, gt=0)
    member_timeout_seconds: float = Field(default=3600.0, gt=0)
    pressure_wait_seconds: float = Field(default=600.0, ge=0, description="Longest wait for live runs and the pool.")
    wave_timeout_factor: float = Field(
        default=2.0, gt=0, description="Upgrade: a wave times out after this many times the plan's estimate for it."
    )


class ExecuteOutput(BaseModel):
    rollout_id: str
    state: RolloutState
    reason: str = ""
    waves_finished: int = 0
    failures: int = 0
    awaiting_approval: str | None = None
    cleared_now: list[str] = Field(
        default_factory=list, description="Members this call acted on (cleared, or deployed to), not resumed ones."
    )


class StageInput(BaseModel):
    """What every rollout stage reads: the rollout, the executor's options, the wave at hand."""

    rollout_id: str
    execute: ExecuteInput
    wave: int = 0


class StageResult(BaseModel):
    """What every rollout stage returns; `stopped` ends the loop (the record says why)."""

    stopped: bool = False
    acted: list[str] = Field(default_factory=list)
    awaiting_approval: str | None = None
    waves: int = Field(default=0, description="PLAN: the number of waves of the plan.")


@dataclass
class Execution:
    """The rollout pipeline's document: one call of `execute_rollout`."""

    inp: ExecuteInput
    wave: int = 0
    waves: int = 0
    stopped: bool = False
    acted: list[str] = field(default_factory=list)
    awaiting: str | None = None


class _Stop(Exception):
    """The rollout stopped: the run's state and reason are already set."""


class _Overruled(Exception):
    """Someone else (a person rejecting on the Rollouts page) ended the rollout meanwhile."""

    def __init__(self, stored: RolloutRun) -> None:
        super().__init__(stored.rollout_id)
        self.stored = stored


def approval_key(wave: int) -> str:
    return {0: "before_first_wave", 1: "before_promotion"}.get(wave, f"before_wave_{wave}")


def upgrade_run_id(rollout_id: str, wave: int) -> str:
    """The run an upgrade wave triggers in each of its member DAGs (unique per DAG and wave)."""
    return f"{UPGRADE_RUN_PREFIX}__{rollout_id}__w{wave}"


# -- the loop over the rollout pipeline's stages ----------------------------------------------


def execute_rollout(inp: ExecuteInput, ctx: RolloutContext) -> ExecuteOutput:
    """PLAN, then APPROVE -> EXECUTE_WAVE -> GATE for each wave, through the framework's
    `run_stage`; returns after a stop, after `stop_after_wave`, or when the rollout succeeded."""
    from patchit_provider.engine.stages.base import run_stage
    from patchit_provider.engine.stages.rollout import ROLLOUT

    if ctx.records.get(inp.rollout_id) is None:
        raise RolloutNotFound(f"no rollout {inp.rollout_id!r}")
    doc = Execution(inp)
    run_stage(ROLLOUT.get(RolloutStage.PLAN), doc, ctx)
    for index in range(doc.waves):
        if doc.stopped:
            break
        if inp.stop_after_wave is not None and index > inp.stop_after_wave and not _finished(ctx, inp, index):
            break
        doc.wave = index
        for key in (RolloutStage.APPROVE, RolloutStage.EXECUTE_WAVE, RolloutStage.GATE):
            run_stage(ROLLOUT.get(key), doc, ctx)
            if doc.stopped:
                break
    return _output(ctx, doc)


def _finished(ctx: RolloutContext, inp: ExecuteInput, index: int) -> bool:
    run = ctx.records.get(inp.rollout_id)
    return run is not None and any(w.index == index and w.finished_at is not None for w in run.waves)


def _output(ctx: RolloutContext, doc: Execution) -> ExecuteOutput:
    run = ctx.records.get(doc.inp.rollout_id)
    if run is None:  # pragma: no cover - records are never deleted
        raise RolloutNotFound(f"no rollout {doc.inp.rollout_id!r}")
    return ExecuteOutput(
        rollout_id=run.rollout_id,
        state=run.state,
        reason=run.reason,
        waves_finished=sum(1 for w in run.waves if w.finished_at is not None),
        failures=run.failures,
        awaiting_approval=doc.awaiting,
        cleared_now=list(doc.acted),
    )


# -- the stages: inputs(doc, ctx) -> run(inp, ctx) -> apply(doc, out) --------------------------


def stage_input(doc: Execution, ctx: StageContext) -> StageInput | None:
    return None if doc.stopped else StageInput(rollout_id=doc.inp.rollout_id, execute=doc.inp, wave=doc.wave)


def _wave_of(doc: Execution, ctx: StageContext) -> tuple[RolloutRun | None, WaveRecord | None]:
    run = _rollout_ctx(ctx).records.get(doc.inp.rollout_id)
    return run, next((w for w in run.waves if w.index == doc.wave), None) if run else None


def wave_input(doc: Execution, ctx: StageContext) -> StageInput | None:
    """APPROVE and EXECUTE_WAVE: None (nothing to do) once the wave is finished, so a resumed
    rollout skips what its records say is done."""
    inp = stage_input(doc, ctx)
    _, record = _wave_of(doc, ctx) if inp is not None else (None, None)
    return None if inp is None or (record is not None and record.finished_at is not None) else inp


def gate_input(doc: Execution, ctx: StageContext) -> StageInput | None:
    """GATE: once the wave is finished, while its gate is undecided (or, after the last wave,
    while the rollout has not been marked succeeded)."""
    inp = stage_input(doc, ctx)
    if inp is None:
        return None
    run, record = _wave_of(doc, ctx)
    if run is None or record is None or record.finished_at is None:
        return None
    last = doc.wave == run.plan.waves[-1].index
    return inp if record.gate is None or (last and run.state is RolloutState.RUNNING) else None


def apply_result(doc: Execution, out: StageResult) -> None:
    doc.stopped = doc.stopped or out.stopped
    doc.acted.extend(out.acted)
    doc.awaiting = out.awaiting_approval or doc.awaiting
    doc.waves = max(doc.waves, out.waves)


def _rollout_ctx(ctx: StageContext) -> RolloutContext:
    if not isinstance(ctx, RolloutContext):
        raise TypeError(f"the rollout stages need a RolloutContext, not {type(ctx).__name__}")
    return ctx


def _staged(body: Callable[[_Runner, StageInput], None]) -> Callable[[StageInput, StageContext], StageResult]:
    """A stage's run(): open the stored run, do `body`, report; a stop is an output, not an error."""

    def run(inp: StageInput, ctx: StageContext) -> StageResult:
        runner = _Runner.open(inp.execute, _rollout_ctx(ctx))
        if runner is None:
            return StageResult(stopped=True)
        try:
            body(runner, inp)
        except _Stop:
            return StageResult(stopped=True, acted=runner.acted, awaiting_approval=runner.awaiting)
        return StageResult(acted=runner.acted, waves=len(runner.run.plan.waves))

    return run


def _plan(runner: _Runner, inp: StageInput) -> None:
    runner.start()


def _approve(runner: _Runner, inp: StageInput) -> None:
    wave = runner.run.plan.waves[inp.wave]
    runner.before_wave(wave.index, wave.approval_before)


def _execute_wave(runner: _Runner, inp: StageInput) -> None:
    wave = runner.run.plan.waves[inp.wave]
    runner.run_wave(wave.index, wave.members, runner.wave_record(wave.index))


def _gate(runner: _Runner, inp: StageInput) -> None:
    run = runner.run
    record = runner.wave_record(inp.wave)
    last = inp.wave == run.plan.waves[-1].index
    if record.gate is None:
        runner.gate(inp.wave, record, last=last)
    if last:
        runner.succeed()


run_plan = _staged(_plan)
run_approve = _staged(_approve)
run_execute_wave = _staged(_execute_wave)
run_gate = _staged(_gate)


# -- the mechanics ----------------------------------------------------------------------------


class _Runner:
    """One stage's work on the stored run: loaded at the start, stored after each change."""

    def __init__(self, run: RolloutRun, inp: ExecuteInput, ctx: RolloutContext) -> None:
        self.run, self.inp, self.ctx = run, inp, ctx
        self.acted: list[str] = []
        self.awaiting: str | None = None
        self.written = run.state  # the state this executor last stored

    @classmethod
    def open(cls, inp: ExecuteInput, ctx: RolloutContext) -> _Runner | None:
        """The runner of the stored run; None when the run is final or paused (and not resumed)."""
        run = ctx.records.get(inp.rollout_id)
        if run is None:
            raise RolloutNotFound(f"no rollout {inp.rollout_id!r}")
        if run.state in ROLLOUT_FINAL_STATES:
            return None
        return cls(run, inp, ctx)

    def save(self) -> None:
        """Store the run in one read-change-write transaction. The in-memory run stays the one
        being worked on (wave and member records are live references into it). A final state
        someone else stored meanwhile wins (nothing more is done); approvals given meanwhile
        are kept."""

        def change(stored: RolloutRun) -> RolloutRun:
            if stored.state is not self.written and stored.state in ROLLOUT_FINAL_STATES:
                raise _Overruled(stored)
            self.run.approved_by = {**stored.approved_by, **self.run.approved_by}
            return self.run

        try:
            self.ctx.records.modify(self.run.rollout_id, change)
        except _Overruled as exc:
            self.run = exc.stored
            raise _Stop from None
        self.written = self.run.state

    def stop(self, state: RolloutState, reason: str, *, escalate: dict[str, Any] | None = None) -> NoReturn:
        self.run.state, self.run.reason = state, reason
        if state in ROLLOUT_FINAL_STATES:
            self.run.finished_at = self.ctx.clock.now()
        self.save()
        if escalate is not None:
            data = {"rollout_id": self.run.rollout_id, "kind": self.run.kind, **escalate}
            self.ctx.desk.escalate(self.run.subject, reason, data)
        raise _Stop

    @property
    def upgrade(self) -> bool:
        return self.run.kind == "upgrade"

    # -- plan: the stored plan is executable, the run starts --------------------------------

    def start(self) -> None:
        run = self.run
        if run.state is RolloutState.PAUSED and not self.inp.resume:
            raise _Stop  # a person continues it (resume); a pause is never lifted silently
        if not run.plan.valid or not run.plan.waves:
            self.stop(RolloutState.ABORTED, "the plan is not valid: " + "; ".join(run.plan.problems))
        if self.upgrade and (run.upgrade is None or not (run.upgrade.branch or run.upgrade.commit)):
            self.stop(RolloutState.ABORTED, "the upgrade is not published (no branch or commit): nothing to deploy")
        if run.started_at is None:
            run.started_at = self.ctx.clock.now()
        run.state, run.reason = RolloutState.RUNNING, ""
        if not self.upgrade:
            self._fix_versions()
        self.save()

    def succeed(self) -> None:
        if all(any(r.index == w.index and r.finished_at for r in self.run.waves) for w in self.run.plan.waves):
            self.run.state, self.run.reason, self.run.finished_at = RolloutState.SUCCEEDED, "", self.ctx.clock.now()
            self.save()

    def _fix_versions(self) -> None:
        for dag_id in sorted({t.dag_id for t in self.run.targets.values()}):
            if dag_id in self.run.fixed_versions:
                continue
            version = self.ctx.api.latest_dag_version(dag_id)
            if version is None:
                self.stop(RolloutState.ABORTED, f"DAG {dag_id} has no version in Airflow: nothing to re-run on")
            failed = self.run.failed_versions.get(dag_id)
            if not self.run.transient and failed is not None and version <= failed:
                # The fix is not parsed yet (or never landed): re-runs would repeat the failure.
                self.stop(
                    RolloutState.PAUSED,
                    f"DAG {dag_id} has no version newer than the one its runs failed on "
                    f"(v{failed}): wait until the fix is parsed, or mark the cause transient",
                )
            self.run.fixed_versions[dag_id] = version

    def wave_record(self, index: int) -> WaveRecord:
        for record in self.run.waves:
            if record.index == index:
                return record
        members = self.run.plan.waves[index].members
        record = WaveRecord(index=index, members=list(members))
        self.run.waves.append(record)
        return record

    # -- approve: before a wave --------------------------------------------------------------

    def before_wave(self, index: int, approval_before: bool) -> None:
        key = approval_key(index)
        if approval_before and key not in self.run.approved_by:
            self.awaiting = key
            self.stop(RolloutState.AWAITING_APPROVAL, f"wave {index} waits for an approval ({key})")
        previous = next((w for w in self.run.waves if w.index == index - 1), None)
        bake = float(self.run.plan.bake_seconds or 0)
        if previous is not None and previous.finished_at is not None and bake > 0:
            left = (previous.finished_at + timedelta(seconds=bake) - self.ctx.clock.now()).total_seconds()
            if left > 0:
                self.ctx.clock.sleep(min(left, bake))
        if not self.upgrade:
            self._wait_for_room(index)

    def _wait_for_room(self, index: int) -> None:
        """Bounded wait while the wave's DAGs have queued live runs or the members' pool is full."""
        members = [self.run.targets[m] for m in self.run.plan.waves[index].members]
        ours = {t.run_id for t in self.run.targets.values()}
        waited = 0.0
        while True:
            busy = self._pressure(members, ours)
            if busy is None:
                return
            if waited >= self.inp.pressure_wait_seconds:
                self.stop(RolloutState.PAUSED, f"wave {index} did not start: {busy} after {int(waited)} s")
            step = (
                min(self.inp.poll_seconds, max(self.inp.pressure_wait_seconds - waited, 0.0)) or self.inp.poll_seconds
            )
            self.ctx.clock.sleep(step)
            waited += step

    def _pressure(self, members: list[RecoveryMember], ours: set[str]) -> str | None:
        for dag_id in sorted({m.dag_id for m in members}):
            live = [r for r in self.ctx.api.queued_run_ids(dag_id) if r not in ours]
            if live:
                return f"{len(live)} live run(s) of {dag_id} queued"
        first = members[0]
        ti = self.ctx.api.get_task_instance(first.dag_id, first.run_id, first.task_id, first.map_index)
        pool = ti.get("pool")
        if pool:
            slots = self.ctx.api.pool_open_slots(pool)
            if slots is not None and slots <= 0:
                return f"pool {pool} is full"
        return None

    # -- execute a wave ----------------------------------------------------------------------

    def run_wave(self, index: int, members: list[str], record: WaveRecord) -> None:
        clock = self.ctx.clock
        if record.started_at is None:
            record.started_at = clock.now()
        journal = self.ctx.records.marks(self.run.rollout_id)
        queue = [m for m in members if (done := record.result_of(m)) is None or done.result is None]
        inflight: dict[str, MemberRecord] = {}
        concurrency = self.run.plan.max_concurrency or 1
        while queue or inflight:
            while queue and len(inflight) < concurrency:
                member = queue.pop(0)
                rec = self._member_record(record, member)
                if self.upgrade:
                    self._deploy(index, member, rec, journal.get(member, {}))
                else:
                    self._clear(index, member, rec, journal.get(member, {}))
                if rec.result is None:
                    inflight[member] = rec
                else:
                    self._count(rec)
                self.save()
            for member in list(inflight):
                rec = inflight[member]
                ended = self._observe(record, member, rec) if self.upgrade else self._poll(member, rec)
                if ended:
                    del inflight[member]
                    self._count(rec)
                    self.save()
            if inflight:
                clock.sleep(self.inp.poll_seconds)
        record.finished_at = clock.now()
        self.save()

    def _member_record(self, record: WaveRecord, member: str) -> MemberRecord:
        rec = record.result_of(member)
        if rec is None:
            rec = MemberRecord(member=member)
            record.results.append(rec)
        return rec

    # recovery: clear the failed task instance, watch its re-run

    def _clear(self, index: int, member: str, rec: MemberRecord, journal: dict[str, Any]) -> None:
        """Clear `member` unless the journal says it was; resume-safe."""
        ref = self.run.targets[member]
        api, records, rid = self.ctx.api, self.ctx.records, self.run.rollout_id
        if CLEARED in journal:
            rec.try_before, rec.cleared_at = journal[CLEARED]["try_before"], journal[CLEARED]["at"]
            return
        ti = api.get_task_instance(ref.dag_id, ref.run_id, ref.task_id, ref.map_index)
        if CLEARING in journal:
            before = journal[CLEARING]["try_before"]
            if ti.get("state") != "failed" or ti.get("try_number") != before:
                # The clear went through before the crash: never clear it a second time.
                records.mark(rid, member, CLEARED, try_before=before)
                rec.try_before, rec.cleared_at = before, journal[CLEARING]["at"]
                return
        else:
            if ti.get("state") != "failed":
                rec.result = MemberResult.INCONCLUSIVE
                rec.state = ti.get("state")
                rec.reason = f"no longer failed (state {ti.get('state')}) when the rollout reached it"
                rec.finished_at = self.ctx.clock.now()
                return
            before = ti.get("try_number")
            if not records.mark(rid, member, CLEARING, try_before=before):
                # Another executor of this rollout took the member meanwhile: watch, never clear twice.
                entry = records.marks(rid).get(member, {}).get(CLEARING, {})
                rec.try_before, rec.cleared_at = (
                    entry.get("try_before", before),
                    entry.get("at") or self.ctx.clock.now(),
                )
                return
        body = self._clear_body(index, ref)
        dry = api.clear_task_instances(ref.dag_id, {**body, "dry_run": True})
        would = [(t.get("dag_run_id"), t.get("task_id"), t.get("map_index", -1)) for t in dry.get("task_instances", [])]
        if would != [(ref.run_id, ref.task_id, ref.map_index)]:
            rec.result, rec.finished_at = MemberResult.INCONCLUSIVE, self.ctx.clock.now()
            rec.reason = f"the dry run would clear {len(would)} task instance(s), not exactly this one: not cleared"
            return
        api.clear_task_instances(ref.dag_id, {**body, "dry_run": False})
        records.mark(rid, member, CLEARED, try_before=before)
        rec.try_before, rec.cleared_at = before, self.ctx.clock.now()
        self.acted.append(member)

    def _clear_body(self, index: int, ref: RecoveryMember) -> dict[str, Any]:
        note = f"PATCHIT recovery rollout {self.run.rollout_id}, wave {index} (incident {self.run.subject})"
        return {
            "dag_run_id": ref.run_id,
            "task_ids": [[ref.task_id, ref.map_index]] if ref.map_index >= 0 else [ref.task_id],
            "only_failed": True,
            "reset_dag_runs": True,
            "include_upstream": False,
            "include_downstream": False,
            "include_future": False,
            "include_past": False,
            "run_on_latest_version": True,
            "note": note[:MAX_NOTE_CHARS],
        }

    def _poll(self, member: str, rec: MemberRecord) -> bool:
        """True when the re-run has ended (rec filled in)."""
        ref = self.run.targets[member]
        now = self.ctx.clock.now()
        ti = self.ctx.api.get_task_instance(ref.dag_id, ref.run_id, ref.task_id, ref.map_index)
        state, tries = ti.get("state"), ti.get("try_number") or 0
        if state in TERMINAL_TI_STATES and tries > (rec.try_before or 0):
            rec.state, rec.try_number, rec.finished_at = state, tries, now
            rec.dag_version = (ti.get("dag_version") or {}).get("version_number")
            self._judge(ref, rec)
            return True
        if rec.cleared_at is not None and (now - rec.cleared_at).total_seconds() >= self.inp.member_timeout_seconds:
            rec.result, rec.state, rec.finished_at = MemberResult.INCONCLUSIVE, state, now
            rec.reason = f"no end state within {int(self.inp.member_timeout_seconds)} s (state {state})"
            return True
        return False

    def _judge(self, ref: RecoveryMember, rec: MemberRecord) -> None:
        fixed = self.run.fixed_versions.get(ref.dag_id)
        if rec.state == "success":
            if rec.dag_version is not None and fixed is not None and rec.dag_version >= fixed:
                rec.result = MemberResult.SUCCEEDED
            else:
                rec.result = MemberResult.INCONCLUSIVE
                rec.reason = f"succeeded on DAG version {rec.dag_version}, not the fixed version {fixed}"
        elif rec.state == "failed":
            found = self.ctx.desk.fingerprint_of(ref, rec.try_number or 0)
            rec.fingerprint = found
            if found is not None and found == self.run.fingerprint:
                rec.result, rec.reason = (
                    MemberResult.FAILED_SAME_FINGERPRINT,
                    "failed again with the incident's fingerprint",
                )
            else:
                rec.result = MemberResult.FAILED_NEW_FINGERPRINT
                rec.reason = (
                    "failed with another fingerprint" if found else "failed; its fingerprint could not be computed"
                )
                rec.handed_to = self.ctx.desk.hand_off(ref, rec.try_number or 0)
        else:
            rec.result, rec.reason = MemberResult.INCONCLUSIVE, f"ended {rec.state}: not a success"

    # upgrade: record the deployment to the member DAG, gate on its next run

    def _deploy(self, index: int, member: str, rec: MemberRecord, journal: dict[str, Any]) -> None:
        """Record that the upgrade applies to DAG `member` from now and, in trigger mode, start its
        run; journaled like a clear, and the run id is deterministic, so a resume never starts a
        second run (Airflow answers the repeated trigger with 409)."""
        upgrade = self.run.upgrade
        assert upgrade is not None  # start() checked it
        records, rid = self.ctx.records, self.run.rollout_id
        rec.action = upgrade.deploy
        run_id = upgrade_run_id(rid, index) if upgrade.deploy == "trigger" else None
        if CLEARED in journal:  # deployed (and triggered) before a crash
            rec.deployed_at = rec.deployed_at or journal[CLEARED]["at"]
            rec.run_id = rec.run_id or run_id
            return
        if CLEARING not in journal and not records.mark(rid, member, CLEARING):
            entry = records.marks(rid).get(member, {})
            if CLEARED in entry:  # another executor of this rollout deployed it meanwhile: watch it
                rec.deployed_at, rec.run_id = rec.deployed_at or entry[CLEARED]["at"], rec.run_id or run_id
                return
        rec.deployed_at = rec.deployed_at or self.ctx.clock.now()
        if run_id is not None:
            note = (
                f"PATCHIT upgrade rollout {rid}, wave {index}: {upgrade.package} {upgrade.from_version} -> "
                f"{upgrade.to_version} ({upgrade.branch or ''} {(upgrade.commit or '')[:12]})"
            )
            self.ctx.api.trigger_dag_run(member, run_id, {"patchit_rollout_id": rid}, note=note[:MAX_NOTE_CHARS])
            rec.run_id = run_id
        records.mark(rid, member, CLEARED)
        self.acted.append(member)

    def _wave_timeout(self, record: WaveRecord) -> float:
        estimate = next((w.seconds for w in self.run.plan.waves if w.index == record.index), 0)
        return estimate * self.inp.wave_timeout_factor if estimate else self.inp.member_timeout_seconds

    def _observe(self, record: WaveRecord, member: str, rec: MemberRecord) -> bool:
        """True when the member's next run after the deployment has ended (rec filled in)."""
        now = self.ctx.clock.now()
        api = self.ctx.api
        if rec.run_id is not None:
            dag_run = api.get_dag_run(member, rec.run_id)
        else:
            after = rec.deployed_at or record.started_at or now
            runs = [r for r in api.dag_runs_after(member, after.isoformat()) if r.get("dag_run_id")]
            dag_run = min(runs, key=lambda r: str(r.get("run_after") or ""), default=None)
            if dag_run is not None:
                rec.run_id = str(dag_run["dag_run_id"])
        state = (dag_run or {}).get("state")
        if dag_run is not None and state in ("success", "failed"):
            rec.state, rec.finished_at = state, now
            rec.bundle_version = dag_run.get("bundle_version")
            versions = [v.get("version_number") for v in dag_run.get("dag_versions") or [] if isinstance(v, dict)]
            rec.dag_version = max((v for v in versions if isinstance(v, int)), default=None)
            if state == "success":
                rec.result = MemberResult.SUCCEEDED
            else:
                rec.result, rec.reason = MemberResult.FAILED, f"its run {rec.run_id} after the upgrade failed"
            return True
        limit = self._wave_timeout(record)
        started = record.started_at or rec.deployed_at or now
        if (now - started).total_seconds() >= limit:
            rec.result, rec.state, rec.finished_at = MemberResult.INCONCLUSIVE, state, now
            waiting = f"run {rec.run_id} still {state or 'not started'}" if rec.run_id else "no run started"
            rec.reason = f"timed out: no end state within the wave's {int(limit)} s ({waiting})"
            return True
        return False

    def _count(self, rec: MemberRecord) -> None:
        if rec.result is MemberResult.SUCCEEDED:
            return
        self.run.failures += 1
        if rec.result is MemberResult.FAILED_SAME_FINGERPRINT:
            self.stop(
                RolloutState.ESCALATED,
                f"the fix did not work: {rec.member} failed again with fingerprint {rec.fingerprint}",
                escalate={"member": rec.member, "try_number": rec.try_number, "fingerprint": rec.fingerprint},
            )
        if budget_exceeded(self.run.failures, self.run.plan.max_errors or 0):
            what = (
                "DAG(s) failed or timed out after the upgrade" if self.upgrade else "failed or inconclusive member(s)"
            )
            self.stop(
                RolloutState.ESCALATED,
                f"error budget exceeded: {self.run.failures} {what}, budget {self.run.plan.max_errors}; "
                f"last: {rec.member} ({rec.reason or rec.result})",
                escalate={"failures": self.run.failures, "max_errors": self.run.plan.max_errors, "member": rec.member},
            )

    # -- after a wave ----------------------------------------------------------------------

    def gate(self, index: int, record: WaveRecord, *, last: bool) -> None:
        gate = self.run.plan.waves[index].gate
        failed = any(r.result is not MemberResult.SUCCEEDED for r in record.results)
        action = gate.on_failures if failed else gate.on_success
        record.gate = action
        self.save()
        if action is GateAction.ABORT:
            self.stop(RolloutState.ABORTED, f"the gate after wave {index} aborts on failures")
        if action is GateAction.PAUSE and not last:
            self.stop(RolloutState.PAUSED, f"the gate after wave {index} waits for a person to continue")
