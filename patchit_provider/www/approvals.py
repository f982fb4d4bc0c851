"""The remediation run's approval step, read and answered in-process from PATCHIT's pages.

PATCHIT's app runs inside Airflow's API server, so it answers through the very handler of
`PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/{map_index}/hitlDetails`
(`update_hitl_detail`): one code path for validating the option, refusing a second answer (409),
checking assigned users, recording who answered and resuming the parked task.

Every approval request is assigned to PATCHIT's approval identity only (`APPROVER_ID`), so that
handler refuses any person who calls it directly (403), whatever their HITL rights on
the remediation DAG. PATCHIT's route answers AS that identity ON BEHALF of the person, after
checking what Airflow cannot know: that the person may edit the FAILING DAG (pages.decide), on
top of the HITL permission of the remediation DAG (the route's dependency).

An answer is never given in the first seconds after the step parked (`PARK_SETTLE_SECONDS`):
Airflow 3.3's HITL handler resumes the task at once, under the same try number as the worker
that just parked it. If the scheduler has not yet processed that worker's exit, it reads the
stale "success" of the parked worker against the resumed task (queued or already running), takes
it for a task killed externally and fails it (`approval` failed, `publish` upstream_failed, the
run failed, the incident left validated). Airflow 3.3.2's guard for this race covers a resumed
task still `scheduled` only (apache/airflow#67287; its fix #68741 adds `queued`, `running` stays
exposed). From the park to that exit being processed took 1 s on an idle 2-core host, 6.5 s at
load 12, when the answer came 3 s after the park and the resumed task was already running.
"""

from __future__ import annotations

import time
from typing import Any

from patchit_provider.engine.constants import APPROVAL_TASK_ID, REMEDIATION_DAG_ID

APPROVE, REJECT = "Approve", "Reject"
# operators.remediation.APPROVER["id"]: the only assignee of PATCHIT's approval requests.
APPROVER_ID = "patchit:approvals"
# Seconds a parked approval step is left alone before it is answered (see the module docstring):
# twice the slowest park-to-exit-processed gap measured under load.
PARK_SETTLE_SECONDS = 15.0


def on_behalf_of(user: Any) -> Any:
    """PATCHIT's approval identity answering for `user`: Airflow's assignee check sees
    `APPROVER_ID`, the recorded respondent's name is the person's (the audit trail's `by`)."""
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

    class OnBehalf(BaseUser):
        def get_id(self) -> str:
            return APPROVER_ID

        def get_name(self) -> str:
            return user.get_name()

    return OnBehalf()


def pending(run_id: str | None) -> bool:
    """True while the run's approval task waits for an answer (awaiting input, none recorded)."""
    return parked_at(run_id) is not None


def parked_at(run_id: str | None, dag_id: str = REMEDIATION_DAG_ID, task_id: str = APPROVAL_TASK_ID) -> Any:
    """When the run's approval task (the remediation's, or `dag_id`/`task_id`: the rollouts') parked
    awaiting an answer (the task instance's last update), or None when it does not wait."""
    if not run_id:
        return None
    from sqlalchemy import select

    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    query = (
        select(TI.updated_at)
        .join(HITLDetail, HITLDetail.ti_id == TI.id)
        .where(
            TI.dag_id == dag_id,
            TI.run_id == run_id,
            TI.task_id == task_id,
            TI.map_index == -1,
            TI.state == TaskInstanceState.AWAITING_INPUT,
            HITLDetail.responded_at.is_(None),
        )
    )
    with create_session() as session:
        row = session.execute(query).first()
    if row is None:
        return None
    from airflow.sdk import timezone

    return row[0] or timezone.utcnow()  # parked, time unknown: count from now


def wait_until_settled(
    run_id: str, settle: float | None = None, dag_id: str = REMEDIATION_DAG_ID, task_id: str = APPROVAL_TASK_ID
) -> float:
    """Sleep until the parked step is `settle` seconds old (at most `settle`); returns the wait.
    The same race applies to every HITL step PATCHIT answers (the rollouts' approvals too)."""
    from airflow.sdk import timezone

    settle = PARK_SETTLE_SECONDS if settle is None else settle
    since = parked_at(run_id, dag_id, task_id)
    if since is None:
        return 0.0  # not parked: the handler answers 404 / 409 as it should
    wait = min(settle, settle - (timezone.utcnow() - since).total_seconds())
    if wait > 0:
        time.sleep(wait)
    return max(wait, 0.0)


def answer(run_id: str, user: Any, approve: bool) -> None:
    """Answer for `user`, whose rights the caller checked (raises the handler's HTTPException:
    404 no such step, 409 answered), once the parked step has settled (wait_until_settled). No
    reason goes into the HITL row: Airflow's API shows it to every reader of the remediation
    DAG; the caller stores it with the incident first."""
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.utils.session import create_session

    wait_until_settled(run_id)
    payload = UpdateHITLDetailPayload(chosen_options=[APPROVE if approve else REJECT], params_input={"reason": ""})
    with create_session() as session:
        update_hitl_detail(
            dag_id=REMEDIATION_DAG_ID,
            dag_run_id=run_id,
            task_id=APPROVAL_TASK_ID,
            update_hitl_detail_payload=payload,
            user=on_behalf_of(user),
            session=session,
            map_index=-1,
        )


def decide(store: Any, incident_id: str, run_id: str, user: Any, approve: bool, reason: str = "") -> None:
    """The reviewer's words into PATCHIT's store (read back by the approval task), then the
    answer into Airflow's HITL row without them."""
    from patchit_provider.engine.constants import APPROVAL_REASON_ARTIFACT
    from patchit_provider.engine.models import Artifact

    store.put_artifact(Artifact(incident_id=incident_id, name=APPROVAL_REASON_ARTIFACT, content=reason))
    answer(run_id, user, approve)
