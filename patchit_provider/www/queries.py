"""The UI's reads, scoped to the DAGs a user may read: a user's Scope becomes the store's
Visibility, the query parameters its IncidentFilter; filtering, ordering, paging and the
overview's aggregates are the store's (engine/store/queries.py). Nothing here writes or builds SQL.
"""

from __future__ import annotations

from typing import Any

from patchit_provider.engine.models import (
    TERMINAL_STATES,
    Incident,
    IncidentFilter,
    IncidentState,
    Visibility,
)
from patchit_provider.engine.store import IncidentStore
from patchit_provider.www.auth import Scope

# The query-parameter model of every listing (built by params.filters).
Filters = IncidentFilter

# States in which PATCHIT is still working on an incident (pages refresh while one is listed).
RUNNING_STATES = frozenset(s for s in IncidentState if s not in TERMINAL_STATES)


def visibility(scope: Scope) -> Visibility:
    """What the user may read: the Airflow DAGs they may read, and the incidents of other
    platforms when they may read the remediation DAG that processes them."""
    return Visibility(dag_ids=scope.dag_ids, external=scope.sees_external)


def list_summaries(
    store: IncidentStore, scope: Scope, filters: Filters, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Newest first, columns only (the order and filters of IncidentStore.list_incidents)."""
    return store.list_summaries(filters, visibility(scope), limit=limit, offset=offset)


def count(store: IncidentStore, scope: Scope, filters: Filters) -> int:
    return store.count_incidents(filters, visibility=visibility(scope))


def get_visible(store: IncidentStore, scope: Scope, incident_id: str) -> Incident | None:
    """The incident, or None when it does not exist or the user may not see it (same answer)."""
    return store.get_visible(incident_id, visibility(scope))


def for_run(store: IncidentStore, scope: Scope, dag_id: str, run_id: str, task_id: str | None) -> list[dict[str, Any]]:
    """Incidents of one DAG run (or one task of it), newest first."""
    return store.run_summaries(visibility(scope), dag_id=dag_id, run_id=run_id, task_id=task_id)


def overview(store: IncidentStore, scope: Scope, filters: Filters, top: int = 10) -> dict[str, Any]:
    """Figures of the overview page (definitions: IncidentStore.overview)."""
    return store.overview(filters, visibility(scope), top=top)
