"""Executing a recovery rollout, wave by wave, as a stage: `execute_rollout(inp, ctx) -> out`.

Pure engine code: Airflow is reached only through `ctx.api` (the REST API's documented shapes,
see hooks/api.py), the records through `ctx.records` (engine/store/rollouts.py), incidents
through `ctx.desk`, time through `ctx.clock`. Rules, each from the issue:

- a member is cleared with a dry run first (exactly its one task instance, else inconclusive),
  then for real with `only_failed` and `run_on_latest_version`; at most `max_concurrency` in
  flight; "clearing M" and "cleared M" are journaled so a retried task never clears M twice;
- a re-run counts as a success only in state success ON the fixed DAG version (the latest when
  the rollout started); skipped, upstream_failed, removed, an older version or no end state
  before `member_timeout_seconds` are inconclusive; inconclusive members count against the
  budget like failures (a recovery that cannot be confirmed is not one);
- a failure with the incident's fingerprint means the fix did not work: stop at once and
  escalate; another fingerprint is handed to the receive path as a new failure;
- the budget is cumulative and stops when failures STRICTLY exceed it (`budget_exceeded`);
- between waves: bake, the gate (continue / pause / abort), approvals; before each wave, a
  bounded wait while the DAG's live runs are queued or the members' pool is full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

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

CLEARING, CLEARED = "clearing", "cleared"
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
INCONCLUSIVE_TI_STATES = frozenset({"skipped", "upstream_failed", "removed"})
MAX_NOTE_CHARS = 1_000  # Airflow's limit on a TI note


class RolloutNotFound(NotFoundError):
    """No rollout run with that id (the one 'not found', engine.errors.NotFoundError)."""


# -- the context's typed protocols ------------------------------------------------------------


class RolloutApi(Protocol):
    """The Airflow REST API calls the executor needs (PatchitApiHook implements them)."""

    def clear_task_instances(self, dag_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def get_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]: ...

    def latest_dag_version(self, dag_id: str) -> int | None: ...

    def queued_run_ids(self, dag_id: str) -> list[str]: ...

    def pool_open_slots(self, pool: str) -> int | None: ...


class RolloutRecords(Protocol):
    """RolloutStore's public API."""

    def get(self, rollout_id: str) -> RolloutRun | None: ...

    def save(self, run: RolloutRun) -> RolloutRun: ...

    def modify(self, rollout_id: str, change: Callable[[RolloutRun], RolloutRun]) -> RolloutRun: ...

    def mark(self, rollout_id: str, member: str, phase: str, *, try_before: int | None = None) -> bool: ...

    def marks(self, rollout_id: str) -> dict[str, dict[str, Any]]: ...


class IncidentDesk(Protocol):
    """Incidents: the fingerprint of a failed try, an escalation, a new failure's hand-off."""

    def fingerprint_of(self, member: RecoveryMember, try_number: int) -> str | None: ...

    def escalate(self, subject: str, message: str, data: dict[str, Any]) -> None: ...

    def hand_off(self, member: RecoveryMember, try_number: int) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass
class RolloutContext:
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


class ExecuteOutput(BaseModel):
    rollout_id: str
    state: RolloutState
    reason: str = ""
    waves_finished: int = 0
    failures: int = 0
    awaiting_approval: str | None = None
    cleared_now: list[str] = Field(default_factory=list, description="Members this call cleared (not resumed ones).")


class _Stop(Exception):
    """The rollout stopped: the run's state and reason are already set."""


class _Overruled(Exception):
    """Someone else (a person rejecting on the Rollouts page) ended the rollout meanwhile."""

    def __init__(self, stored: RolloutRun) -> None:
        super().__init__(stored.rollout_id)
        self.stored = stored


def approval_key(wave: int) -> str:
    return {0: "before_first_wave", 1: "before_promotion"}.get(wave, f"before_wave_{wave}")


# -- the stage --------------------------------------------------------------------------------


def execute_rollout(inp: ExecuteInput, ctx: RolloutContext) -> ExecuteOutput:
    run = ctx.records.get(inp.rollout_id)
    if run is None:
        raise RolloutNotFound(f"no rollout {inp.rollout_id!r}")
    runner = _Runner(run, inp, ctx)
    runner.go()
    return runner.output()


class _Runner:
    def __init__(self, run: RolloutRun, inp: ExecuteInput, ctx: RolloutContext) -> None:
        self.run, self.inp, self.ctx = run, inp, ctx
        self.cleared_now: list[str] = []
        self.awaiting: str | None = None
        self.written = run.state  # the state this executor last stored

    def output(self) -> ExecuteOutput:
        return ExecuteOutput(
            rollout_id=self.run.rollout_id,
            state=self.run.state,
            reason=self.run.reason,
            waves_finished=sum(1 for w in self.run.waves if w.finished_at is not None),
            failures=self.run.failures,
            awaiting_approval=self.awaiting,
            cleared_now=self.cleared_now,
        )

    def save(self) -> None:
        """Store the run in one read-change-write transaction. The in-memory run stays the one
        being worked on (wave and member records are live references into it). A final state
        someone else stored meanwhile wins (nothing more is cleared); approvals given meanwhile
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

    def stop(self, state: RolloutState, reason: str, *, escalate: dict[str, Any] | None = None) -> None:
        self.run.state, self.run.reason = state, reason
        if state in ROLLOUT_FINAL_STATES:
            self.run.finished_at = self.ctx.clock.now()
        self.save()
        if escalate is not None:
            self.ctx.desk.escalate(self.run.subject, reason, {"rollout_id": self.run.rollout_id, **escalate})
        raise _Stop

    def go(self) -> None:
        run = self.run
        if run.state in ROLLOUT_FINAL_STATES:
            return
        if run.state is RolloutState.PAUSED and not self.inp.resume:
            return  # a person continues it (resume); a pause is never lifted silently
        try:
            if not run.plan.valid or not run.plan.waves:
                self.stop(RolloutState.ABORTED, "the plan is not valid: " + "; ".join(run.plan.problems))
            if run.started_at is None:
                run.started_at = self.ctx.clock.now()
            run.state, run.reason = RolloutState.RUNNING, ""
            self._fix_versions()
            self.save()
            for wave in run.plan.waves:
                record = self._record(wave.index)
                if record.finished_at is not None:
                    continue
                if self.inp.stop_after_wave is not None and wave.index > self.inp.stop_after_wave:
                    return
                self._before_wave(wave.index, wave.approval_before)
                self._run_wave(wave.index, wave.members, record)
                self._gate(wave.index, record, last=wave.index == run.plan.waves[-1].index)
            self.run.state, self.run.reason, self.run.finished_at = RolloutState.SUCCEEDED, "", self.ctx.clock.now()
            self.save()
        except _Stop:
            return

    # -- before a wave ---------------------------------------------------------------------

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

    def _record(self, index: int) -> WaveRecord:
        for record in self.run.waves:
            if record.index == index:
                return record
        members = self.run.plan.waves[index].members
        record = WaveRecord(index=index, members=list(members))
        self.run.waves.append(record)
        return record

    def _before_wave(self, index: int, approval_before: bool) -> None:
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

    # -- a wave ----------------------------------------------------------------------------

    def _run_wave(self, index: int, members: list[str], record: WaveRecord) -> None:
        clock = self.ctx.clock
        if record.started_at is None:
            record.started_at = clock.now()
        journal = self.ctx.records.marks(self.run.rollout_id)
        queue = [m for m in members if (record.result_of(m) is None or record.result_of(m).result is None)]
        inflight: dict[str, MemberRecord] = {}
        concurrency = self.run.plan.max_concurrency or 1
        while queue or inflight:
            while queue and len(inflight) < concurrency:
                member = queue.pop(0)
                rec = self._member_record(record, member)
                self._clear(index, member, rec, journal.get(member, {}))
                if rec.result is None:
                    inflight[member] = rec
                else:
                    self._count(rec)
                self.save()
            for member in list(inflight):
                rec = inflight[member]
                if self._poll(member, rec):
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
        self.cleared_now.append(member)

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
            self.stop(
                RolloutState.ESCALATED,
                f"error budget exceeded: {self.run.failures} failed or inconclusive member(s), "
                f"budget {self.run.plan.max_errors}",
                escalate={"failures": self.run.failures, "max_errors": self.run.plan.max_errors},
            )

    # -- after a wave ----------------------------------------------------------------------

    def _gate(self, index: int, record: WaveRecord, *, last: bool) -> None:
        gate = self.run.plan.waves[index].gate
        failed = any(r.result is not MemberResult.SUCCEEDED for r in record.results)
        action = gate.on_failures if failed else gate.on_success
        record.gate = action
        self.save()
        if action is GateAction.ABORT:
            self.stop(RolloutState.ABORTED, f"the gate after wave {index} aborts on failures")
        if action is GateAction.PAUSE and not last:
            self.stop(RolloutState.PAUSED, f"the gate after wave {index} waits for a person to continue")
