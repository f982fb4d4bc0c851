"""PatchitGitHubHook: the `patchit_github` connection -> the engine's GitHubTarget.

Connection: host = API base URL (empty: https://api.github.com; GitHub Enterprise Server:
https://HOST/api/v3), password = token (fine-grained: Contents and Pull requests read/write),
extra = JSON with `repository` ("owner/name", required), `base_branch` (empty: the repository's
default branch), `labels` (list or comma-separated), `incident_url` (link template for comments,
with `{incident_id}`), `timeout` and `max_retries`. The hook only reads the connection; talking
to GitHub is the engine's (`engine.publishing.github`).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from patchit_provider.engine.publishing.github_client import DEFAULT_API_URL, GitHubClient, GitHubError, GitHubTarget
from patchit_provider.hooks.extras import TEST_TIMEOUT, extra_number


class PatchitGitHubHook(BaseHook):
    conn_name_attr = "github_conn_id"
    default_conn_name = "patchit_github"
    conn_type = "patchit_github"
    hook_name = "PATCHIT GitHub"

    def __init__(self, github_conn_id: str = default_conn_name, *, transport: Any = None, sleep: Any = None) -> None:
        super().__init__()
        self.github_conn_id = github_conn_id
        self._transport = transport  # httpx.MockTransport in tests
        self._sleep = sleep
        self._target: GitHubTarget | None = None

    def get_target(self) -> GitHubTarget:
        if self._target is None:
            conn = self.get_connection(self.github_conn_id)
            self._target = target_from_connection(
                conn.host, conn.password, conn.extra_dejson, self._transport, self._sleep
            )
        return self._target

    def test_connection(self) -> tuple[bool, str]:
        """GET /repos/{owner}/{repo} with a short timeout and no retries: token, URL and repository."""
        try:
            target = self.get_target()
            with GitHubClient(target, timeout=TEST_TIMEOUT, max_retries=0) as gh:
                repo = gh.call("GET", gh.repo_path())
        except (GitHubError, ValueError) as exc:
            return False, str(exc)
        except Exception as exc:  # the UI shows the message; never a stack trace
            return False, f"{type(exc).__name__}: {exc}"
        permissions = repo.get("permissions") or {}
        if permissions and not permissions.get("push"):
            return False, f"{repo.get('full_name')}: the token can read but not push (PATCHIT needs to create branches)"
        return True, f"{repo.get('full_name')} (default branch {repo.get('default_branch')})"


def target_from_connection(
    host: str | None, password: str | None, extra: dict[str, Any], transport: Any = None, sleep: Any = None
) -> GitHubTarget:
    """The connection's fields, validated, as a GitHubTarget (ValueError names the bad field)."""
    url = (host or "").strip() or DEFAULT_API_URL
    if "://" not in url:
        url = f"https://{url}"
    repository = str(extra.get("repository") or "").strip()
    if not repository:
        raise ValueError("extra 'repository' is required: 'owner/name'")
    if not password:
        raise ValueError("the connection's password must hold the GitHub token")
    labels = extra.get("labels") or ["patchit"]
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",")]
    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return GitHubTarget(
        repository=repository,
        token=password,
        api_url=url,
        base_branch=str(extra.get("base_branch") or "").strip(),
        labels=tuple(str(label) for label in labels if str(label).strip()),
        incident_url=str(extra.get("incident_url") or ""),
        timeout=extra_number(extra, "timeout", float, 30.0),
        max_retries=extra_number(extra, "max_retries", int, 3),
        transport=transport,
        **options,
    )
