"""Security headers on every PATCHIT response (pages, JSON, errors, static files).

- CSP without any inline script or style (the stylesheet is a static file), framing only by
  this origin (Airflow's UI embeds the pages from the same origin; another site cannot frame an
  incident page and trick a click on Approve), forms only to this origin, no plugins, no <base>.
- `nosniff`, a same-origin referrer, and `no-store`: pages and JSON carry evidence (logs,
  diffs) that must not stay in shared or disk caches. Only the static stylesheet may be cached.

A plain ASGI middleware (not BaseHTTPMiddleware): it does not buffer or re-run responses.
"""

from __future__ import annotations

from typing import Any

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
COMMON = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"SAMEORIGIN",  # for browsers that predate frame-ancestors
    b"cross-origin-opener-policy": b"same-origin",
}
NO_STORE = b"no-store"
STATIC_CACHE = b"private, max-age=3600"


class SecurityHeaders:
    def __init__(self, app: Any, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        cache = STATIC_CACHE if path.startswith(self.static_prefix) else NO_STORE

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in COMMON and k.lower() != b"cache-control"
                ]
                headers += list(COMMON.items())
                headers.append((b"cache-control", cache))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
