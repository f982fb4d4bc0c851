"""The `read` stage in a real remediation run (Airflow 3.3, dag.test()): a task fails with an error
no catalog names (netCDF4's "NetCDF: HDF error", github.com/Unidata/netcdf4-python/issues/534);
capture starts the remediation run, whose `patch` task asks the `patchit_llm` connection's model
(an OpenAI-compatible server on 127.0.0.1) for a reading, and the incident carries it."""

from __future__ import annotations

import json
import textwrap

import pytest

from patchit_testing import ScriptedChat, local_http_server

pytestmark = pytest.mark.integration

DAG_ID = "netcdf_append"
FILE = "netcdf_append.py"
QUOTE = "RuntimeError: NetCDF: HDF error"
FAILING_DAG = textwrap.dedent(
    '''\
    """Appends the day's values to parameter.nc (the netCDF file another task still holds open)."""

    from datetime import datetime

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG


    def append_values():
        raise RuntimeError("NetCDF: HDF error")


    with DAG(dag_id="netcdf_append", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        PythonOperator(task_id="append_values", python_callable=append_values)
    '''
)


@pytest.fixture()
def model(monkeypatch, tmp_path):
    """The `patchit_llm` connection pointing at a scripted model; a store of this test's own."""
    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(tmp_path / "patchit.db"))
    with local_http_server(ScriptedChat) as host:
        conn = {
            "conn_type": "patchit_llm",
            "host": f"http://{host}/v1",
            "password": "sk-test",
            "extra": {"backend": "openai", "model": "gpt-test", "timeout": 10, "max_retries": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_PATCHIT_LLM", json.dumps(conn))
        ScriptedChat.prompts = []
        ScriptedChat.answer = json.dumps(
            {
                "category": "infra.resource",
                "remediation": "escalate",
                "quote": QUOTE,
                "why": "the HDF library could not open the file for appending",
            }
        )
        yield ScriptedChat


@pytest.fixture()
def deployed(dags_folder):
    path = dags_folder / FILE
    path.write_text(FAILING_DAG)
    yield path
    path.unlink(missing_ok=True)


def test_the_patch_task_reads_an_unknown_failure_with_the_connections_model(
    model, deployed, dag_loader, remediation_runs, remediation_dag
):
    from patchit_provider.config import load_settings
    from patchit_provider.engine.models import AuditKind, IncidentState
    from patchit_provider.hooks.store import PatchitStoreHook

    before = {run_id for run_id, _ in remediation_runs()}
    failed = dag_loader(deployed, DAG_ID, module_name="patchit_it_model_reading").test()
    assert str(failed.state) == "failed"
    ((_, conf),) = [(run_id, conf) for run_id, conf in remediation_runs() if run_id not in before]
    run = remediation_dag.test(run_conf=dict(conf))
    assert str(run.state) == "success"

    store = PatchitStoreHook(settings=load_settings()).get_store()
    try:
        incident = store.get_incident_by_event(conf["event_ref"])
        trail = store.audit_trail(incident.incident_id)
        rca = store.get_artifact(incident.incident_id, "rca.md")
    finally:
        store.close()
    kinds = [entry.kind for entry in trail]
    assert kinds.index(AuditKind.TRIAGE_COMPLETED) < kinds.index(AuditKind.TRIAGE_READ), kinds
    triage = incident.triage
    assert (triage.category.value, triage.remediation.value, triage.confidence) == ("infra.resource", "escalate", 0.3)
    assert triage.decided_by == "model reading (openai/gpt-test)" and triage.evidence_lines[0] == QUOTE
    assert incident.state is IncidentState.ESCALATED
    assert "model reading (openai/gpt-test)" in rca.content
    assert len(model.prompts) == 1  # one reading; no patch was asked for an escalated failure
    prompt = model.prompts[0]["messages"][-1]["content"]
    assert "UNTRUSTED-BEGIN" in prompt and QUOTE in prompt
