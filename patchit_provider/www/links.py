"""Links PATCHIT hands out, never built from the request's `Host` header.

Pages link root-relative (`/patchit/incidents/...`): the browser resolves them against the
address it used. Absolute URLs (the ingest answer's `url` and `Location`) take their origin from
configuration, Airflow's `[api] base_url`; without it they stay root-relative. The mount prefix
(`root_path`) comes from the ASGI mount, not from a header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.requests import Request


def configured_origin() -> str | None:
    """scheme://host[:port] of Airflow's `[api] base_url`, or None when it is not set."""
    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # outside Airflow (tests of the bare app): relative links
        return None
    parts = urlsplit(base.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def path_for(request: Request, name: str, **params: Any) -> str:
    return request.scope.get("root_path", "") + str(request.app.url_path_for(name, **params))


def absolute_for(request: Request, name: str, **params: Any) -> str:
    origin = request.app.state.origin
    return (origin or "") + path_for(request, name, **params)


@jinja2.pass_context
def template_url_for(context: dict, name: str, /, **params: Any) -> str:
    """`url_for` of the templates: root-relative, so no page ever names another host."""
    return path_for(context["request"], name, **params)
