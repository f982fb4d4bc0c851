"""The secrets of the connections a failed operator names are masked exactly in every stage.

Capture records the ids (never the values) of the operator's `*conn_id` attributes; each remediation
stage fetches those connections' secrets and adds them to redaction before it reads anything, so a
warehouse password that no pattern recognises (a plain word) is still masked wherever it appears.
"""

from __future__ import annotations

import secrets
import types

import pytest

pytestmark = pytest.mark.integration


def _ti(task):
    dag = types.SimpleNamespace(dag_id="orders_daily", tags=[], fileloc="/srv/pipelines/dags/orders.py")
    task.dag = dag
    return types.SimpleNamespace(
        dag_id="orders_daily",
        run_id="manual__2026-01-01",
        task_id="load",
        map_index=-1,
        try_number=1,
        state="failed",
        task=task,
        hostname="worker-1",
    )


def test_capture_records_the_connection_ids_the_operator_names_and_never_their_values():
    from patchit_provider.capture.event import build_event

    task = types.SimpleNamespace(
        task_type="SQLExecuteQueryOperator",
        owner="data",
        conn_id="warehouse",
        postgres_conn_id="pg_main",
        aws_conn_id=None,
        sql="select 1",
    )
    event = build_event(_ti(task), RuntimeError("relation missing"))
    assert event.metadata["conn_ids"] == ["pg_main", "warehouse"]


def test_a_stage_masks_the_named_connections_secret_before_it_runs(airflow_db, monkeypatch, tmp_path):
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.redaction import clear_secret_values, redact
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.store import open_store
    from patchit_provider.hooks import masking
    from patchit_provider.operators.remediation import _mask_task_connections

    password = "correct" + secrets.token_hex(3) + "horse"  # a plain word: no pattern catches it
    asked: list[list[str]] = []

    def connection_values(conn_ids):
        asked.append(list(conn_ids))
        return [password] if "warehouse" in conn_ids else []

    monkeypatch.setattr(masking, "connection_values", connection_values)
    clear_secret_values()
    assert password in redact(f"login failed for password {password}")[0]
    store = open_store(f"sqlite:///{tmp_path / 'patchit.db'}")
    try:
        event = FailureEvent(
            platform="generic",
            pipeline_id="orders_daily",
            run_id="r1",
            task_id="load",
            metadata={"conn_ids": ["warehouse"]},
        )
        incident = Remediator(store, PatchitSettings()).receive(event)
        _mask_task_connections(store, incident.incident_id)
    finally:
        store.close()
    assert asked == [["warehouse"]]
    assert password not in redact(f"login failed for password {password}")[0]
    clear_secret_values()
