"""A small client of GitHub's REST API: the headers, retries and errors every PATCHIT call shares.

Why not a GitHub SDK: PATCHIT makes a dozen kinds of calls, and the rules that matter (bounded
retries that honour GitHub's rate-limit headers, a timeout on every call, one clear error with
GitHub's own message) are easier to see and test here than behind a library's defaults.

Retried, a bounded number of times: 500/502/503/504, connection failures (and, for GET, any
transport error), and rate limits. A rate limit is a 403 or 429 with `x-ratelimit-remaining: 0`
(wait until `x-ratelimit-reset`), a `retry-after` header (wait that long), or a secondary rate
limit message without either (wait a minute, doubling), as GitHub's rate-limit guide asks. A
wait longer than `max_wait` is not slept through: it becomes an error naming the reset time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import httpx

from patchit_provider.engine.llm.http import retry_after
from patchit_provider.engine.publishing.errors import PublishError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
SECONDARY_WAIT = 60.0  # GitHub: "wait for at least one minute before retrying"
MAX_PAGES = 50


class GitHubError(PublishError):
    """GitHub answered with an error: `status`, GitHub's `message` and its validation `errors`."""

    def __init__(
        self, text: str, *, status: int | None = None, message: str = "", errors: list[str] | None = None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.message = message
        self.errors = errors or []

    def mentions(self, phrase: str) -> bool:
        return any(phrase.lower() in text.lower() for text in [self.message, *self.errors])


@dataclass(frozen=True)
class GitHubTarget:
    """Where and how to publish: what the `patchit_github` connection holds.

    `incident_url` is a template such as "https://airflow.example.com/patchit/incidents/{incident_id}"
    for links back to PATCHIT; `transport`, `sleep` and `clock` are for tests.
    """

    repository: str
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    base_branch: str = ""
    labels: tuple[str, ...] = ("patchit",)
    incident_url: str = ""
    timeout: float = 30.0
    max_retries: int = 3
    max_wait: float = 120.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner, _, name = self.repository.strip().partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"the GitHub repository must be 'owner/name', not {self.repository!r}")
        if not self.token:
            raise ValueError("a GitHub token is required")
        object.__setattr__(self, "repository", f"{owner}/{name}")
        object.__setattr__(self, "api_url", (self.api_url or DEFAULT_API_URL).rstrip("/"))
        object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def owner(self) -> str:
        return self.repository.split("/")[0]


class GitHubClient:
    """One httpx client on the API with GitHub's documented headers; use as a context manager."""

    def __init__(self, target: GitHubTarget, *, timeout: float | None = None, max_retries: int | None = None) -> None:
        self.target = target
        self.max_retries = target.max_retries if max_retries is None else max_retries
        self.http = httpx.Client(
            base_url=target.api_url,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "Authorization": f"Bearer {target.token}",
                "User-Agent": "patchit",
            },
            timeout=httpx.Timeout(target.timeout if timeout is None else timeout),
            transport=target.transport,
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def repo_path(self, suffix: str = "") -> str:
        return f"/repos/{self.target.repository}{suffix}"

    def call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON of a 2xx answer (None when empty); a GitHubError otherwise."""
        resp = self.send(method, path, json_body=json_body, params=params)
        return _decode(resp, f"{method} {path}")

    def paginate(self, path: str, params: dict[str, Any]) -> Iterator[Any]:
        """Every item of a list endpoint, following the Link header's rel="next" (bounded)."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **params}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            resp = self.send("GET", url, params=query)
            page = _decode(resp, f"GET {path}")
            if not isinstance(page, list):
                raise GitHubError(f"GET {path}: expected a list, got {type(page).__name__}", status=resp.status_code)
            yield from page
            url, query = resp.links.get("next", {}).get("url"), None  # the next URL carries the query
        raise GitHubError(f"GET {path}: more than {MAX_PAGES} pages")

    def send(
        self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        attempts = max(self.max_retries, 0) + 1
        what = f"GitHub {method} {path.split('?')[0]}"
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self.http.request(method, path, json=json_body, params=params)
            except httpx.TransportError as exc:
                # A request that may have reached GitHub is only repeated when repeating is harmless.
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if last or not (unsent or method == "GET"):
                    raise GitHubError(f"{what} failed after {attempt + 1} attempt(s): {exc!r}") from exc
                self._wait(min(2.0**attempt, self.target.max_wait), what, repr(exc))
                continue
            if resp.is_success:
                return resp
            wait = self._retry_wait(resp, attempt)
            if wait is None or last or wait > self.target.max_wait:
                too_long = wait is not None and wait > self.target.max_wait
                note = (
                    f" - rate limited for {wait:.0f}s more, longer than the {self.target.max_wait:.0f}s we wait"
                    if too_long
                    else ""
                )
                raise _error(resp, what, note)
            self._wait(wait, what, f"{resp.status_code} {_message(resp)[0]}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_wait(self, resp: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `resp`, or None when it must not be retried."""
        status = resp.status_code
        if status in RETRY_STATUSES:
            return retry_after(resp.headers) or min(2.0**attempt, self.target.max_wait)
        if status not in (403, 429):
            return None
        headers = resp.headers
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            return max(float(headers["x-ratelimit-reset"]) - self.target.clock(), 0.0) + 1.0
        wait = retry_after(headers)
        if wait is not None:
            return wait
        if status == 429 or "secondary rate limit" in _message(resp)[0].lower():
            return SECONDARY_WAIT * 2.0**attempt
        return None  # a plain 403: missing permission, not a limit

    def _wait(self, seconds: float, what: str, why: str) -> None:
        log.warning("%s: %s; retrying in %.1fs", what, why, seconds)
        self.target.sleep(seconds)


def _message(resp: httpx.Response) -> tuple[str, list[str]]:
    """GitHub's error body: {"message", "errors": [{"resource", "code", "message"?}], "documentation_url"}."""
    try:
        body = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return (resp.text.strip()[:300] or resp.reason_phrase), []
    if not isinstance(body, dict):
        return str(body)[:300], []
    errors = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            errors.append(str(item.get("message") or " ".join(f"{k}={v}" for k, v in item.items())))
        else:
            errors.append(str(item))
    return str(body.get("message") or resp.reason_phrase)[:500], errors


def _error(resp: httpx.Response, what: str, note: str = "") -> GitHubError:
    message, errors = _message(resp)
    text = f"{what} answered {resp.status_code}: {message}"
    if errors:
        text += " (" + "; ".join(errors) + ")"
    if resp.status_code == 401:
        text += " - check the token of the GitHub connection"
    elif resp.status_code in (403, 404) and "rate limit" not in message.lower():
        text += " - check the repository name and that the token may write its contents and pull requests"
    return GitHubError(text + note, status=resp.status_code, message=message, errors=errors)


def _decode(resp: httpx.Response, what: str) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GitHubError(
            f"{what} answered {resp.status_code} with a body that is not JSON", status=resp.status_code
        ) from exc
