"""PatchitApiHook: PATCHIT's client of the Airflow REST API, through the `[patchit] api_conn_id`
HTTP connection (host, port, login, password; schema http/https).

Why a REST client and not the ORM: worker code may not touch the metadata DB in Airflow 3, and the
REST API works the same from any host. httpx is imported lazily (the listener module imports this
only on the fallback path) and every call has a timeout.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import quote

from airflow.sdk import BaseHook

from patchit_provider.engine.constants import TRIGGER_CREATED as CREATED
from patchit_provider.engine.constants import TRIGGER_DUPLICATE as DUPLICATE
from patchit_provider.engine.errors import ExternalError


class PatchitApiError(ExternalError, RuntimeError):
    """The Airflow API answered with an unexpected status."""


class PatchitApiHook(BaseHook):
    conn_name_attr = "api_conn_id"
    default_conn_name = "patchit_api"
    conn_type = "http"
    hook_name = "PATCHIT Airflow API"

    def __init__(
        self,
        api_conn_id: str = default_conn_name,
        *,
        timeout: float = 5.0,
        transport: Any = None,
        base_url: str | None = None,
        credentials: tuple[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__()
        self.api_conn_id = api_conn_id
        self.timeout = timeout
        self._transport = transport  # httpx.MockTransport in tests
        self._base_url = base_url
        self._credentials = credentials
        self._token: str | None = token  # a JWT given by the caller (in-process API tests)

    # -- connection ------------------------------------------------------------------------
    def _resolve(self) -> tuple[str, tuple[str, str] | None]:
        if self._base_url is not None:
            return self._base_url.rstrip("/"), self._credentials
        conn = self.get_connection(self.api_conn_id)
        host = conn.host or "localhost"
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "http"
            host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host.rstrip('/')}:{conn.port}"
        creds = (conn.login, conn.password or "") if conn.login else None
        return host.rstrip("/"), creds

    @contextmanager
    def _client(self) -> Iterator[Any]:
        """An httpx client on the API server, with a JWT from POST /auth/token when there is a login."""
        import httpx

        base, creds = self._resolve()
        with httpx.Client(base_url=base, timeout=httpx.Timeout(self.timeout), transport=self._transport) as client:
            if self._token:
                client.headers["Authorization"] = f"Bearer {self._token}"
            elif creds:
                resp = client.post("/auth/token", json={"username": creds[0], "password": creds[1]})
                if resp.status_code not in (200, 201):
                    raise PatchitApiError(f"POST /auth/token answered {resp.status_code}: {resp.text[:300]}")
                client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
            yield client

    @staticmethod
    def _check(resp, what: str) -> Any:
        if resp.status_code >= 400:
            raise PatchitApiError(f"{what} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    # -- calls -----------------------------------------------------------------------------
    def trigger_dag_run(self, dag_id: str, run_id: str, conf: dict[str, Any], note: str | None = None) -> str:
        """Start a run; CREATED, or DUPLICATE when a run with that id exists (409)."""
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        if note:
            body["note"] = note
        with self._client() as client:
            resp = client.post(f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", json=body)
            if resp.status_code == 409:
                return DUPLICATE
            self._check(resp, "POST dagRuns")
            return CREATED

    def get_dag_details(self, dag_id: str) -> dict[str, Any]:
        with self._client() as client:
            return self._check(client.get(f"/api/v2/dags/{quote(dag_id, safe='')}/details"), "GET dag details")

    def get_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/taskInstances/{quote(task_id, safe='')}"
        if map_index >= 0:
            path += f"/{map_index}"
        with self._reuse() as client:
            return self._check(client.get(path), "GET task instance")

    def get_task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1, max_chars: int = 262_144
    ) -> str:
        """The task log as JSON lines (one structured record a line), the tail kept to max_chars."""
        path = (
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
            f"/taskInstances/{quote(task_id, safe='')}/logs/{try_number}"
        )
        params = {"full_content": "true", "map_index": str(map_index)}
        with self._client() as client:
            data = self._check(client.get(path, params=params, headers={"Accept": "application/json"}), "GET log")
        return log_content_to_text(data.get("content", []), max_chars)

    # -- replay inputs (engine/evidence_inputs.py's TaskApi) -----------------------------------
    @contextmanager
    def session(self) -> Iterator[PatchitApiHook]:
        """One client (and one token) for the replay-input calls made inside the block."""
        with self._client() as client:
            self._session = client
            try:
                yield self
            finally:
                self._session = None

    @contextmanager
    def _reuse(self) -> Iterator[Any]:
        shared = getattr(self, "_session", None)
        if shared is not None:
            yield shared
            return
        with self._client() as client:
            yield client

    def get_dag_tasks(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's tasks (TaskResponse: task_id, downstream_task_ids, operator_name, ...)."""
        with self._reuse() as client:
            data = self._check(client.get(f"/api/v2/dags/{quote(dag_id, safe='')}/tasks"), "GET tasks")
        return list(data.get("tasks") or [])

    def list_xcom_entries(self, dag_id: str, run_id: str, task_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The XCom entries one task instance pushed in the run (keys and map indexes, no values)."""
        path = (
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
            f"/taskInstances/{quote(task_id, safe='')}/xcomEntries"
        )
        with self._reuse() as client:
            data = self._check(client.get(path, params={"limit": limit}), "GET xcomEntries")
        return list(data.get("xcom_entries") or [])

    def get_xcom_entry(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> dict[str, Any]:
        """One XCom entry with its value as stored (native JSON: `deserialize` and `stringify` off,
        so nothing is unpickled or turned into its repr)."""
        path = (
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
            f"/taskInstances/{quote(task_id, safe='')}/xcomEntries/{quote(key, safe='')}"
        )
        params = {"map_index": str(map_index), "deserialize": "false", "stringify": "false"}
        with self._reuse() as client:
            return self._check(client.get(path, params=params), "GET xcomEntry")

    # -- rollouts (engine/rollout/execute.py's RolloutApi) -----------------------------------
    PAGE = 100
    MAX_PAGES = 1_000  # 100,000 task instances: a bound on a runaway listing

    def clear_task_instances(self, dag_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST clearTaskInstances (ClearTaskInstancesBody); `dry_run` is always sent explicitly
        because Airflow's default is true."""
        if "dry_run" not in body:
            raise ValueError("clear_task_instances needs an explicit dry_run")
        with self._client() as client:
            return self._check(
                client.post(f"/api/v2/dags/{quote(dag_id, safe='')}/clearTaskInstances", json=body),
                "POST clearTaskInstances",
            )

    def list_task_instances(
        self, dag_id: str, *, task_id: str | None = None, state: str | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Every task instance of `dag_id` across its runs matching the filters, page by page."""
        params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        if task_id is not None:
            params["task_id"] = task_id
        if state is not None:
            params["state"] = state
        out: list[dict[str, Any]] = []
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/~/taskInstances"
        with self._client() as client:
            for page in range(self.MAX_PAGES):
                data = self._check(
                    client.get(
                        path, params={**params, "limit": self.PAGE, "offset": page * self.PAGE, "order_by": "id"}
                    ),
                    "GET taskInstances",
                )
                items = data.get("task_instances", [])
                out.extend(items)
                if len(items) < self.PAGE or len(out) >= int(data.get("total_entries", 0)):
                    break
        return out

    def latest_dag_version(self, dag_id: str) -> int | None:
        """The DAG's newest version_number (what `run_on_latest_version` re-runs on)."""
        with self._client() as client:
            data = self._check(
                client.get(
                    f"/api/v2/dags/{quote(dag_id, safe='')}/dagVersions",
                    params={"order_by": "-version_number", "limit": 1},
                ),
                "GET dagVersions",
            )
        versions = data.get("dag_versions") or []
        return int(versions[0]["version_number"]) if versions else None

    def queued_run_ids(self, dag_id: str) -> list[str]:
        """Run ids of the DAG's queued runs (the live runs a recovery must not starve)."""
        with self._client() as client:
            data = self._check(
                client.get(
                    f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", params={"state": "queued", "limit": self.PAGE}
                ),
                "GET dagRuns",
            )
        return [run["dag_run_id"] for run in data.get("dag_runs", [])]

    def pool_open_slots(self, pool: str) -> int | None:
        with self._client() as client:
            resp = client.get(f"/api/v2/pools/{quote(pool, safe='')}")
            if resp.status_code == 404:
                return None
            return int(self._check(resp, "GET pool").get("open_slots", 0))

    # -- upgrade rollouts: the member DAG's runs (engine/rollout/execute.py) -------------------
    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        """DAGRunResponse (state, run_after, bundle_version, dag_versions), None when there is none."""
        with self._client() as client:
            resp = client.get(f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}")
            if resp.status_code == 404:
                return None
            return self._check(resp, "GET dagRun")

    def dag_runs_after(self, dag_id: str, after: str) -> list[dict[str, Any]]:
        """The DAG's first runs whose run_after is at or after `after` (ISO 8601), oldest first."""
        params = {"run_after_gte": after, "order_by": "run_after", "limit": self.PAGE}
        with self._client() as client:
            data = self._check(
                client.get(f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", params=params), "GET dagRuns"
            )
        return list(data.get("dag_runs") or [])


def log_content_to_text(content: list[Any], max_chars: int) -> str:
    """REST log records (StructuredLogMessage dicts, or plain lines) -> JSON-lines text, tail-bounded."""
    lines: list[str] = []
    size = 0
    for item in reversed(content):
        line = item if isinstance(item, str) else json.dumps(item, default=str)
        size += len(line) + 1
        if size > max_chars and lines:
            break
        lines.append(line)
    return "\n".join(reversed(lines)) + ("\n" if lines else "")
