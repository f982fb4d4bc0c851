"""Rollouts in the PATCHIT UI: the list with KPIs, one rollout's plan, versions, run records and
progress, and the forms that edit, approve or reject a plan. The JSON twins are under /api/.

Scope: a rollout is visible to a user who may read EVERY DAG it touches (its members' DAGs); any
other user gets the same 404 as for a rollout that does not exist. Editing, approving and
rejecting need edit permission on every one of those DAGs; approving and rejecting also need the
HITL permission on `patchit_rollout`, whose approval steps they answer.

Forms post with the CSRF token and Origin check of csrf.py. An edit goes through the engine's
`apply_edits` (re-validated, a new version naming who edited) and is stored with the version it
replaced; a refused edit re-renders the page with the reason and the submitted values (422).
Approving answers the rollout DAG's waiting HITL step on behalf of the person, as the incident
page does for the remediation approval (approvals.py); when no DAG run waits yet, the approval
is recorded in the run record, where the DAG's branch operator finds it and skips the step.
Writes to a run record go through `RolloutStore.modify` (one transaction per change).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag

from patchit_provider.engine.models import (
    ROLLOUT_FINAL_STATES,
    ApprovalPoint,
    MemberRecord,
    MemberResult,
    RolloutRun,
    RolloutState,
    utcnow,
)
from patchit_provider.engine.rollout.edit import PlanEditError, apply_edits, parse_edits
from patchit_provider.engine.rollout.kpis import rollout_kpis
from patchit_provider.www import approvals, csrf, links
from patchit_provider.www.auth import Scope, ScopeDep, UserDep

router = APIRouter(default_response_class=HTMLResponse)

ROLLOUT_DAG_ID = "patchit_rollout"  # dags.rollout.DAG_ID (not imported: that module imports the SDK)
# Approval point -> the task of patchit_rollout that asks for it (dags/rollout.py).
APPROVAL_TASKS = {
    ApprovalPoint.BEFORE_FIRST_WAVE.value: "approve_start",
    ApprovalPoint.BEFORE_PROMOTION.value: "approve_promotion",
}
EDITABLE = frozenset({RolloutState.PLANNED, RolloutState.AWAITING_APPROVAL})
# Rejecting a running rollout stops it: the executor sees the stored final state and clears nothing more.
REJECTABLE = frozenset(
    {RolloutState.PLANNED, RolloutState.AWAITING_APPROVAL, RolloutState.PAUSED, RolloutState.RUNNING}
)
LIST_LIMIT = 1000
POLL_SECONDS = 5
MAX_REASON_CHARS = 2000
NOT_FOUND = "Rollout not found (or not visible to you)"
ID = Annotated[str, Path(min_length=1, max_length=250)]
EDIT_OPS = ("move_member", "resize_wave", "set_max_errors", "set_max_concurrency", "set_bake", "set_approval_points")
INT_FIELDS = {"to_wave", "wave", "size", "max_concurrency"}

# The HITL permission on the rollout DAG: what Airflow's own hitlDetails endpoint requires.
require_answer_rollout = requires_access_dag(
    method="PUT", access_entity=DagAccessEntity.HITL_DETAIL, param_dag_id=ROLLOUT_DAG_ID
)
_lock = threading.Lock()
ROLLOUT_TONE = {
    RolloutState.PLANNED.value: "muted",
    RolloutState.AWAITING_APPROVAL.value: "warn",
    RolloutState.RUNNING.value: "run",
    RolloutState.PAUSED.value: "warn",
    RolloutState.SUCCEEDED.value: "ok",
    RolloutState.ABORTED.value: "bad",
    RolloutState.ESCALATED.value: "bad",
}


# -- records and scope --------------------------------------------------------------------------


def _records(request: Request):
    """The app's RolloutStore, opened once on first use over the incident store's database."""
    state = request.app.state
    if getattr(state, "rollout_records", None) is None:
        with _lock:
            if getattr(state, "rollout_records", None) is None:
                from patchit_provider.engine.store.rollouts import open_rollouts

                state.rollout_records = open_rollouts(state.stores.get().url)
    return state.rollout_records


def run_records(request: Request):
    """The rollout records of the app (the Vulnerabilities page shows each finding's rollout)."""
    return _records(request)


def touched_dags(run: RolloutRun) -> set[str]:
    """The DAGs a rollout re-runs or changes: its targets' DAGs (recovery), else its members (upgrade)."""
    if run.targets:
        return {t.dag_id for t in run.targets.values()}
    return {m for wave in run.plan.waves for m in wave.members}


def can_see(scope: Scope, run: RolloutRun) -> bool:
    dags = touched_dags(run)
    return bool(dags) and dags <= scope.dag_ids


def may_edit_every_dag(user: Any, run: RolloutRun) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    from patchit_provider.www.auth import _auth_manager

    manager = _auth_manager()
    return all(
        manager.is_authorized_dag(method="PUT", user=user, details=DagDetails(id=d)) for d in sorted(touched_dags(run))
    )


def visible_runs(request: Request, scope: Scope) -> list[RolloutRun]:
    return [run for run in _records(request).list(limit=LIST_LIMIT) if can_see(scope, run)]


def kpis_for(request: Request, scope: Scope) -> dict[str, Any]:
    """KPIs of the rollouts this user may see (the Rollouts page and the Overview)."""
    return rollout_kpis(visible_runs(request, scope)).model_dump()


def _get_visible(request: Request, scope: Scope, rollout_id: str) -> RolloutRun:
    run = _records(request).get(rollout_id)
    if run is None or not can_see(scope, run):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return run


# -- figures ------------------------------------------------------------------------------------


def progress(run: RolloutRun) -> dict[str, Any]:
    """Members finished, succeeded, failed (or inconclusive) and in flight, overall and per wave."""
    records = {w.index: w for w in run.waves}
    waves, totals = [], {"total": 0, "finished": 0, "succeeded": 0, "failed": 0, "in_flight": 0}
    for wave in run.plan.waves:
        record = records.get(wave.index)
        results = {r.member: r for r in record.results} if record else {}
        done = [r for r in results.values() if r.result is not None]
        row = {
            "index": wave.index,
            "total": len(wave.members),
            "finished": len(done),
            "succeeded": sum(r.result is MemberResult.SUCCEEDED for r in done),
            "in_flight": sum(r.result is None and _acted(r) for r in results.values()),
            "status": "finished"
            if record and record.finished_at
            else "running"
            if record and record.started_at
            else "pending",
            "gate": record.gate.value if record and record.gate else None,
        }
        row["failed"] = row["finished"] - row["succeeded"]
        for key in totals:
            totals[key] += row[key]
        waves.append(row)
    totals["percent"] = round(100.0 * totals["finished"] / totals["total"], 1) if totals["total"] else 0.0
    return {
        **totals,
        "state": run.state.value,
        "reason": run.reason,
        "failures": run.failures,
        "final": run.state in ROLLOUT_FINAL_STATES,
        "waves": waves,
        "members": {
            r.member: (r.result.value if r.result else ("running" if _acted(r) else "pending"))
            for w in run.waves
            for r in w.results
        },
    }


def _acted(record: MemberRecord) -> bool:
    """The member was cleared (recovery) or the upgrade deployed to it: its result is awaited."""
    return record.cleared_at is not None or record.deployed_at is not None


def pending_point(run: RolloutRun) -> str | None:
    """The approval point a person must answer now: the next unfinished wave's, if not given yet."""
    from patchit_provider.engine.rollout.execute import approval_key

    if run.state not in EDITABLE:
        return None
    finished = {w.index for w in run.waves if w.finished_at is not None}
    wave = next((w for w in run.plan.waves if w.index not in finished), None)
    if wave is None or not wave.approval_before:
        return None
    key = approval_key(wave.index)
    return None if key in run.approved_by else key


def _summary(run: RolloutRun) -> dict[str, Any]:
    figures = progress(run)
    return {
        "rollout_id": run.rollout_id,
        "kind": run.kind,
        "subject": run.subject,
        "state": run.state.value,
        "plan_version": run.plan.version,
        "finished": figures["finished"],
        "total": figures["total"],
        "percent": figures["percent"],
        "failures": run.failures,
        "approved_by": dict(run.approved_by),
        "dags": sorted(touched_dags(run)),
        "created_at": run.created_at.isoformat(),
    }


# -- the rollout DAG's HITL step ----------------------------------------------------------------


def waiting_hitl_run(rollout_id: str, point: str) -> str | None:
    """The patchit_rollout run whose approval task for `point` waits for this rollout, or None."""
    task_id = APPROVAL_TASKS.get(point)
    if task_id is None:  # an out-of-window approval of a later wave: no HITL task asks for it
        return None
    from sqlalchemy import and_, select

    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    query = (
        select(TI.run_id, DagRun.conf)
        .join(HITLDetail, HITLDetail.ti_id == TI.id)
        .join(DagRun, and_(DagRun.dag_id == TI.dag_id, DagRun.run_id == TI.run_id))
        .where(
            TI.dag_id == ROLLOUT_DAG_ID,
            TI.task_id == task_id,
            TI.map_index == -1,
            TI.state == TaskInstanceState.AWAITING_INPUT,
            HITLDetail.responded_at.is_(None),
        )
    )
    with create_session() as session:
        for run_id, conf in session.execute(query).all():
            if isinstance(conf, dict) and conf.get("rollout_id") == rollout_id:
                return run_id
    return None


def answer_hitl(run_id: str, point: str, user: Any, approve: bool) -> None:
    """Answer as PATCHIT's approval identity on behalf of `user` (approvals.on_behalf_of), once the
    parked step has settled (approvals.wait_until_settled: Airflow's resume race); raises the
    handler's HTTPException (404 no step, 409 already answered). The reason stays out of the HITL
    row (Airflow's API shows it to every reader of patchit_rollout): the run record keeps it."""
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.utils.session import create_session

    approvals.wait_until_settled(run_id, dag_id=ROLLOUT_DAG_ID, task_id=APPROVAL_TASKS[point])
    payload = UpdateHITLDetailPayload(
        chosen_options=[approvals.APPROVE if approve else approvals.REJECT], params_input={"reason": ""}
    )
    with create_session() as session:
        update_hitl_detail(
            dag_id=ROLLOUT_DAG_ID,
            dag_run_id=run_id,
            task_id=APPROVAL_TASKS[point],
            update_hitl_detail_payload=payload,
            user=approvals.on_behalf_of(user),
            session=session,
            map_index=-1,
        )


# -- pages --------------------------------------------------------------------------------------


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("refresh", None)
    context.setdefault("embedded", False)
    context.setdefault("rollout_tone", ROLLOUT_TONE)
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/rollouts", name="rollouts_page", summary="Rollouts, newest first, with their KPIs")
async def rollouts_page(request: Request, scope: ScopeDep) -> HTMLResponse:
    runs = await run_in_threadpool(visible_runs, request, scope)
    return _render(request, "rollouts.html", rows=[_summary(r) for r in runs], kpis=rollout_kpis(runs).model_dump())


@router.get(
    "/api/rollouts",
    name="api_rollouts",
    response_class=JSONResponse,
    summary="Rollouts the caller may see, newest first, with KPIs",
)
async def api_rollouts(request: Request, scope: ScopeDep) -> dict[str, Any]:
    runs = await run_in_threadpool(visible_runs, request, scope)
    return {"kpis": rollout_kpis(runs).model_dump(), "rollouts": [_summary(r) for r in runs]}


@router.get(
    "/api/rollouts/{rollout_id}",
    name="api_rollout",
    response_class=JSONResponse,
    summary="One rollout: plan, versions, run records, progress",
)
async def api_rollout(request: Request, scope: ScopeDep, rollout_id: ID) -> dict[str, Any]:
    run = await run_in_threadpool(_get_visible, request, scope, rollout_id)
    return {"rollout": run.model_dump(mode="json"), "progress": progress(run), "pending_approval": pending_point(run)}


@router.get("/rollouts/{rollout_id}", name="rollout_page", summary="One rollout")
async def rollout_page(request: Request, scope: ScopeDep, rollout_id: ID) -> HTMLResponse:
    run = await run_in_threadpool(_get_visible, request, scope, rollout_id)
    return _render_rollout(request, scope, run)


def _render_rollout(
    request: Request,
    scope: Scope,
    run: RolloutRun,
    *,
    status_code: int = 200,
    edit_error: str | None = None,
    edit_form: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The rollout page with the CSRF token of its forms (reused while valid) in a hidden field
    and a strict same-site cookie, as the incident page does."""
    token = csrf.token_for(request, scope.user_id)
    started = any(w.started_at is not None for w in run.waves)
    response = _render(
        request,
        "rollout.html",
        status_code=status_code,
        run=run,
        plan=run.plan,
        figures=progress(run),
        dags=sorted(touched_dags(run)),
        pending=pending_point(run),
        editable=run.state in EDITABLE and not started,
        rejectable=run.state in REJECTABLE,
        members=[m for w in run.plan.waves for m in w.members],
        points=[p.value for p in ApprovalPoint],
        poll_seconds=POLL_SECONDS,
        edit_error=edit_error,
        edit_form=edit_form or {},
        csrf_token=token,
        csrf_field=csrf.FIELD,
    )
    csrf.set_cookie(response, request, token)
    return response


# -- forms --------------------------------------------------------------------------------------


def edit_from_form(form: Any) -> dict[str, Any]:
    """One edit (the JSON form of a PlanEdit) from the edit form's fields; PlanEditError when a
    number is not one."""
    op = str(form.get("op") or "")
    if op not in EDIT_OPS:
        raise PlanEditError(f"unknown edit {op!r}; one of: {', '.join(EDIT_OPS)}")
    edit: dict[str, Any] = {"op": op}
    fields = {
        "move_member": ("member", "to_wave"),
        "resize_wave": ("wave", "size"),
        "set_max_errors": ("max_errors",),
        "set_max_concurrency": ("max_concurrency",),
        "set_bake": ("bake_seconds",),
        "set_approval_points": (),
    }[op]
    for name in fields:
        value = str(form.get(name) or "").strip()
        if not value:
            raise PlanEditError(f"{op}: {name} is required")
        if name in INT_FIELDS or (name == "max_errors" and not value.endswith("%")):
            try:
                edit[name] = int(value)
            except ValueError:
                raise PlanEditError(
                    f"{op}: {name} must be a whole number{' or a percentage' if name == 'max_errors' else ''} (got {value[:40]!r})"
                ) from None
        elif name == "bake_seconds":
            try:
                edit[name] = float(value)
            except ValueError:
                raise PlanEditError(f"{op}: bake_seconds must be a number of seconds (got {value[:40]!r})") from None
        else:
            edit[name] = value
    if op == "set_approval_points":
        edit["approval_points"] = [str(p) for p in form.getlist("approval_points")]
    return edit


@router.post(
    "/rollouts/{rollout_id}/edit",
    name="rollout_edit",
    summary="Edit a plan: a new, re-validated version",
    response_class=RedirectResponse,
)
async def rollout_edit(request: Request, scope: ScopeDep, user: UserDep, rollout_id: ID):
    await csrf.check(request, scope.user_id)
    form = await request.form()
    run = await run_in_threadpool(_get_visible, request, scope, rollout_id)
    if not await run_in_threadpool(may_edit_every_dag, user, run):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Editing a plan needs edit permission on every DAG the rollout touches"
        )
    submitted = {
        k: (form.getlist(k) if k == "approval_points" else str(form.get(k) or ""))[:2000]
        for k in (
            "op",
            "member",
            "to_wave",
            "wave",
            "size",
            "max_errors",
            "max_concurrency",
            "bake_seconds",
            "approval_points",
            "base_version",
        )
    }
    try:
        base = int(submitted["base_version"])
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The form names no plan version: reload the page") from None
    by = user.get_name()

    def change(stored: RolloutRun) -> RolloutRun:
        if stored.state not in EDITABLE or any(w.started_at is not None for w in stored.waves):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"The rollout is {stored.state.value}: its plan can no longer be edited"
            )
        if stored.plan.version != base:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"The plan changed since you opened it (now version {stored.plan.version}): reload and edit again",
            )
        edits = parse_edits([edit_from_form(form)])
        new = apply_edits(stored.plan, edits, by=by)
        first = new.waves[0].approval_before
        return stored.model_copy(
            update={
                "plan": new,
                "plan_version": new.version,
                "plan_history": [*stored.plan_history, stored.plan],
                # An approval was given to the version it saw: an edited plan is approved again.
                "approved_by": {},
                "state": RolloutState.AWAITING_APPROVAL if first else RolloutState.PLANNED,
                "reason": "",
            }
        )

    try:
        await run_in_threadpool(_records(request).modify, rollout_id, change)
    except PlanEditError as refused:
        current = await run_in_threadpool(_get_visible, request, scope, rollout_id)
        return _render_rollout(
            request,
            scope,
            current,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            edit_error=str(refused),
            edit_form=submitted,
        )
    url = links.path_for(request, "rollout_page", rollout_id=rollout_id)
    return RedirectResponse(url + "#plan", status_code=status.HTTP_303_SEE_OTHER)


@router.post(
    "/rollouts/{rollout_id}/{decision}",
    name="rollout_decide",
    summary="Approve or reject a rollout plan",
    dependencies=[Depends(require_answer_rollout)],
    response_class=RedirectResponse,
)
async def rollout_decide(
    request: Request, scope: ScopeDep, user: UserDep, rollout_id: ID, decision: str
) -> RedirectResponse:
    if decision not in ("approve", "reject"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Unknown action")
    await csrf.check(request, scope.user_id)
    reason = " ".join(str((await request.form()).get("reason") or "").split())[:MAX_REASON_CHARS]
    if decision == "reject" and not reason:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Rejecting needs a reason")
    run = await run_in_threadpool(_get_visible, request, scope, rollout_id)
    if not await run_in_threadpool(may_edit_every_dag, user, run):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Answering needs edit permission on every DAG the rollout touches"
        )
    approve = decision == "approve"
    point = pending_point(run)
    if approve and point is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"No approval is due for this rollout ({run.state.value})")
    if not approve and run.state not in REJECTABLE:
        raise HTTPException(status.HTTP_409_CONFLICT, f"The rollout is {run.state.value}: it can no longer be rejected")
    version, by = run.plan.version, user.get_name()
    waiting = await run_in_threadpool(waiting_hitl_run, rollout_id, point) if point else None
    if waiting is not None:  # the DAG waits at this point: answer its step (409 when answered meanwhile)
        await run_in_threadpool(answer_hitl, waiting, point, user, approve)

    def change(stored: RolloutRun) -> RolloutRun:
        # Once the DAG's step took this answer (Airflow accepts one), the record only mirrors it;
        # the approval operator may have written the same approval or stop first.
        if waiting is None:
            if stored.plan.version != version:
                raise HTTPException(status.HTTP_409_CONFLICT, "The plan changed meanwhile: reload and decide again")
            if approve and pending_point(stored) != point:
                raise HTTPException(status.HTTP_409_CONFLICT, "This approval was answered meanwhile")
            if not approve and stored.state not in REJECTABLE:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"The rollout is {stored.state.value}: it can no longer be rejected"
                )
        if approve:
            return stored.model_copy(update={"approved_by": {**stored.approved_by, point: by}})
        return stored.model_copy(
            update={
                "state": RolloutState.ABORTED,
                "finished_at": utcnow(),
                "reason": f"rejected by {by} (plan version {version}): {reason}",
            }
        )

    await run_in_threadpool(_records(request).modify, rollout_id, change)
    url = links.path_for(request, "rollout_page", rollout_id=rollout_id)
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
