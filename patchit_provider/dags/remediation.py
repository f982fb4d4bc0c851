"""build_remediation_dag(): the remediation DAG (`engine.constants.REMEDIATION_DAG_ID`), one task per stage.

Started by capture with {"event_ref": ...} (the event itself is in PATCHIT's store: a run's conf
is readable by every reader of this DAG) and a run id derived from the event, or by a person
from the Trigger form with a task-instance reference. Each task is one Remediator stage, so each
stage's success, failure, duration and log are visible on their own in the Airflow UI.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from patchit_provider.engine.constants import (
    APPROVAL_TASK_ID,
    DECIDE_APPROVAL_TASK_ID,
    EVIDENCE_TASK_ID,
    PROPOSE_TASK_ID,
    PUBLISH_TASK_ID,
    RECEIVE_TASK_ID,
    REMEDIATION_DAG_ID,
    SKIP_APPROVAL_TASK_ID,
    TRIAGE_TASK_ID,
    VALIDATE_TASK_ID,
)
from patchit_provider.operators.remediation import (
    CollectEvidenceOperator,
    DecideApprovalOperator,
    PatchApprovalOperator,
    ProposePatchOperator,
    PublishPatchOperator,
    ReceiveEventOperator,
    TriageOperator,
    ValidatePatchOperator,
)

DAG_ID = REMEDIATION_DAG_ID

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
        max_active_runs=2,  # validation replays pipeline code: keep the host usable during bursts
        doc_md=DOC_MD,
        description="PATCHIT: failure -> evidence -> triage -> patch -> validation -> branch",
        default_args={"retries": 0, "owner": "patchit", "execution_timeout": timedelta(minutes=30)},
    ) as dag:
        receive = ReceiveEventOperator(task_id=RECEIVE_TASK_ID)
        evidence = CollectEvidenceOperator(task_id=EVIDENCE_TASK_ID)
        triage = TriageOperator(task_id=TRIAGE_TASK_ID)
        propose = ProposePatchOperator(task_id=PROPOSE_TASK_ID)
        validate = ValidatePatchOperator(task_id=VALIDATE_TASK_ID)
        decide = DecideApprovalOperator(task_id=DECIDE_APPROVAL_TASK_ID)
        approval = PatchApprovalOperator(
            task_id=APPROVAL_TASK_ID,
            response_timeout=_approval_timeout(),
            execution_timeout=None,  # the wait is bounded by response_timeout, not by this
        )
        skip_approval = EmptyOperator(task_id=SKIP_APPROVAL_TASK_ID)
        publish = PublishPatchOperator(task_id=PUBLISH_TASK_ID, trigger_rule="none_failed_min_one_success")
        receive >> evidence >> triage >> propose >> validate >> decide >> [approval, skip_approval] >> publish
    return dag
