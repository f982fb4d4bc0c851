"""build_rollout_dag(): `patchit_rollout`, the execution of one stored rollout: a recovery (re-run
failed task instances) or an upgrade (a vulnerable dependency's fix, DAG by DAG); the engine
reads the kind from the run record, so both run through the same tasks.

Conf: `{"rollout_id": "ro-..."}` only (the plan, members and results are in PATCHIT's store; a
run's conf is readable by every reader of this DAG). Tasks: an optional approval before the
first wave, the canary (wave 0), an optional approval before promotion, then the other waves.
The executor re-checks approvals in the run record, so a skipped branch can never bypass one.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from patchit_provider.operators.rollout import (
    ROLLOUT_ID_PATTERN,
    DecideRolloutApprovalOperator,
    RolloutApprovalOperator,
    RolloutWavesOperator,
)

DAG_ID = "patchit_rollout"

DOC_MD = """
### PATCHIT rollout
**Recovery**: re-runs the task instances that failed with one incident's fingerprint, after its
fix landed: a canary, then waves, each member cleared through the REST API (dry run first,
re-run on the latest DAG version), within the plan's concurrency and error budget. A re-run
failing with the same fingerprint stops the rollout and escalates the incident.

**Upgrade**: rolls a vulnerable dependency's validated upgrade (published on a branch) out to
the DAGs that import it, least critical first: approving the first wave says the upgrade is
deployed; each wave then triggers (or waits for) the next run of its DAGs and gates on it
ending successfully; a failed or timed-out DAG counts against the budget and, beyond it, halts
the rollout and escalates the finding.

The conf names the rollout only (`rollout_id`). Results are on PATCHIT's rollout page.
"""


def build_rollout_dag(dag_id: str = DAG_ID, *, poll_seconds: float = 10.0) -> DAG:
    with DAG(
        dag_id=dag_id,
        schedule=None,
        catchup=False,
        tags=["patchit"],
        max_active_runs=4,
        doc_md=DOC_MD,
        description="PATCHIT: progressive rollouts (recovery re-runs, dependency upgrades) in waves",
        params={
            "rollout_id": Param(
                None,
                type=["null", "string"],
                pattern=ROLLOUT_ID_PATTERN,
                title="Rollout id",
                description="A rollout stored by `patchit rollout`.",
            )
        },
        default_args={"retries": 0, "owner": "patchit"},
    ) as dag:
        decide_start = DecideRolloutApprovalOperator(
            task_id="decide_start", wave=0, approval_task_id="approve_start", skip_task_id="no_start_approval"
        )
        approve_start = RolloutApprovalOperator(task_id="approve_start", wave=0, response_timeout=timedelta(days=2))
        no_start = EmptyOperator(task_id="no_start_approval")
        canary = RolloutWavesOperator(
            task_id="canary", stop_after_wave=0, poll_seconds=poll_seconds, trigger_rule="none_failed_min_one_success"
        )
        decide_promotion = DecideRolloutApprovalOperator(
            task_id="decide_promotion",
            wave=1,
            approval_task_id="approve_promotion",
            skip_task_id="no_promotion_approval",
        )
        approve_promotion = RolloutApprovalOperator(
            task_id="approve_promotion", wave=1, response_timeout=timedelta(days=2)
        )
        no_promotion = EmptyOperator(task_id="no_promotion_approval")
        waves = RolloutWavesOperator(
            task_id="waves", poll_seconds=poll_seconds, trigger_rule="none_failed_min_one_success"
        )
        decide_start >> [approve_start, no_start] >> canary >> decide_promotion
        decide_promotion >> [approve_promotion, no_promotion] >> waves
    return dag
