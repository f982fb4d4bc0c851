"""`POST /events/ingest`: failure events from other platforms, handed to the remediation DAG.

The body is read by hand, not by a FastAPI body parameter, so that the checks run in a useful
order: a bearer token (a browser's `_token` cookie is refused, so no other site can post as the
signed-in user) and the permission to start remediation runs first, a foreign `Origin` next
(403), then the media type (415 unless JSON), the size (413, from Content-Length before reading
and again while streaming), JSON syntax (400), the schema in pydantic's strict mode (422 with
field errors: "3" is not an integer, as the published schema says), and what an ingested event
may name (engine/intake.py: no airflow platform, no local files, no code outside repo_map).

The stored event id is namespaced by the caller (`ingest:<user>:<id>`), so one caller's ids
never meet another's or capture's. Concurrent deliveries of one event: the store decides
atomically which one opened the incident (201 once, 200 for the rest), and the run is started
with the stored event, so the run's conf is the incident's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from patchit_provider.engine import intake, limits
from patchit_provider.engine.constants import REMEDIATION_DAG_ID, RUN_ID_PREFIX
from patchit_provider.engine.models import FailureEvent, Platform
from patchit_provider.www import links
from patchit_provider.www.auth import UserDep, require_trigger_remediation
from patchit_provider.www.csrf import same_origin
from patchit_provider.www.handoff import FAILED

MAX_EVENT_BYTES = 1_048_576
MAX_JSON_DEPTH = 12  # an event is at most 3 levels deep (error.frames[i]) plus metadata's 8
JSON_TYPES = ("application/json",)

router = APIRouter()


def require_bearer(request: Request) -> None:
    """401 unless the caller sent `Authorization: Bearer <JWT>`: a cookie session is a browser,
    which another site can make post here; relays and scripts always have a token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The ingest API takes a bearer token (Authorization: Bearer <JWT from POST /auth/token>), not a browser session",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _check_request(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site request refused: Origin is not this server")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Send the event as Content-Type: application/json (got {media or 'none'!r})",
        )


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # No `input` echo: it may be large, and it is the caller's own data anyway.
    return [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]


def _unprocessable(errors: list[dict[str, Any]]) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors)


async def read_body(request: Request, limit: int) -> bytes:
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


def _json_problem(payload: Any) -> str | None:
    """Nesting beyond any event's shape, or text that is not Unicode (a lone surrogate escape),
    said plainly before the schema's reader reports them as bare "invalid JSON". Iterative."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"the JSON document is nested deeper than {MAX_JSON_DEPTH} levels (metadata: at most {limits.META_MAX_DEPTH})"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return (
                    "the JSON holds a lone surrogate escape (\\ud800-\\udfff without its pair): not valid Unicode text"
                )
    return None


def parse_event(body: bytes) -> FailureEvent:
    """400 for what is not JSON, 422 (field errors) for what is not a FailureEvent (strict)."""
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Body is not a JSON document: {exc}"[:300]) from None
    if not isinstance(payload, dict):
        raise _unprocessable(
            [{"loc": ["body"], "msg": "Input should be a JSON object (a FailureEvent)", "type": "model_type"}]
        )
    problem = _json_problem(payload)
    if problem:
        raise _unprocessable([{"loc": ["body"], "msg": problem, "type": "json_invalid"}])
    try:
        # Strict, from the JSON text: what the published schema says is what is accepted. The
        # JSON reader also refuses lone surrogate escapes and nesting deeper than it supports.
        return FailureEvent.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise _unprocessable(_field_errors(exc.errors())) from None


_NO_NUL = "^[^\\u0000]*$"


def published_schema(settings: Any) -> dict[str, dict[str, Any]]:
    """The JSON schemas of the ingest body (FailureEvent and its parts) as ingest accepts them:
    pydantic's, narrowed where the model's checks are not expressible by the type alone, so
    clients (and the fuzz test) generating from the schema send what is accepted. Conservative
    subsets where needed: URIs of the configured schemes on a named host, metadata one level of
    JSON scalars. Dates are plain `date-time`: the range (2000-01-01 to tomorrow) moves with the
    clock, so a schema pattern would be wrong one day; out-of-range dates get a 422 that says so."""
    event = FailureEvent.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    parts = event.pop("$defs", {})
    props = event["properties"]
    platforms = [p.value for p in Platform if p is not Platform.AIRFLOW]
    props["platform"] = {
        "type": "string",
        "enum": platforms,
        "description": "Platform that failed; `airflow` failures come through capture only.",
    }
    event["required"] = sorted({*event.get("required", []), "platform"})
    props["event_id"].update(
        maxLength=intake.MAX_CALLER_ID_CHARS,
        description="Your id of the failure (idempotency "
        "key, per caller); default: derived from platform, pipeline, run, task, map index, try.",
    )
    schemes = "|".join(re.escape(s) for s in settings.ingest_uri_schemes if s != "file") or "none"
    uri = {
        "type": "string",
        "maxLength": limits.MAX_URI_CHARS,
        "pattern": rf"^({schemes})://[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{{2,}}/[A-Za-z0-9._~/-]*$",
        "description": "Schemes of [patchit] ingest_uri_schemes, hosts of ingest_uri_hosts (empty: any public "
        "host); never file:// or a local path.",
    }
    props["log_uri"] = {"anyOf": [uri, {"type": "null"}], "default": None}
    props["artifact_uris"]["items"] = uri
    props["code_path"]["description"] = (
        "Only inside a repository of [patchit] repo_map (a relative path: when the pipeline is mapped)."
    )
    scalar = {
        "type": ["string", "number", "boolean", "null"],
        "maxLength": limits.META_MAX_STR_CHARS,
        "minimum": -limits.JSON_SAFE_INT,
        "maximum": limits.JSON_SAFE_INT,
        "pattern": _NO_NUL,
    }
    props["metadata"].update(
        additionalProperties=scalar, propertyNames={"maxLength": limits.META_MAX_KEY_CHARS, "pattern": _NO_NUL}
    )
    schemas = {**parts, "FailureEvent": event}
    for schema in schemas.values():
        _forbid_nul(schema)
    return schemas


def _forbid_nul(schema: Any) -> None:
    """Every plain string of the schema says: no NUL (the model refuses it)."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "string" and not {"pattern", "format", "enum", "const"} & item.keys():
                item["pattern"] = _NO_NUL
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_event(event: FailureEvent, settings: Any, user_name: str) -> FailureEvent:
    """The event as stored, in the caller's namespace; 422 naming the field it may not say."""
    problems = intake.refusals(event, settings)
    if problems:
        raise _unprocessable([{"loc": ["body", *loc], "msg": msg, "type": "ingest_refused"} for loc, msg in problems])
    return intake.namespaced(event, user_name)


def accept(store, event: FailureEvent, hand_off, user_name: str, settings: Any) -> tuple[Any, bool, Any]:
    """Store the (redacted) event through the pipeline's receive stage (with the app's resolved
    `settings`, never defaults), then hand the *stored* event off (the run's conf is the
    incident's even when a repeat carries other text). A repeated event id returns its incident;
    the hand-off is asked again (same run id: a duplicate is harmless), so a client that retries
    after a failed hand-off heals it."""
    from patchit_provider.engine.models import AuditKind
    from patchit_provider.engine.pipeline import Remediator

    incident, created = Remediator(store, settings).receive_created(event)
    result = hand_off(incident.event, user_name)
    if result.status == FAILED:
        store.audit(
            incident.incident_id,
            AuditKind.STAGE_FAILED,
            actor="patchit.ingest",
            message=f"hand-off to {result.dag_id} failed: {result.detail}",
            data={"stage": "handoff"},
        )
    return incident, created, result


@router.post(
    "/events/ingest",
    name="ingest_event",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_bearer)],  # route dependencies run before the user is looked up
    summary="Ingest a normalized failure event",
    description="Stores the event as an incident (idempotent by `event_id` per caller: the stored id is "
    "`ingest:<caller>:<event_id>`; a repeated event answers 200 with the incident it opened) and starts the "
    f"`{REMEDIATION_DAG_ID}` DAG run `{RUN_ID_PREFIX}<stored id>`. Needs a bearer JWT (no browser session) of a user "
    f"allowed to trigger `{REMEDIATION_DAG_ID}`, and `Content-Type: application/json`. Platform `airflow` is "
    "refused (Airflow failures come through capture); `log_uri` / `artifact_uris` only with the schemes and "
    "hosts of `[patchit] ingest_uri_schemes` / `ingest_uri_hosts`; `code_path` only inside `[patchit] repo_map`.",
    responses={
        200: {"description": "Event already received: the existing incident"},
        400: {"description": "Body is not JSON"},
        401: {"description": "Not authenticated"},
        403: {"description": f"Not allowed to trigger {REMEDIATION_DAG_ID}, or a foreign Origin"},
        413: {"description": "Body over the size limit"},
        415: {"description": "Body is not sent as application/json"},
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
    _check_request(request)
    event = parse_event(await read_body(request, state.max_event_bytes))
    settings = state.settings()
    event = check_event(event, settings, user.get_name())
    store = await run_in_threadpool(state.stores.get)
    incident, created, result = await run_in_threadpool(accept, store, event, state.hand_off, user.get_name(), settings)
    body = {
        "incident_id": incident.incident_id,
        "event_id": incident.event.event_id,
        "created": created,
        "state": incident.state.value,
        "url": links.absolute_for(request, "incident_page", incident_id=incident.incident_id),
        "handoff": {"status": result.status, "dag_id": result.dag_id, "run_id": result.run_id, "detail": result.detail},
    }
    code = status.HTTP_503_SERVICE_UNAVAILABLE if result.status == FAILED else (201 if created else 200)
    headers = {"Location": links.absolute_for(request, "api_incident", incident_id=incident.incident_id)}
    if code == 503:
        headers["Retry-After"] = "30"
    return JSONResponse(body, status_code=code, headers=headers)
