"""The PATCHIT FastAPI app, mounted by the plugin at `/patchit` inside Airflow's API server.

`create_app(store_factory=None, hand_off=None, settings=None, origin=...)`: tests inject a
store, a hand-off and settings; in Airflow the store comes from `PatchitStoreHook` (opened once,
on first use, so importing the plugin never touches a database), the hand-off triggers
the remediation DAG in-process, settings are the `[patchit]` section and the origin of
absolute links is Airflow's `[api] base_url` (never the request's Host). Every response gets
the security headers of headers.py; the OpenAPI schema and its docs page need a login.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import jinja2
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from patchit_provider.engine.models import FailureEvent
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import StoreError
from patchit_provider.www import api, ingest, links, pages, render, rollouts, vulns
from patchit_provider.www.auth import UserDep
from patchit_provider.www.headers import SecurityHeaders

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_UNSET: Any = object()


class StoreHolder:
    """Opens the store once per app, on first use (open_store connects and checks the schema)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._store: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = self._factory()
        return self._store


def _default_store():
    from patchit_provider.hooks.store import PatchitStoreHook

    return PatchitStoreHook().get_store()


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value from logs, events and model output is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(render.FILTERS)
    env.globals["tone"] = render.STATE_TONE
    env.globals["query"] = render.query
    templates = Jinja2Templates(env=env)
    env.globals["url_for"] = links.template_url_for  # root-relative: no link follows the Host header
    return templates


def _airflow_settings() -> PatchitSettings:
    from patchit_provider.config import load_settings

    return load_settings()


def _wants_html(request: Request) -> bool:
    path = request.url.path[len(request.scope.get("root_path", "")) :]
    return not path.startswith(("/api/", "/events/")) and "text/html" in request.headers.get("accept", "")


def create_app(
    store_factory: Callable[[], Any] | None = None,
    hand_off: Callable[[FailureEvent, str | None], Any] | None = None,
    *,
    max_event_bytes: int = ingest.MAX_EVENT_BYTES,
    settings: PatchitSettings | Callable[[], PatchitSettings] | None = None,
    origin: str | None = _UNSET,
) -> FastAPI:
    if hand_off is None:
        from patchit_provider.www.handoff import hand_off as default_hand_off

        hand_off = default_hand_off
    app = FastAPI(
        title="PATCHIT",
        summary="Incidents, root-cause analyses and validated patches of pipeline failures.",
        version="0.1.0",
        docs_url=None,  # Swagger/ReDoc load assets from a CDN; /docs below is served here, behind a login
        redoc_url=None,
        openapi_url=None,  # served below, behind a login
    )
    app.state.stores = StoreHolder(store_factory or _default_store)
    app.state.hand_off = hand_off
    app.state.max_event_bytes = max_event_bytes
    app.state.settings = settings if callable(settings) else (lambda: settings) if settings else _airflow_settings
    app.state.origin = links.configured_origin() if origin is _UNSET else origin
    app.state.templates = _templates()
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(ingest.router)
    app.include_router(rollouts.router)
    app.include_router(vulns.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError):
        message = "The PATCHIT incident store is not available; retry shortly."
        if _wants_html(request):
            return _error_page(request, 503, message)
        return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if _wants_html(request):
            return _error_page(request, exc.status_code, str(exc.detail), exc.headers)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    def _openapi() -> dict[str, Any]:
        # The ingest body is read by hand (see ingest.py): publish its schema explicitly.
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(ingest.published_schema(app.state.settings()))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, name="openapi")
    async def openapi_json(user: UserDep) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, name="docs", response_class=HTMLResponse)
    async def docs(request: Request, user: UserDep) -> HTMLResponse:
        return app.state.templates.TemplateResponse(request, "docs.html", {"schema": app.openapi(), "refresh": None})

    return app


def _error_page(request: Request, code: int, message: str, headers: dict | None = None) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(
        request, "error.html", {"code": code, "message": message, "refresh": None}, status_code=code
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
