"""build_vulns_dag(): `patchit_vulns`, a daily pip-audit of pipeline repositories.

One PipAuditOperator per repository: audit the pinned requirements, record the findings, patch,
validate, publish and plan the fixes (see operators/vulns.py). Findings are on PATCHIT's
Vulnerabilities page.
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow.sdk import DAG

from patchit_provider.operators.vulns import PipAuditOperator

DAG_ID = "patchit_vulns"


def build_vulns_dag(
    repos: Mapping[str, str], dag_id: str = DAG_ID, *, schedule: str | None = "@daily", osv_url: str | None = None
) -> DAG:
    """`repos`: task id -> repository path (its requirements.txt is audited)."""
    with DAG(
        dag_id=dag_id,
        schedule=schedule,
        catchup=False,
        tags=["patchit"],
        max_active_runs=1,
        description="PATCHIT: vulnerable dependencies of pipeline repositories (pip-audit)",
        default_args={"retries": 0, "owner": "patchit"},
    ) as dag:
        for task_id, path in sorted(repos.items()):
            PipAuditOperator(task_id=task_id, repo=path, osv_url=osv_url)
    return dag
