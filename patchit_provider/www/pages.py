"""Server-rendered pages. Every route is a GET that only reads; the one form (approve / reject)
posts to a route that checks the CSRF token and Origin before anything else, and answers the
remediation run's HITL approval step (see approvals.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from patchit_provider.engine.models import IncidentState, Platform
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www import approvals, csrf, links, queries, rollouts
from patchit_provider.www.auth import (
    ScopeDep,
    UserDep,
    may_edit_failing_dag,
    require_answer_approval,
    require_read_run,
)
from patchit_provider.www.params import WINDOWS, FiltersDep, echo

router = APIRouter(default_response_class=HTMLResponse)

PER_PAGE = 50
REFRESH_SECONDS = 10
MAX_REASON_CHARS = 2000


def _render(request: Request, name: str, **context: Any) -> HTMLResponse:
    context.setdefault("refresh", None)
    context.setdefault("embedded", False)
    return request.app.state.templates.TemplateResponse(request, name, context)


def _choices() -> dict[str, list[str]]:
    return {
        "states": [s.value for s in IncidentState],
        "categories": [c.value for c in Category],
        "platforms": [p.value for p in Platform],
        "windows": list(WINDOWS),
    }


@router.get("/", name="incidents_page", summary="Incidents list")
async def incidents_page(
    request: Request,
    scope: ScopeDep,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    def work():
        store = request.app.state.stores.get()
        total = queries.count(store, scope, filters)
        rows = queries.list_summaries(store, scope, filters, PER_PAGE, (page - 1) * PER_PAGE)
        return total, rows

    total, rows = await run_in_threadpool(work)
    running = any(row["state"] in {s.value for s in queries.RUNNING_STATES} for row in rows)
    pages = max(1, -(-total // PER_PAGE))
    raw = echo(
        **{
            k: request.query_params.get(k)
            for k in ("state", "category", "dag_id", "platform", "window", "since", "until", "q")
        }
    )
    return _render(
        request,
        "incidents.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        params=raw,
        refresh=REFRESH_SECONDS if running else None,
        choices=_choices(),
    )


def _incident_context(store, scope, incident_id: str) -> dict[str, Any] | None:
    incident = queries.get_visible(store, scope, incident_id)
    if incident is None:
        return None
    rca = store.get_artifact(incident_id, "rca.md")
    return {
        "incident": incident,
        "audit": store.audit_trail(incident_id),
        "occurrences": store.occurrences(incident_id),
        "artifacts": store.list_artifacts(incident_id),
        "rca": rca.content if rca else None,
        "running": incident.state in queries.RUNNING_STATES,
        # Only a validated patch can wait for a person: skip the Airflow DB otherwise.
        "approval_pending": incident.state is IncidentState.VALIDATED
        and approvals.pending(incident.remediation_run_id),
    }


@router.get("/incidents/{incident_id}", name="incident_page", summary="One incident")
async def incident_page(request: Request, scope: ScopeDep, incident_id: str) -> HTMLResponse:
    context = await run_in_threadpool(_incident_context, request.app.state.stores.get(), scope, incident_id)
    if context is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Incident not found (or not visible to you)")
    return _render_incident(request, scope, context)


def _render_incident(request: Request, scope, context: dict[str, Any], embedded: bool = False) -> HTMLResponse:
    """The incident page, with the CSRF token of its form (reused while valid, so two open
    tabs keep working) in a hidden field and in a strict same-site cookie."""
    token = csrf.token_for(request, scope.user_id)
    response = _render(
        request,
        "incident.html",
        csrf_token=token,
        csrf_field=csrf.FIELD,
        embedded=embedded,
        refresh=REFRESH_SECONDS if context["running"] else None,
        **context,
    )
    csrf.set_cookie(response, request, token)
    return response


@router.get(
    "/runs",
    name="run_page",
    summary="The incident of a DAG run or task instance",
    dependencies=[Depends(require_read_run)],
)
async def run_page(
    request: Request,
    scope: ScopeDep,
    dag_id: Annotated[str, Query(min_length=1, max_length=250)],
    run_id: Annotated[str, Query(min_length=1, max_length=250)],
    task_id: Annotated[str | None, Query(max_length=250)] = None,
) -> HTMLResponse:
    # The UI may fill {RUN_ID} unencoded: "+00:00" of a scheduled run then arrives as " 00:00".
    # Spaces are outside Airflow's run-id alphabet, so turning them back into "+" is safe.
    run_id = run_id.replace(" ", "+")
    rows = await run_in_threadpool(
        lambda: queries.for_run(request.app.state.stores.get(), scope, dag_id, run_id, task_id or None)
    )
    if len(rows) == 1:  # the common case: show the incident itself inside the tab
        context = await run_in_threadpool(
            _incident_context, request.app.state.stores.get(), scope, rows[0]["incident_id"]
        )
        if context is not None:
            return _render_incident(request, scope, context, embedded=True)
    running = any(row["state"] in {s.value for s in queries.RUNNING_STATES} for row in rows)
    return _render(
        request,
        "runs.html",
        rows=rows,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        refresh=REFRESH_SECONDS if running else None,
    )


@router.get("/overview", name="overview_page", summary="Overview charts")
async def overview_page(request: Request, scope: ScopeDep, filters: FiltersDep) -> HTMLResponse:
    figures = await run_in_threadpool(lambda: queries.overview(request.app.state.stores.get(), scope, filters))
    raw = echo(**{k: request.query_params.get(k) for k in ("window", "since", "until")})
    kpis = await run_in_threadpool(rollouts.kpis_for, request, scope)  # all time: the window filters incidents
    return _render(request, "overview.html", figures=figures, params=raw, choices=_choices(), kpis=kpis)


@router.post(
    "/incidents/{incident_id}/{decision}",
    name="decide",
    summary="Approve or reject a pending patch",
    dependencies=[Depends(require_answer_approval)],
    response_class=RedirectResponse,
)
async def decide(request: Request, scope: ScopeDep, user: UserDep, incident_id: str, decision: str) -> RedirectResponse:
    """Answer the incident's pending HITL approval step as this user, then back to the incident."""
    if decision not in ("approve", "reject"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Unknown action")
    await csrf.check(request, scope.user_id)
    reason = " ".join(str((await request.form()).get("reason") or "").split())[:MAX_REASON_CHARS]
    if decision == "reject" and not reason:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Rejecting needs a reason")
    incident = await run_in_threadpool(request.app.state.stores.get().get_incident, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Incident not found (or not visible to you)")
    # Visibility first: a user who cannot read the failing DAG learns nothing, not even that it exists.
    if not scope.can_see(incident):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Incident not found (or not visible to you)")
    # The failing DAG's edit permission, which Airflow's HITL check cannot know about.
    if not await run_in_threadpool(may_edit_failing_dag, user, incident):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Answering needs edit permission on the failing DAG")
    run_id = incident.remediation_run_id
    if not await run_in_threadpool(approvals.pending, run_id):
        raise HTTPException(status.HTTP_409_CONFLICT, "No approval is pending for this incident")
    store = request.app.state.stores.get()
    await run_in_threadpool(approvals.decide, store, incident_id, run_id, user, decision == "approve", reason)
    url = links.path_for(request, "incident_page", incident_id=incident_id)  # relative: never the Host header
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
