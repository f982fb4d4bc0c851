"""Hand an ingested event to the remediation DAG, from inside the API server.

The ingest API runs in the API server, where the ORM is allowed, so it triggers the run the way
Airflow's own REST endpoint does (`airflow.api.common.trigger_dag.trigger_dag`): no HTTP round
trip to itself, no credentials. The run id is the capture path's deterministic
`patchit__<event_id>`, so a repeated event (or capture and ingest both seeing one failure) asks
for the same run and the second ask is a harmless duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from patchit_provider.capture.trigger import (
    CREATED,
    DUPLICATE,
    REMEDIATION_DAG_ID,
    remediation_conf,
    remediation_run_id,
)
from patchit_provider.engine.models import FailureEvent

FAILED = "failed"


@dataclass(frozen=True)
class HandOff:
    status: str  # created | duplicate | failed
    dag_id: str
    run_id: str
    detail: str = ""


HandOffFn = Callable[[FailureEvent, str | None], HandOff]


def hand_off(event: FailureEvent, user_name: str | None = None) -> HandOff:
    """Trigger the remediation DAG with {"event": ...} as conf. Never raises: a failed hand-off
    is reported to the caller (the incident is stored either way and a retry is idempotent)."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagNotFound, DagRunAlreadyExists
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy.exc import IntegrityError

    run_id = remediation_run_id(event)
    try:
        trigger_dag(
            REMEDIATION_DAG_ID,
            triggered_by=DagRunTriggeredByType.REST_API,
            triggering_user_name=user_name,
            run_id=run_id,
            conf=remediation_conf(event),
            note=f"PATCHIT ingest: {event.platform.value} failure of {event.pipeline_id}",
        )
    except DagRunAlreadyExists:
        return HandOff(DUPLICATE, REMEDIATION_DAG_ID, run_id)
    except IntegrityError:
        # Concurrent deliveries of one event: both passed trigger_dag's existence check and the
        # metadata DB's unique (dag_id, run_id) let one insert win. That is a duplicate, not a
        # failure, when the run is there.
        if _run_exists(run_id):
            return HandOff(DUPLICATE, REMEDIATION_DAG_ID, run_id)
        return HandOff(FAILED, REMEDIATION_DAG_ID, run_id, "the run could not be stored (integrity error)")
    except DagNotFound:
        return HandOff(FAILED, REMEDIATION_DAG_ID, run_id, f"DAG {REMEDIATION_DAG_ID!r} is not deployed")
    except Exception as exc:  # the event is stored; report, never lose it behind a 500
        return HandOff(FAILED, REMEDIATION_DAG_ID, run_id, f"{type(exc).__name__}: {str(exc)[:300]}")
    return HandOff(CREATED, REMEDIATION_DAG_ID, run_id)


def _run_exists(run_id: str) -> bool:
    from airflow.models import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(DagRun.id).where(DagRun.dag_id == REMEDIATION_DAG_ID, DagRun.run_id == run_id)
        return session.scalar(query) is not None
