"""The PATCHIT Airflow plugin: the failure listener, and PATCHIT's pages inside the Airflow UI.

The SDK's AirflowPlugin base: both the core and the Task SDK plugin managers accept it, and it
keeps core out of task processes. The FastAPI app (and FastAPI itself) is built only in the API
server: plugin modules are imported in every task process, which must stay light.
"""

from __future__ import annotations

import sys

from airflow.sdk.plugins_manager import AirflowPlugin

from patchit_provider.plugins import listener

URL_PREFIX = "/patchit"


def _running_api_server() -> bool:
    return len(sys.argv) > 1 and sys.argv[1] == "api-server"


def _fastapi_apps() -> list[dict]:
    if not _running_api_server():
        return []
    from patchit_provider.www import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "PATCHIT"}]


EXTERNAL_VIEWS = [
    {"name": "PATCHIT", "href": f"{URL_PREFIX}/", "destination": "nav", "category": "browse", "url_route": "patchit"},
    {
        "name": "PATCHIT",
        "href": f"{URL_PREFIX}/runs?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
        "destination": "dag_run",
        "url_route": "patchit_run",
    },
    {
        "name": "PATCHIT",
        "href": f"{URL_PREFIX}/runs?dag_id={{DAG_ID}}&run_id={{RUN_ID}}&task_id={{TASK_ID}}",
        "destination": "task_instance",
        "url_route": "patchit_task",
    },
]


class PatchitPlugin(AirflowPlugin):
    name = "patchit"
    listeners = [listener]
    fastapi_apps = _fastapi_apps()
    external_views = EXTERNAL_VIEWS
