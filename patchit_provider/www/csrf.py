"""Cross-site request protection for the UI's forms.

The UI is authenticated by Airflow's `_token` cookie, which a browser also sends with a form
posted from another site. Every POST form therefore carries a token that is (1) an HMAC, under
Airflow's `[api] secret_key`, of the user id and an expiry, so it cannot be forged or reused by
another user, and (2) also set as a cookie that must match it (double submit). On top, the
Origin (or Referer) must be this server. Stateless: works across API server workers that share
the secret key, as Airflow's own do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

COOKIE = "patchit_csrf"
FIELD = "csrf_token"
TTL_SECONDS = 8 * 3600


def _secret() -> bytes:
    from airflow.api_fastapi.auth.tokens import get_signing_key

    return get_signing_key("api", "secret_key").encode()


def _mac(user_id: str, expires: int, nonce: str) -> str:
    msg = f"{user_id}\x1f{expires}\x1f{nonce}".encode()
    return hmac.new(_secret(), msg, hashlib.sha256).hexdigest()


def issue(user_id: str, *, now: float | None = None) -> str:
    expires = int((now or time.time()) + TTL_SECONDS)
    nonce = secrets.token_urlsafe(12)
    return f"{expires}.{nonce}.{_mac(user_id, expires, nonce)}"


def valid(token: str, user_id: str, *, now: float | None = None) -> bool:
    try:
        expires_text, nonce, mac = token.split(".", 2)
        expires = int(expires_text)
    except ValueError:
        return False
    if expires < (now or time.time()):
        return False
    return hmac.compare_digest(mac, _mac(user_id, expires, nonce))


def same_origin(request: Request) -> bool:
    """Origin, else Referer, must name this server (as the browser reached it)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    own = urlsplit(str(request.base_url))
    allowed = {(own.scheme, own.netloc)}
    forwarded_host = request.headers.get("x-forwarded-host")
    if forwarded_host:
        allowed.add((request.headers.get("x-forwarded-proto", own.scheme), forwarded_host))
    return (parts.scheme, parts.netloc) in allowed


async def check(request: Request, user_id: str) -> None:
    """403 unless the POST is same-origin and carries this user's token in form and cookie."""
    if not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site request refused: Origin/Referer is not this server")
    form = await request.form()
    token = str(form.get(FIELD) or "")
    cookie = request.cookies.get(COOKIE, "")
    if not token or not hmac.compare_digest(token, cookie) or not valid(token, user_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Missing or invalid CSRF token: reload the page and retry")


def token_for(request: Request, user_id: str) -> str:
    """The page's token: the user's current cookie while valid (two open tabs keep working), else a new one."""
    token = request.cookies.get(COOKIE, "")
    return token if valid(token, user_id) else issue(user_id)


def set_cookie(response: Response, request: Request, token: str) -> None:
    """The double-submit half of `token`: a strict same-site, HTTP-only cookie under the UI's root path."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=TTL_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.scope.get("root_path") or "/",
    )
