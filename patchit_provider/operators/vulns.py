"""PipAuditOperator: audit a pipeline repository's requirements with pip-audit, record the
findings in PATCHIT's store and (optionally) remediate them: the requirements patch through
policy, validation and publishing, the rollout plan and (`start_rollouts`) its run, handed to
`patchit_rollout`, which waits for a person's approval (the deployment) before its first wave;
a finding without a fix becomes an escalated accept-or-mitigate incident, notified once.

Thin: the engine does the work (engine/vulns/audit.py, engine/vulns/remediate.py). pip-audit must
already be installed in the worker's environment: without it the task is skipped with the reason
(PATCHIT never installs it at run time). `osv_url` may point pip-audit at an internal OSV mirror;
the findings are scored from the OSV records of `[patchit] osv_dir`. The return value (an XCom)
holds finding ids and states only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator


class PipAuditOperator(BaseOperator):
    template_fields: Sequence[str] = ("repo", "requirements", "osv_url")

    def __init__(
        self,
        *,
        repo: str,
        requirements: str = "requirements.txt",
        osv_url: str | None = None,
        remediate: bool = True,
        pip_audit: str = "pip-audit",
        audit_timeout: float = 600.0,
        start_rollouts: bool = True,
        deploy: str = "trigger",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start_rollouts, self.deploy = start_rollouts, deploy
        self.repo, self.requirements, self.osv_url = repo, requirements, osv_url
        self.remediate, self.pip_audit, self.audit_timeout = remediate, pip_audit, audit_timeout

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from patchit_provider.config import load_settings
        from patchit_provider.engine.models import utcnow
        from patchit_provider.engine.store.vulns import VulnStore
        from patchit_provider.engine.vulns.audit import (
            PipAuditMissing,
            record_audit,
            run_pip_audit,
        )
        from patchit_provider.engine.vulns.remediate import remediate
        from patchit_provider.hooks.store import PatchitStoreHook
        from patchit_provider.notifications.webhook import build_notifier

        settings = load_settings()
        repo = Path(self.repo).resolve()
        requirements = (repo / self.requirements).resolve()
        if not requirements.is_relative_to(repo) or not requirements.is_file():
            raise AirflowFailException(f"{self.requirements} is not a requirements file inside {repo}")
        if not settings.osv_dir:
            raise AirflowFailException("[patchit] osv_dir is not set: the findings cannot be scored")
        try:
            deps = run_pip_audit(
                requirements, executable=self.pip_audit, osv_url=self.osv_url, timeout=self.audit_timeout
            )
        except PipAuditMissing as exc:
            raise AirflowSkipException(str(exc)) from exc
        incidents = PatchitStoreHook(settings=settings).get_store()
        try:
            with VulnStore(incidents.url) as store:
                scan, stored = record_audit(
                    store,
                    deps,
                    repo,
                    requirements,
                    settings,
                    f"pip-audit:{self.task_id}",
                    today=utcnow().date(),
                    incidents=incidents,
                    notifier=build_notifier(incidents, settings),
                )
                results = []
                for record, _created in stored:
                    if self.remediate and record.state == "open":
                        record = store.save(remediate(record, requirements, repo, settings))
                    if self.start_rollouts and record.state == "rollout_planned" and not record.rollout_id:
                        record = self._start_rollout(record, store, incidents.url, settings)
                    results.append({"finding_id": record.finding_id, "state": record.state})
        finally:
            incidents.close()
        self.log.info("pip-audit: %d dependencies, %d findings, %d skipped", len(deps), len(results), len(scan.skipped))
        return {"findings": results, "skipped": len(scan.skipped)}

    def _start_rollout(self, record: Any, store: Any, url: Any, settings: Any) -> Any:
        """Store the upgrade's run (engine/vulns/rollout.py) and trigger `patchit_rollout` with its id."""
        from patchit_provider.dags.rollout import DAG_ID
        from patchit_provider.engine.store.rollouts import new_rollout_id, open_rollouts
        from patchit_provider.engine.vulns.rollout import start_upgrade_rollout
        from patchit_provider.hooks.api import PatchitApiHook

        with open_rollouts(url) as runs:
            record, run, created = start_upgrade_rollout(record, store, runs, new_rollout_id(), deploy=self.deploy)
        if created:
            PatchitApiHook(settings.api_conn_id, timeout=30.0).trigger_dag_run(
                DAG_ID, f"upgrade__{run.rollout_id}", {"rollout_id": run.rollout_id}
            )
            self.log.info("finding %s: upgrade rollout %s started", record.finding_id, run.rollout_id)
        return record
