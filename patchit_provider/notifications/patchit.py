"""PatchitNotifier: the per-DAG opt-in, as `on_failure_callback=PatchitNotifier()`.

Same capture path and payload as the listener, so when both fire for one failure they ask for the
same remediation run id and only one run starts. On the worker the context carries the live
exception; when the scheduler detected the failure the callback runs in the DAG processor with
no exception, and the REST API channel is used.
"""

from __future__ import annotations

from airflow.sdk import BaseNotifier


class PatchitNotifier(BaseNotifier):
    template_fields = ()

    def notify(self, context) -> None:
        try:
            from patchit_provider.capture import capture_failure, is_watched
            from patchit_provider.config import load_settings

            ti = context.get("ti") or context.get("task_instance")
            if ti is None:
                self.log.warning("PATCHIT: no task instance in the callback context; use it as a task callback")
                return
            settings = load_settings()
            dag = context.get("dag")
            if not is_watched(ti.dag_id, getattr(dag, "tags", None), settings, explicit=True):
                return
            capture_failure(ti, context.get("exception"), context=context, source="notifier", settings=settings)
        except Exception as exc:  # a callback must never change how the task ends
            self.log.warning("PATCHIT notifier: %s", exc)
