"""JSON API: the same scoped data as the pages, for scripts and for tests that compare figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from patchit_provider.www import queries
from patchit_provider.www.auth import ScopeDep
from patchit_provider.www.params import FiltersDep

router = APIRouter(prefix="/api", tags=["incidents"])

MAX_OFFSET = 1_000_000_000  # bounded: 2**63 overflowed the database's integer (a 500)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/incidents", name="api_incidents", summary="Incidents the caller may see, newest first")
async def api_incidents(
    request: Request,
    scope: ScopeDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    def work():
        store = request.app.state.stores.get()
        return queries.count(store, scope, filters), queries.list_summaries(store, scope, filters, limit, offset)

    total, rows = await run_in_threadpool(work)
    return {"total": total, "limit": limit, "offset": offset, "incidents": [_jsonable(r) for r in rows]}


@router.get("/incidents/{incident_id}", name="api_incident", summary="One incident with its audit trail")
async def api_incident(request: Request, scope: ScopeDep, incident_id: str) -> dict[str, Any]:
    def work():
        store = request.app.state.stores.get()
        incident = queries.get_visible(store, scope, incident_id)
        if incident is None:
            return None
        return {
            "incident": incident.model_dump(mode="json"),
            "audit": [a.model_dump(mode="json") for a in store.audit_trail(incident_id)],
            "artifacts": store.list_artifacts(incident_id),
        }

    found = await run_in_threadpool(work)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Incident not found")
    return found


@router.get("/overview", name="api_overview", summary="The overview page's figures")
async def api_overview(request: Request, scope: ScopeDep, filters: FiltersDep) -> dict[str, Any]:
    return await run_in_threadpool(lambda: queries.overview(request.app.state.stores.get(), scope, filters))
