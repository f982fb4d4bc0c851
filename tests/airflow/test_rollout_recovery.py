"""Recovery rollouts against a real Airflow 3.3: its metadata DB, its REST API (Airflow's own
FastAPI app, in process, with a real JWT) and real task runs.

A DAG fails in 6 runs with one fingerprint (a KeyError from a misspelt column in op_kwargs).
The fix lands: the DAG file changes, so the DAG gets a new version. The recovery rollout clears
the canary, then the waves, through `clearTaskInstances` (dry run first, `run_on_latest_version`)
and every run ends successful on the fixed version. A "fix" that still fails stops at the canary
and escalates, touching no other run. A crash after "cleared M" is recorded resumes without
clearing a member twice.

Nothing here runs a scheduler process: when the executor sleeps between polls, the harness
plays the scheduler and a worker for the queued runs of the target DAG (the same loop as
`dag.test()`: `DagRun.update_state`, then the task run in process with the DAG file as it is now).
"""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TASK = "load"
RUNS = 6

DAG_FILE = '''\
"""Hourly load (a DAG for PATCHIT's recovery rollout test)."""

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def load(column):
    row = {{"amount": 42, "currency": "EUR"}}
    return row[column]


with DAG(dag_id="{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         description="{description}") as dag:
    PythonOperator(task_id="load", python_callable=load, op_kwargs={{"column": "{column}"}})
'''


def _write(folder: Path, dag_id: str, column: str, description: str) -> Path:
    path = folder / f"{dag_id}.py"
    path.write_text(DAG_FILE.format(dag_id=dag_id, column=column, description=description))
    return path


def _sync(folder: Path) -> None:
    """What the DAG processor does after a commit: parse the bundle, write new DAG versions."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="dags-folder")
    sync_bag_to_db(bag, "dags-folder", None)


def _load(path: Path, dag_id: str):
    import importlib.util

    name = f"patchit_it_rollout_{dag_id}_{abs(hash(path.read_text()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.dag.fileloc = str(path)
    return module.dag


def _work(dag_id: str, path: Path) -> None:
    """The scheduler and a worker, once: queued/running runs of `dag_id` advance, scheduled
    task instances run in process with the DAG file as it is now (what a worker parses)."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    from airflow import settings

    dag = _load(path, dag_id)
    session = settings.Session()
    try:
        runs = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.state.in_([DagRunState.QUEUED, DagRunState.RUNNING]))
        ).all()
        bag = DBDagBag()
        for run in runs:
            if run.state == DagRunState.QUEUED:
                run.state = DagRunState.RUNNING
                session.commit()
            run.dag = bag.get_dag_for_run(run, session=session)
            schedulable, _ = run.update_state(session=session)
            for ti in schedulable:
                ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            for ti in run.get_task_instances(session=session):
                if ti.state == TaskInstanceState.SCHEDULED:
                    try:
                        _run_task(ti=ti, task=dag.task_dict[ti.task_id])
                    except Exception:  # as dag.test(): the failure is the TI's state, kept in the DB
                        logging.getLogger(__name__).exception("task failed: %s", ti)
            session.expire_all()
            run = session.get(DagRun, run.id)
            run.dag = bag.get_dag_for_run(run, session=session)
            run.update_state(session=session)
            session.commit()
    finally:
        session.close()


class HarnessClock:
    """Real time for the records; a sleep is one scheduler/worker pass over the target DAG."""

    def __init__(self, dag_id: str, path: Path) -> None:
        self.dag_id, self.path = dag_id, path
        self.passes = 0

    def now(self):
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        self.passes += 1
        _work(self.dag_id, self.path)


class Api:
    """PatchitApiHook against Airflow's API app in process (a TestClient transport, a real JWT)."""

    def __init__(self) -> None:
        from airflow.api_fastapi.app import (
            create_app,
            get_auth_manager,
            purge_cached_app,
        )
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from fastapi.testclient import TestClient

        from patchit_provider.hooks.api import PatchitApiHook

        purge_cached_app()
        self.client = TestClient(create_app("core"))
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
        self.hook = PatchitApiHook(
            base_url="http://testserver", transport=self.client._transport, token=token, timeout=30.0
        )
        self.clears: list[dict] = []
        real = self.hook.clear_task_instances

        def counting(dag_id: str, body: dict) -> dict:
            answer = real(dag_id, body)
            if not body["dry_run"]:
                self.clears.append({"dag_id": dag_id, **body})
            return answer

        self.hook.clear_task_instances = counting  # every real clear the rollout makes, in order


def _tis(dag_id: str) -> dict[str, dict]:
    """run_id -> (state, try_number, version_number, note) of the DAG's `load` task instances."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(TI).where(TI.dag_id == dag_id, TI.task_id == TASK)).all()
        return {
            ti.run_id: {
                "state": ti.state,
                "try_number": ti.try_number,
                "version": ti.dag_version.version_number if ti.dag_version else None,
                "note": ti.note,
            }
            for ti in rows
        }


@pytest.fixture(scope="module")
def env(airflow_db, dags_folder, tmp_path_factory):
    """Settings and an incident store for the module; the listener captures nothing (watch = none)."""
    import os

    from patchit_provider.config import load_settings
    from patchit_provider.engine.store import open_store

    # The DAG processor writes a changed DAG at most every 30 s by default: a fix lands at once here.
    base = tmp_path_factory.mktemp("rollout")
    overrides = {
        "AIRFLOW__PATCHIT__WATCH": "none",
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "0",
        "AIRFLOW__PATCHIT__STORE_PATH": str(base / "patchit.db"),
    }
    old = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    shutil.copy(Path(__file__).resolve().parents[2] / "dags" / "patchit_rollout.py", dags_folder)
    store = open_store(f"sqlite:///{base / 'patchit.db'}")
    api = Api()
    yield {"settings": load_settings(), "store": store, "api": api, "dags": dags_folder}
    store.close()
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _failing_runs(env, dag_id: str, runs: int) -> Path:
    """The DAG, failing in `runs` runs; the store's incident for it, with its fingerprint and
    an occurrence per run (what capture and the remediation's triage record)."""
    from patchit_provider.capture.reference import event_from_reference
    from patchit_provider.engine.models import TaskInstanceRef
    from patchit_provider.engine.rollout.members import fingerprint_of_event

    path = _write(env["dags"], dag_id, "amout", "hourly load")
    _sync(env["dags"])
    dag = _load(path, dag_id)
    for hour in range(runs):
        dag.test(logical_date=datetime(2026, 11, 30, hour, tzinfo=timezone.utc))
    tis = _tis(dag_id)
    assert len(tis) == runs and all(t["state"] == "failed" and t["version"] == 1 for t in tis.values()), tis
    store = env["store"]
    incident = None
    for run_id in sorted(tis):
        event = event_from_reference(
            TaskInstanceRef(dag_id=dag_id, run_id=run_id, task_id=TASK, try_number=1), env["api"].hook
        )
        if incident is None:
            incident, _ = store.create_incident(event)
            incident.fingerprint = fingerprint_of_event(event, env["settings"])
            assert incident.fingerprint
            incident = store.save_incident(incident)
        else:
            store.add_occurrence(incident.incident_id, event)
    env.setdefault("incidents", {})[dag_id] = incident
    return path


def _plan(env, dag_id: str, rollout_id: str, **kw):
    from patchit_provider.engine.rollout.records import (
        RecoveryContext,
        RecoveryInput,
        plan_recovery,
    )
    from patchit_provider.engine.store.rollouts import open_rollouts
    from patchit_provider.operators.rollout import StoreDesk

    rollouts = open_rollouts(env["store"].url)
    desk = StoreDesk(env["store"], env["api"].hook, env["settings"])
    ctx = RecoveryContext(incidents=env["store"], api=env["api"].hook, records=rollouts, desk=desk)
    run = plan_recovery(
        RecoveryInput(
            incident_id=env["incidents"][dag_id].incident_id,
            rollout_id=rollout_id,
            waves=[1, "40%"],
            max_errors=0,
            max_concurrency=2,
            **kw,
        ),
        ctx,
    )
    return run, rollouts


def _execute(env, rollouts, rollout_id: str, dag_id: str, path: Path, records=None):
    from patchit_provider.engine.rollout.execute import ExecuteInput, execute_rollout
    from patchit_provider.operators.rollout import rollout_context

    ctx, _close = rollout_context(
        env["settings"], api=env["api"].hook, store=env["store"], rollouts=rollouts, clock=HarnessClock(dag_id, path)
    )
    if records is not None:
        ctx.records = records
    return execute_rollout(
        ExecuteInput(rollout_id=rollout_id, poll_seconds=0.01, member_timeout_seconds=120, pressure_wait_seconds=5), ctx
    )


def _cleared_runs(env, dag_id: str) -> list[str]:
    return [c["dag_run_id"] for c in env["api"].clears if c["dag_id"] == dag_id]


def test_fix_lands_and_the_rollout_recovers_every_run_on_the_fixed_version(env):
    from patchit_provider.engine.models import MemberResult, RolloutState
    from patchit_provider.engine.rollout.kpis import rollout_kpis

    dag_id = "recover_hourly"
    path = _failing_runs(env, dag_id, RUNS)
    _write(env["dags"], dag_id, "amount", "hourly load (fixed column name)")  # the fix lands
    _sync(env["dags"])
    assert env["api"].hook.latest_dag_version(dag_id) == 2
    run, rollouts = _plan(env, dag_id, "ro-0000000000a1")
    assert run.plan.valid and len(run.targets) == RUNS
    assert run.failed_versions == {dag_id: 1}  # read from the API's task instances (dag_version)
    assert [len(w.members) for w in run.plan.waves] == [1, 2, 2, 1]
    out = _execute(env, rollouts, run.rollout_id, dag_id, path)
    assert out.state is RolloutState.SUCCEEDED, out.reason
    cleared = _cleared_runs(env, dag_id)
    canary = run.targets[run.plan.waves[0].members[0]].run_id
    assert cleared[0] == canary and sorted(cleared) == sorted(run.targets[m].run_id for m in run.targets)
    assert len(cleared) == len(set(cleared))
    tis = _tis(dag_id)
    assert all(t["state"] == "success" and t["try_number"] == 2 and t["version"] == 2 for t in tis.values()), tis
    assert all(run.rollout_id in (t["note"] or "") for t in tis.values())
    saved = rollouts.get(run.rollout_id)
    assert saved.fixed_versions == {dag_id: 2}
    assert all(r.result is MemberResult.SUCCEEDED and r.dag_version == 2 for w in saved.waves for r in w.results)
    assert rollout_kpis([saved]).member_success_rate == 1.0
    rollouts.close()


def test_a_fix_that_still_fails_stops_at_the_canary_and_escalates(env):
    from patchit_provider.engine.models import AuditKind, MemberResult, RolloutState

    dag_id = "recover_broken"
    path = _failing_runs(env, dag_id, 4)
    _write(env["dags"], dag_id, "amout", "hourly load (retry logic added, column still wrong)")
    _sync(env["dags"])
    run, rollouts = _plan(
        env,
        dag_id,
        "ro-0000000000b2",
    )
    out = _execute(env, rollouts, run.rollout_id, dag_id, path)
    assert out.state is RolloutState.ESCALATED and "did not work" in out.reason
    canary = run.targets[run.plan.waves[0].members[0]].run_id
    assert _cleared_runs(env, dag_id) == [canary]
    tis = _tis(dag_id)
    assert tis[canary]["state"] == "failed" and tis[canary]["try_number"] == 2 and tis[canary]["version"] == 2
    assert all(t["try_number"] == 1 and t["version"] == 1 for r, t in tis.items() if r != canary), tis
    saved = rollouts.get(run.rollout_id)
    assert saved.waves[0].results[0].result is MemberResult.FAILED_SAME_FINGERPRINT
    trail = env["store"].audit_trail(env["incidents"][dag_id].incident_id)
    assert [e for e in trail if e.kind == AuditKind.ROLLOUT_ESCALATED and e.data["rollout_id"] == run.rollout_id]
    rollouts.close()


def test_a_crash_mid_wave_resumes_without_clearing_a_member_twice(env):
    from patchit_provider.engine.models import RolloutState
    from patchit_provider.engine.store.rollouts import CLEARED

    dag_id = "recover_crash"
    path = _failing_runs(env, dag_id, 4)
    _write(env["dags"], dag_id, "amount", "hourly load (fixed column name)")
    _sync(env["dags"])
    run, rollouts = _plan(env, dag_id, "ro-0000000000c3")
    victim = run.plan.waves[1].members[0]  # first member of the first wave after the canary

    class Crashing:
        def __getattr__(self, name):
            return getattr(rollouts, name)

        def mark(self, rollout_id, member, phase, **kw):
            done = rollouts.mark(rollout_id, member, phase, **kw)
            if phase == CLEARED and member == victim:
                raise RuntimeError("the rollout task's worker was killed")
            return done

    with pytest.raises(RuntimeError):
        _execute(env, rollouts, run.rollout_id, dag_id, path, records=Crashing())
    assert _cleared_runs(env, dag_id)[-1] == run.targets[victim].run_id
    out = _execute(env, rollouts, run.rollout_id, dag_id, path)  # Airflow retries the task
    assert out.state is RolloutState.SUCCEEDED, out.reason
    assert victim not in out.cleared_now
    cleared = _cleared_runs(env, dag_id)
    assert len(cleared) == len(set(cleared)) == 4
    tis = _tis(dag_id)
    assert all(t["state"] == "success" and t["try_number"] == 2 and t["version"] == 2 for t in tis.values()), tis
    rollouts.close()


def test_the_patchit_rollout_dag_runs_a_stored_rollout_from_its_id(env, monkeypatch):
    """The DAG itself (dag.test): conf {"rollout_id"} only; canary, then the waves; a conf that
    is not a rollout id fails the first task and clears nothing."""
    from patchit_provider.dags.rollout import build_rollout_dag
    from patchit_provider.engine.models import RolloutState
    from patchit_provider.operators import rollout as rollout_ops

    dag_id = "recover_dagrun"
    path = _failing_runs(env, dag_id, 3)
    _write(env["dags"], dag_id, "amount", "hourly load (fixed column name)")
    _sync(env["dags"])
    run, rollouts = _plan(env, dag_id, "ro-0000000000d4")
    real = rollout_ops.rollout_context

    def in_process(settings=None, **kw):  # the same context, with the in-process API and the harness
        return real(
            env["settings"],
            api=env["api"].hook,
            store=env["store"],
            rollouts=rollouts,
            clock=HarnessClock(dag_id, path),
        )

    monkeypatch.setattr(rollout_ops, "rollout_context", in_process)
    dag = build_rollout_dag(poll_seconds=0.01)
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):  # the trigger itself is refused
        dag.test(run_conf={"rollout_id": "KeyError: 'amout' in load()"})
    refused = dag.test(run_conf={"rollout_id": None})  # allowed by the form, refused by the first task
    assert refused.state == "failed" and _cleared_runs(env, dag_id) == []
    done = dag.test(run_conf={"rollout_id": run.rollout_id})
    states = {ti.task_id: ti.state for ti in done.get_task_instances()}
    assert done.state == "success", states
    assert states["canary"] == states["waves"] == "success"
    assert states["no_start_approval"] == states["no_promotion_approval"] == "success"
    assert states["approve_start"] == states["approve_promotion"] == "skipped"
    assert rollouts.get(run.rollout_id).state is RolloutState.SUCCEEDED
    assert all(t["state"] == "success" and t["version"] == 2 for t in _tis(dag_id).values())
    rollouts.close()


def test_the_hook_pages_task_instances_and_never_clears_without_an_explicit_dry_run():
    """Documented shapes over httpx.MockTransport: offset/limit pages until total_entries."""
    import httpx

    from patchit_provider.hooks.api import PatchitApiHook

    total = 250
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        assert request.url.raw_path.split(b"?")[0] == b"/api/v2/dags/orders%20daily/dagRuns/~/taskInstances"
        assert params["state"] == "failed" and params["task_id"] == "load"
        offset, limit = int(params["offset"]), int(params["limit"])
        items = [
            {"dag_id": "orders daily", "dag_run_id": f"r{i}", "task_id": "load", "map_index": -1, "state": "failed"}
            for i in range(offset, min(offset + limit, total))
        ]
        return httpx.Response(200, json={"task_instances": items, "total_entries": total})

    hook = PatchitApiHook(base_url="http://airflow.test", transport=httpx.MockTransport(handler), token="t")
    tis = hook.list_task_instances("orders daily", task_id="load", state="failed")
    assert [t["dag_run_id"] for t in tis] == [f"r{i}" for i in range(total)]
    assert [p["offset"] for p in seen] == ["0", "100", "200"]
    with pytest.raises(ValueError):
        hook.clear_task_instances("orders daily", {"dag_run_id": "r1", "task_ids": ["load"]})


class TwoDagClock:
    """A sleep is one scheduler/worker pass over each of the given DAGs (see `_work`)."""

    def __init__(self, dags: dict[str, Path]) -> None:
        self.dags = dags

    def now(self):
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        for dag_id, path in self.dags.items():
            _work(dag_id, path)


def _dag_runs(dag_id: str) -> list[dict]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).all()
        return [{"run_id": r.run_id, "state": r.state, "start": r.start_date, "end": r.end_date} for r in rows]


def test_an_upgrade_rollout_gates_on_the_canary_dags_next_run_then_the_rest_follow(env, monkeypatch):
    """Issue 13, through `patchit_rollout` itself: two DAGs import the upgraded package; the least
    critical is the canary. Its wave triggers one run of it (REST POST dagRuns); only after that
    run ended successfully is the other DAG's run started; both runs succeed and the rollout too."""
    from patchit_provider.dags.rollout import build_rollout_dag
    from patchit_provider.engine.models import MemberResult, RolloutState, VulnDag, VulnFinding, VulnRecord
    from patchit_provider.engine.rollout.execute import upgrade_run_id
    from patchit_provider.engine.store.rollouts import open_rollouts
    from patchit_provider.engine.vulns.rollout import plan_fix_rollout, upgrade_run
    from patchit_provider.operators import rollout as rollout_ops

    canary, critical = "upgrade_reports", "upgrade_finance"
    paths = {d: _write(env["dags"], d, "amount", "imports tinyvuln") for d in (canary, critical)}
    _sync(env["dags"])
    finding = VulnFinding(
        package="tinyvuln",
        version="1.0",
        advisories=["GHSA-tiny-vuln-0001"],
        fixed_version="1.1",
        action="upgrade",
        deadline="2099-03-01",
        dag_details=[
            VulnDag(path=f"dags/{canary}.py", dag_ids=[canary], criticality=1),
            VulnDag(path=f"dags/{critical}.py", dag_ids=[critical], criticality=5),
        ],
    )
    record = VulnRecord(
        finding_id="vf-00000000000000dd",
        finding=finding,
        state="rollout_planned",
        branch="patchit/vf-00000000000000dd",
        commit="0123456789abcdef0123",
        rollout_plan=plan_fix_rollout(finding),
    )
    rollouts = open_rollouts(env["store"].url)
    run = rollouts.create(upgrade_run(record, "ro-0000000000e5"))
    assert [w.members for w in run.plan.waves] == [[canary], [critical]] and run.state is RolloutState.PLANNED
    real = rollout_ops.rollout_context

    def in_process(settings=None, **kw):
        return real(
            env["settings"], api=env["api"].hook, store=env["store"], rollouts=rollouts, clock=TwoDagClock(paths)
        )

    monkeypatch.setattr(rollout_ops, "rollout_context", in_process)
    done = build_rollout_dag(poll_seconds=0.01).test(run_conf={"rollout_id": run.rollout_id})
    states = {ti.task_id: ti.state for ti in done.get_task_instances()}
    assert done.state == "success", states
    saved = rollouts.get(run.rollout_id)
    assert saved.state is RolloutState.SUCCEEDED, saved.reason
    [first], [second] = _dag_runs(canary), _dag_runs(critical)
    assert first["run_id"] == upgrade_run_id(run.rollout_id, 0)
    assert second["run_id"] == upgrade_run_id(run.rollout_id, 1)
    assert first["state"] == second["state"] == "success"
    assert first["end"] <= second["start"]  # the rest followed only after the canary's run succeeded
    results = {r.member: r for w in saved.waves for r in w.results}
    assert all(r.result is MemberResult.SUCCEEDED and r.action == "trigger" for r in results.values())
    assert results[critical].deployed_at >= saved.waves[0].finished_at
    rollouts.close()
