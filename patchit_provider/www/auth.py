"""Who is asking, and which incidents they may see.

A mounted plugin app gets no authentication from Airflow, so every route depends on one of the
dependencies below, which build on Airflow's own `get_user` / `requires_access_dag` (Bearer JWT
or the UI's `_token` cookie). Incidents are scoped by the auth manager's DAG permissions:

- an Airflow incident is visible to users who may read its DAG (`pipeline_id`);
- an incident from another platform (dbt, Spark, ...) has no DAG of its own: it is visible to
  users who may read the remediation DAG (`REMEDIATION_DAG_ID`), the DAG that processes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
from fastapi import Depends

from patchit_provider.engine.constants import REMEDIATION_DAG_ID
from patchit_provider.engine.models import Incident, Platform


@dataclass(frozen=True)
class Scope:
    """The DAG ids a user may read; the incident filter of every query follows from it."""

    user_name: str
    user_id: str
    dag_ids: frozenset[str]

    @property
    def sees_external(self) -> bool:
        return REMEDIATION_DAG_ID in self.dag_ids

    def can_see(self, incident: Incident) -> bool:
        event = incident.event
        if event.platform is Platform.AIRFLOW:
            return event.pipeline_id in self.dag_ids
        return self.sees_external


def _auth_manager():
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def scope_for(user: BaseUser) -> Scope:
    dag_ids = _auth_manager().get_authorized_dag_ids(user=user, method="GET")
    return Scope(user_name=user.get_name(), user_id=str(user.get_id()), dag_ids=frozenset(dag_ids))


def get_scope(user: Annotated[BaseUser, Depends(get_user)]) -> Scope:
    """Authenticated user (401 otherwise) and the DAGs they may read."""
    return scope_for(user)


ScopeDep = Annotated[Scope, Depends(get_scope)]

# Ingest starts runs of the remediation DAG, so it needs exactly that permission.
require_trigger_remediation = requires_access_dag(
    method="POST", access_entity=DagAccessEntity.RUN, param_dag_id=REMEDIATION_DAG_ID
)
# Answering the approval step: the permission Airflow's own hitlDetails PATCH endpoint requires.
require_answer_approval = requires_access_dag(
    method="PUT", access_entity=DagAccessEntity.HITL_DETAIL, param_dag_id=REMEDIATION_DAG_ID
)
# The run/task-instance tab: the built-in check reads `dag_id` from the query string.
require_read_run = requires_access_dag(method="GET", access_entity=DagAccessEntity.RUN)


UserDep = Annotated[BaseUser, Depends(get_user)]


def may_edit_failing_dag(user: BaseUser, incident: Incident) -> bool:
    """Whether `user` may edit (PUT) the DAG whose failure `incident` is: what approving its patch
    needs. An incident from another platform has no DAG of its own: the remediation DAG counts."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    event = incident.event
    dag_id = event.pipeline_id if event.platform is Platform.AIRFLOW else REMEDIATION_DAG_ID
    return _auth_manager().is_authorized_dag(method="PUT", user=user, details=DagDetails(id=dag_id))
