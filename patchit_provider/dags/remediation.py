"""build_remediation_dag(): the remediation DAG (`engine.constants.REMEDIATION_DAG_ID`).

Started by capture with {"event_ref": ...} (the event itself is in PATCHIT's store: a run's conf
is readable by every reader of this DAG) and a run id derived from the event, or by a person
from the Trigger form with a task-instance reference. `analyse` runs the receive, evidence and
triage stages (the root cause is visible when it ends), `patch` runs propose and validate, then
the approval branch and `publish`: each stage is still one Remediator call, and a failing stage
names itself in its task's error and in the incident's audit trail (`stage.failed`). Few tasks,
a high priority and room for many runs, because every task boundary costs a scheduler round and
a process start (docs/architecture.md, "Latency"); the heavy part, validation, which replays
pipeline code, runs at most MAX_PARALLEL_PATCHES at a time across runs.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from patchit_provider.engine.constants import (
    ANALYSE_TASK_ID,
    APPROVAL_TASK_ID,
    DECIDE_APPROVAL_TASK_ID,
    PATCH_TASK_ID,
    PUBLISH_TASK_ID,
    REMEDIATION_DAG_ID,
    SKIP_APPROVAL_TASK_ID,
)
from patchit_provider.operators.remediation import (
    AnalyseOperator,
    DecideApprovalOperator,
    PatchApprovalOperator,
    PatchOperator,
    PublishPatchOperator,
)

DAG_ID = REMEDIATION_DAG_ID
# A failure's root cause should not wait behind pipeline tasks for an executor slot: the
# remediation tasks go first (absolute weight, so it does not depend on the DAG's shape).
PRIORITY_WEIGHT = 1000
# Runs at once: a burst of failures is analysed in parallel (the analysis is light) ...
MAX_ACTIVE_RUNS = 16
# ... while validation, which replays pipeline code and runs its tests, keeps the host usable.
MAX_PARALLEL_PATCHES = 2

DOC_MD = """
### PATCHIT remediation
Turns one task failure into evidence, a triage (category, fingerprint, root cause), a patch
when a safe one exists, its validation in a throwaway worktree, and a branch `patchit/<fingerprint>`.

**Approval** (`[patchit] approval`): when policy asks for it, a validated patch waits in the
`approval` task before publishing. Answer it on the incident's PATCHIT page (it needs edit
permission on the failing DAG; the request is assigned to PATCHIT's approval identity, so
Required Actions cannot answer it). Reject (with a reason) closes the incident unpublished.
Other runs take `skip_approval`.

**Trigger it by hand** with either `event_ref` (the id of an event PATCHIT stored), or the failed
task instance: `dag_id`, `run_id`, `task_id` (and optionally `try_number`, `map_index`); PATCHIT
then fetches the task log and the DAG file through the Airflow REST API (`[patchit] api_conn_id`).
A failure's text never goes into a run's conf, XComs, logs or approval requests: it is on the
incident's PATCHIT page, shown to the readers of the failing DAG.
Failures captured by the PATCHIT listener or `PatchitNotifier` start it automatically.
"""


def _params() -> dict[str, Param]:
    optional = {"section": "Or: the failed task instance"}
    return {
        "event_ref": Param(
            None,
            type=["null", "string"],
            maxLength=250,
            pattern="^[A-Za-z0-9_.~:+-]+$",
            title="Event id",
            description="The id of a failure event PATCHIT stored (what the listener and the ingest API send). "
            "Leave empty to use the task-instance fields below.",
            section="A stored failure event",
        ),
        "dag_id": Param(
            None, type=["null", "string"], title="DAG id", description="DAG of the failed task.", **optional
        ),
        "run_id": Param(
            None, type=["null", "string"], title="Run id", description="DAG run of the failed task.", **optional
        ),
        "task_id": Param(None, type=["null", "string"], title="Task id", description="The failed task.", **optional),
        "try_number": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Try number",
            description="Attempt whose log to analyse; empty means the task instance's latest try.",
            **optional,
        ),
        "map_index": Param(
            -1, type="integer", minimum=-1, title="Map index", description="-1 unless the task is mapped.", **optional
        ),
        "reason": Param(
            None,
            type=["null", "string"],
            maxLength=500,
            title="Reason",
            description="Why you ask again for a failure PATCHIT has analysed (shown in the incident's "
            "timeline with your user name; every reader of this DAG's runs can read it).",
            section="Re-analysis",
        ),
    }


def _approval_timeout() -> timedelta:
    """`[patchit] approval_timeout_hours`, read when the DAG is parsed."""
    from patchit_provider.config import load_settings

    return timedelta(hours=load_settings().approval_timeout_hours)


def build_remediation_dag(dag_id: str = DAG_ID) -> DAG:
    with DAG(
        dag_id=dag_id,
        schedule=None,
        catchup=False,
        tags=["patchit"],
        params=_params(),
        max_active_runs=MAX_ACTIVE_RUNS,
        doc_md=DOC_MD,
        description="PATCHIT: failure -> evidence -> triage -> patch -> validation -> branch",
        default_args={
            "retries": 0,
            "owner": "patchit",
            "execution_timeout": timedelta(minutes=30),
            "priority_weight": PRIORITY_WEIGHT,
            "weight_rule": "absolute",
        },
    ) as dag:
        analyse = AnalyseOperator(task_id=ANALYSE_TASK_ID)
        patch = PatchOperator(task_id=PATCH_TASK_ID, max_active_tis_per_dag=MAX_PARALLEL_PATCHES)
        decide = DecideApprovalOperator(task_id=DECIDE_APPROVAL_TASK_ID)
        approval = PatchApprovalOperator(
            task_id=APPROVAL_TASK_ID,
            response_timeout=_approval_timeout(),
            execution_timeout=None,  # the wait is bounded by response_timeout, not by this
        )
        skip_approval = EmptyOperator(task_id=SKIP_APPROVAL_TASK_ID)
        publish = PublishPatchOperator(task_id=PUBLISH_TASK_ID, trigger_rule="none_failed_min_one_success")
        analyse >> patch >> decide >> [approval, skip_approval] >> publish
    return dag
