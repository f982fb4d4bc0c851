"""A real failed TaskFlow run whose task takes an upstream XCom and a template: evidence fetches
what the failed try received through Airflow's REST API (in process, a real JWT), and validation
replays the callable with it in the sandbox: NameError before the patch, success after."""

from __future__ import annotations

import os
import subprocess
import textwrap
import types
from pathlib import Path

import pytest
from patchit_testing import amout_event

pytestmark = pytest.mark.integration

DAG_ID = "orders_fx_replay"
DAG = textwrap.dedent(
    f'''\
    """Orders in any currency, converted at a rate given by a template (PATCHIT's replay test)."""
    from datetime import datetime

    from airflow import sdk
    from airflow.sdk import task


    @task
    def extract_orders() -> list[dict]:
        return [{{"amount": 10, "currency": "EUR"}}, {{"amount": 5, "currency": "USD"}}]


    @task
    def total_usd(orders: list[dict], rate: str) -> float:
        total = 0.0
        for order in orders:
            amount = order["amount"]
            if order["currency"] != "USD":
                amount = amout * float(rate)
            total += amount
        return round(total, 2)


    @sdk.dag(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, params={{"rate": "1.1"}})
    def orders_fx():
        total_usd(extract_orders(), rate="{{{{ params.rate }}}}")


    dag = orders_fx()
    '''
)


def _load(path: Path):
    import importlib.util
    import sys

    name = f"patchit_it_replay_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.dag.fileloc = str(path)
    return module.dag


def _api():
    from airflow.api_fastapi.app import create_app, get_auth_manager, purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from patchit_provider.hooks.api import PatchitApiHook

    purge_cached_app()
    client = TestClient(create_app("core"))
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    return PatchitApiHook(base_url="http://testserver", transport=client._transport, token=token, timeout=30.0)


@pytest.fixture(scope="module")
def remediated(airflow_db, tmp_path_factory):
    """The DAG fails once in its own git repository; PATCHIT's stages run on the captured event
    with the in-process REST API as the evidence stage's task API."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.store import open_store

    base = tmp_path_factory.mktemp("replay")
    repo = base / "pipelines"
    (repo / "dags").mkdir(parents=True)
    path = repo / "dags" / "orders_fx.py"
    path.write_text(DAG)
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "fx"]):
        subprocess.run(cmd, cwd=repo, check=True)
    overrides = {"AIRFLOW__PATCHIT__WATCH": "none"}  # this test builds the event itself, below
    old = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        with create_session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
        sync_bag_to_db(
            BundleDagBag(dag_folder=str(repo / "dags"), bundle_path=repo / "dags", bundle_name="dags-folder"),
            "dags-folder",
            None,
        )
        dag = _load(path)
        dag_run = dag.test()
    finally:
        for key, value in old.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    assert str(dag_run.state) == "failed"
    event = _failure_event(dag_run.run_id, path)
    store = open_store(f"sqlite:///{base / 'patchit.db'}")
    api = _api()
    remediator = Remediator(store, PatchitSettings(validation_timeout=240, publish_mode="none"), task_api=api)
    incident = remediator.receive(event)
    for stage in (remediator.collect_evidence, remediator.triage, remediator.propose, remediator.validate):
        incident = stage(incident.incident_id)
    artifact = store.get_artifact(incident.incident_id, "replay_inputs.json")
    yield types.SimpleNamespace(incident=incident, artifact=artifact, store=store, repo=repo)
    store.close()


def _failure_event(run_id: str, path: Path):
    """What capture builds from the live exception (the NameError with its hint), as a
    FailureEvent: the failure this test remediates."""
    from patchit_provider.engine.models import Frame

    traceback = (
        "Traceback (most recent call last):\n"
        f'  File "{path}", line 19, in total_usd\n'
        "    amount = amout * float(rate)\n"
        "             ^^^^^\n"
        "NameError: name 'amout' is not defined. Did you mean: 'amount'?\n"
    )
    frames = [Frame(path=str(path), line=19, function="total_usd")]
    return amout_event(DAG_ID, run_id, "total_usd", path, traceback=traceback, frames=frames)


def test_evidence_stores_the_failed_tries_xcom_and_rendered_template(remediated):
    from patchit_provider.engine.models import ReplayInputs

    assert remediated.artifact is not None and remediated.artifact.media_type == "application/json"
    inputs = ReplayInputs.model_validate_json(remediated.artifact.content)
    assert [(x.task_id, x.key, x.value) for x in inputs.xcoms] == [
        ("extract_orders", "return_value", [{"amount": 10, "currency": "EUR"}, {"amount": 5, "currency": "USD"}])
    ]
    assert inputs.rendered_fields["op_kwargs"] == {"rate": "1.1"}
    assert inputs.problems == []


def test_the_replay_fails_before_the_patch_and_passes_after(remediated):
    validation = remediated.incident.validation
    assert remediated.incident.state.value == "validated", validation
    assert validation.passed and validation.replay == "reproduced_and_fixed" and validation.not_replayed is None
    replay = next(c for c in validation.checks if c.name == "replay")
    assert replay.status == "passed"
    assert replay.output.startswith("unpatched: NameError reproduced with the failed run's XCom extract_orders")
    assert "rendered op_kwargs['rate']" in replay.output
    assert "patched: total_usd" in replay.output and "returned normally" in replay.output
    assert "-            amount = amout * float(rate)" in remediated.incident.patch.diff
