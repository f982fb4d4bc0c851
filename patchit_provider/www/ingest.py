"""`POST /events/ingest`: failure events from any platform, handed to the remediation DAG.

The body is read by hand, not by a FastAPI body parameter, so that the checks run in a useful
order: authentication and the permission to start remediation runs first (no anonymous caller
makes us read or parse anything), then the size (413, from Content-Length before reading and
again while streaming), JSON syntax (400), then the schema (422 with field errors). The
published OpenAPI schema still describes the body (see app.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from patchit_provider.engine.models import FailureEvent
from patchit_provider.www.auth import UserDep, require_trigger_remediation
from patchit_provider.www.handoff import FAILED

MAX_EVENT_BYTES = 1_048_576
# The event id becomes the run id `patchit__<event_id>`: Airflow's run-id alphabet, 250 chars.
EVENT_ID = re.compile(r"^[A-Za-z0-9_.~:+-]{1,200}$")

router = APIRouter()




def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # No `input` echo: it may be large, and it is the caller's own data anyway.
    return [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            too_big = int(declared) > limit
        except ValueError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid Content-Length header") from None
        if too_big:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"Event larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"Event larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_event(body: bytes) -> FailureEvent:
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Body is not a JSON document: {exc}"[:300]) from None
    if not isinstance(payload, dict):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body"], "msg": "Input should be a JSON object (a FailureEvent)", "type": "model_type"}],
        )
    if b"\\u0000" in body:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body"], "msg": "NUL characters are not allowed", "type": "string_nul"}],
        )
    try:
        event = FailureEvent.model_validate(payload)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _field_errors(exc.errors())) from None
    if not EVENT_ID.match(event.event_id):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "event_id"], "msg": "event_id must match ^[A-Za-z0-9_.~:+-]{1,200}$", "type": "string_pattern_mismatch"}],
        )
    return event


def accept(store, event: FailureEvent, hand_off, user_name: str) -> tuple[Any, bool, Any]:
    """Store the (redacted) event through the pipeline's receive stage, then hand it off.
    A repeated event id returns its incident; the hand-off is retried (same run id), so a
    client that retries after a failed hand-off heals it."""
    from patchit_provider.engine.models import AuditEvent, AuditKind
    from patchit_provider.engine.pipeline import Remediator, redact_event

    safe = redact_event(event)
    incident = store.get_incident_by_event(event.event_id)
    created = incident is None
    if created:
        incident = Remediator(store).receive(safe)
    result = hand_off(safe, user_name)
    if result.status == FAILED:
        store.append_audit(AuditEvent(
            incident_id=incident.incident_id, kind=AuditKind.STAGE_FAILED, actor="patchit.ingest",
            message=f"hand-off to {result.dag_id} failed: {result.detail}", data={"stage": "handoff"},
        ))
    return incident, created, result


@router.post(
    "/events/ingest",
    name="ingest_event",
    status_code=status.HTTP_201_CREATED,
    summary="Ingest a normalized failure event",
    description="Stores the event as an incident (idempotent by `event_id`: a repeated event answers 200 "
    "with the incident it opened) and starts the `patchit_remediation` DAG run `patchit__<event_id>`. "
    "Needs a JWT of a user allowed to trigger `patchit_remediation`.",
    responses={
        200: {"description": "Event already received: the existing incident"},
        400: {"description": "Body is not JSON"},
        401: {"description": "Not authenticated"},
        403: {"description": "Not allowed to trigger patchit_remediation"},
        413: {"description": "Body over the size limit"},
        422: {"description": "Schema violation, with field errors"},
        503: {"description": "Stored, but the remediation DAG could not be started: retry"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FailureEvent"}}},
        }
    },
)
async def ingest_event(request: Request, user: UserDep, _: None = Depends(require_trigger_remediation)) -> JSONResponse:
    state = request.app.state
    event = parse_event(await _read_body(request, state.max_event_bytes))
    store = await run_in_threadpool(state.stores.get)
    incident, created, result = await run_in_threadpool(accept, store, event, state.hand_off, user.get_name())
    body = {
        "incident_id": incident.incident_id,
        "event_id": event.event_id,
        "created": created,
        "state": incident.state.value,
        "url": str(request.url_for("incident_page", incident_id=incident.incident_id)),
        "handoff": {"status": result.status, "dag_id": result.dag_id, "run_id": result.run_id, "detail": result.detail},
    }
    code = status.HTTP_503_SERVICE_UNAVAILABLE if result.status == FAILED else (201 if created else 200)
    headers = {"Location": str(request.url_for("api_incident", incident_id=incident.incident_id))}
    if code == 503:
        headers["Retry-After"] = "30"
    return JSONResponse(body, status_code=code, headers=headers)
