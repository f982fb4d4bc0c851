"""Thin operators of `patchit_rollout`: read `rollout_id` from the run's conf, build the engine's
context from PATCHIT's store and the Airflow API hook, call `execute_rollout`, log ids only. The
engine runs a recovery or an upgrade rollout from the run record's `kind`; nothing here differs.

A rollout's conf is a reference (`{"rollout_id": ...}`) and task logs, XComs and HITL bodies
hold ids and states only: readers of `patchit_rollout` must not see another DAG's failure text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

ROLLOUT_ID_PATTERN = r"^ro-[0-9a-f]{6,64}$"
APPROVER = {"id": "patchit:approvals", "name": "PATCHIT (answer on the rollout's PATCHIT page)"}


def rollout_id_of(context: Any) -> str:
    from airflow.sdk.exceptions import AirflowFailException

    dag_run = context.get("dag_run")
    conf = dict(getattr(dag_run, "conf", None) or context.get("params") or {})
    rollout_id = conf.get("rollout_id")
    if not isinstance(rollout_id, str) or not re.match(ROLLOUT_ID_PATTERN, rollout_id):
        raise AirflowFailException('PATCHIT rollout: the conf must be {"rollout_id": "ro-..."}')
    return rollout_id


class SystemClock:
    def now(self):
        from patchit_provider.engine.models import utcnow

        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class StoreDesk:
    """IncidentDesk over the incident store and the API: fingerprints through the remediation
    pipeline's own evidence and triage, escalations as audit events, new failures handed to
    the remediation DAG with a task-instance reference (the receive path)."""

    def __init__(self, store: Any, api: Any, settings: Any) -> None:
        self.store, self.api, self.settings = store, api, settings

    def fingerprint_of(self, member, try_number: int) -> str | None:
        from patchit_provider.capture.reference import event_from_reference
        from patchit_provider.engine.models import TaskInstanceRef
        from patchit_provider.engine.rollout.members import fingerprint_of_event

        ref = TaskInstanceRef(
            dag_id=member.dag_id,
            run_id=member.run_id,
            task_id=member.task_id,
            map_index=member.map_index,
            try_number=try_number or None,
        )
        event = event_from_reference(ref, self.api, log_tail_chars=self.settings.log_tail_bytes)
        return fingerprint_of_event(event, self.settings)

    def escalate(self, subject: str, message: str, data: dict[str, Any]) -> None:
        from patchit_provider.engine.models import AuditEvent, AuditKind

        if data.get("kind") == "upgrade":  # the subject is a finding: its record and an incident
            self._escalate_finding(subject, message, str(data.get("rollout_id") or ""))
            return
        self.store.append_audit(
            AuditEvent(incident_id=subject, kind=AuditKind.ROLLOUT_ESCALATED, message=message, data=data)
        )

    def _escalate_finding(self, finding_id: str, message: str, rollout_id: str) -> None:
        from patchit_provider.engine.store.vulns import VulnStore
        from patchit_provider.engine.vulns.incident import escalate_upgrade
        from patchit_provider.notifications.webhook import build_notifier

        with VulnStore(self.store.url) as vulns:
            record = vulns.get(finding_id)
            if record is not None:
                notifier = build_notifier(self.store, self.settings)
                vulns.save(escalate_upgrade(record, rollout_id, message, self.store, notifier))

    def hand_off(self, member, try_number: int) -> str | None:
        from patchit_provider.dags.remediation import DAG_ID

        run_id = f"rollout__{member.dag_id}__{member.run_id}__{member.task_id}__{member.map_index}__{try_number}"[:250]
        conf = {
            "dag_id": member.dag_id,
            "run_id": member.run_id,
            "task_id": member.task_id,
            "map_index": member.map_index,
            "try_number": try_number,
        }
        self.api.trigger_dag_run(DAG_ID, run_id, conf)
        return run_id


def rollout_context(settings=None, *, api=None, store=None, rollouts=None, clock=None):
    """(RolloutContext, closer) from `[patchit]`; every part can be given (tests)."""
    from patchit_provider.config import load_settings
    from patchit_provider.engine.rollout.execute import RolloutContext
    from patchit_provider.engine.store.rollouts import open_rollouts
    from patchit_provider.hooks.api import PatchitApiHook
    from patchit_provider.hooks.store import PatchitStoreHook

    from patchit_provider.notifications.webhook import build_notifier

    settings = settings or load_settings()
    store = store or PatchitStoreHook(settings=settings).get_store()
    rollouts = rollouts or open_rollouts(store.url)
    api = api or PatchitApiHook(settings.api_conn_id, timeout=30.0)
    ctx = RolloutContext(
        store=store,
        settings=settings,
        notifier=build_notifier(store, settings),
        api=api,
        records=rollouts,
        desk=StoreDesk(store, api, settings),
        clock=clock or SystemClock(),
    )

    def close() -> None:
        rollouts.close()
        store.close()

    return ctx, close


class RolloutWavesOperator(BaseOperator):
    """Run the rollout's waves (up to `stop_after_wave`, e.g. 0 for the canary task).

    Escalated or aborted: the task fails (no retry) with ids and the reason the engine wrote.
    Paused (a gate, or live runs/pool that stayed busy): the task fails; clearing it continues
    the rollout (a retry or a person's clear is the decision to resume)."""

    template_fields: Sequence[str] = ()
    ui_color = "#e4f7e4"

    def __init__(
        self,
        *,
        stop_after_wave: int | None = None,
        poll_seconds: float = 10.0,
        member_timeout_seconds: float = 3600.0,
        pressure_wait_seconds: float = 600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stop_after_wave = stop_after_wave
        self.poll_seconds = poll_seconds
        self.member_timeout_seconds = member_timeout_seconds
        self.pressure_wait_seconds = pressure_wait_seconds

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowException, AirflowFailException

        from patchit_provider.engine.models import RolloutState
        from patchit_provider.engine.rollout.execute import (
            ExecuteInput,
            execute_rollout,
        )

        rollout_id = rollout_id_of(context)
        ti = context.get("ti")
        inp = ExecuteInput(
            rollout_id=rollout_id,
            stop_after_wave=self.stop_after_wave,
            resume=bool(ti is not None and (getattr(ti, "try_number", 1) or 1) > 1),
            poll_seconds=self.poll_seconds,
            member_timeout_seconds=self.member_timeout_seconds,
            pressure_wait_seconds=self.pressure_wait_seconds,
        )
        ctx, close = rollout_context()
        try:
            out = execute_rollout(inp, ctx)
        finally:
            close()
        self.log.info(
            "PATCHIT rollout %s: %s after %d wave(s), %d failure(s)",
            rollout_id,
            out.state.value,
            out.waves_finished,
            out.failures,
        )
        if out.state in (RolloutState.ESCALATED, RolloutState.ABORTED):
            raise AirflowFailException(f"PATCHIT rollout {rollout_id} {out.state.value}: {out.reason}")
        if out.state in (RolloutState.PAUSED, RolloutState.AWAITING_APPROVAL):
            raise AirflowException(f"PATCHIT rollout {rollout_id} {out.state.value}: {out.reason}")
        return {"rollout_id": rollout_id, "state": out.state.value, "waves_finished": out.waves_finished}


try:  # the HITL operators need Airflow 3.1+
    from airflow.providers.standard.operators.branch import BaseBranchOperator
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # pragma: no cover
    BaseBranchOperator = ApprovalOperator = None  # type: ignore[assignment,misc]


def _load(rollout_id: str):
    from patchit_provider.engine.store.rollouts import open_rollouts
    from patchit_provider.hooks.store import PatchitStoreHook

    store = PatchitStoreHook().get_store()
    try:
        rollouts = open_rollouts(store.url)
    finally:
        store.close()
    return rollouts


if BaseBranchOperator is not None:

    class DecideRolloutApprovalOperator(BaseBranchOperator):
        """To `approval_task_id` when the plan puts an approval before `wave` and nobody gave it yet."""

        def __init__(self, *, wave: int, approval_task_id: str, skip_task_id: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.wave, self.approval_task_id, self.skip_task_id = wave, approval_task_id, skip_task_id

        def choose_branch(self, context: Any) -> str:
            from patchit_provider.engine.rollout.execute import approval_key

            rollout_id = rollout_id_of(context)
            rollouts = _load(rollout_id)
            try:
                run = rollouts.get(rollout_id)
            finally:
                rollouts.close()
            if run is None:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(f"PATCHIT rollout {rollout_id}: no such rollout in the store")
            waves = run.plan.waves
            needed = (
                self.wave < len(waves)
                and waves[self.wave].approval_before
                and approval_key(self.wave) not in run.approved_by
            )
            return self.approval_task_id if needed else self.skip_task_id

    class RolloutApprovalOperator(ApprovalOperator):
        """A person approves the rollout before `wave`. Ids and a link only in the HITL body;
        assigned to PATCHIT's approval identity, like the remediation approval."""

        template_fields: Sequence[str] = ("subject", "body")

        def __init__(self, *, wave: int, **kwargs: Any) -> None:
            from airflow.sdk import Param

            kwargs.setdefault("subject", "PATCHIT: approve the rollout?")
            kwargs.setdefault("assigned_users", [APPROVER])
            kwargs.setdefault("params", {"reason": Param("", type=["null", "string"], maxLength=2000, title="Reason")})
            super().__init__(**kwargs)
            self.wave = wave

        def execute(self, context: Any) -> Any:
            from patchit_provider.engine.rollout.execute import approval_key

            rollout_id = rollout_id_of(context)
            self.subject = f"PATCHIT: approve rollout {rollout_id} ({approval_key(self.wave)})?"
            self.body = (
                f"**Rollout** `{rollout_id}` · approval point `{approval_key(self.wave)}`\n\n"
                f"The plan, its members and results are on the [PATCHIT rollout page]"
                f"(/patchit/rollouts/{rollout_id})."
            )
            return super().execute(context)

        def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
            from patchit_provider.engine.models import RolloutState
            from patchit_provider.engine.rollout.execute import approval_key

            rollout_id = rollout_id_of(context)
            chosen = list(event.get("chosen_options") or []) if "error" not in event else []
            user = event.get("responded_by_user") or {}
            by = str(user.get("name") or user.get("id") or "unknown")
            key = approval_key(self.wave)

            def change(run):  # one transaction: the Rollouts page may write the same record
                if chosen == [self.APPROVE]:
                    return run.model_copy(update={"approved_by": {**run.approved_by, key: by}})
                if run.state is RolloutState.ABORTED:
                    return run
                return run.model_copy(update={"state": RolloutState.ABORTED, "reason": f"not approved ({key}) by {by}"})

            rollouts = _load(rollout_id)
            try:
                rollouts.modify(rollout_id, change)
            finally:
                rollouts.close()
            answer = super().execute_complete(context, event)
            return {"chosen_options": list(answer["chosen_options"])}
