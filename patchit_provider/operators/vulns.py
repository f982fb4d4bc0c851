"""PipAuditOperator: audit a pipeline repository's requirements with pip-audit, record the
findings in PATCHIT's store and (optionally) remediate them: the requirements patch through
policy, validation and publishing, the rollout plan, the escalation of findings without a fix.

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
        with VulnStore(PatchitStoreHook(settings=settings).get_uri()) as store:
            scan, stored = record_audit(
                store, deps, repo, requirements, settings, f"pip-audit:{self.task_id}", today=utcnow().date()
            )
            results = []
            for record, _created in stored:
                if self.remediate and record.state == "open":
                    record = store.save(remediate(record, requirements, repo, settings))
                results.append({"finding_id": record.finding_id, "state": record.state})
        self.log.info("pip-audit: %d dependencies, %d findings, %d skipped", len(deps), len(results), len(scan.skipped))
        return {"findings": results, "skipped": len(scan.skipped)}
