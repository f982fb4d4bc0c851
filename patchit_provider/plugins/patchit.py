"""The PATCHIT Airflow plugin: registers the failure listener (entry point `airflow.plugins`).

The SDK's AirflowPlugin base: both the core and the Task SDK plugin managers accept it, and it
keeps core out of task processes.
"""

from __future__ import annotations

from airflow.sdk.plugins_manager import AirflowPlugin

from patchit_provider.plugins import listener


class PatchitPlugin(AirflowPlugin):
    name = "patchit"
    listeners = [listener]
