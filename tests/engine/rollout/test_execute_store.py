"""The rollout records the executor resumes from, on SQLite and PostgreSQL (PATCHIT_TEST_PG_URL,
as tests/engine/store): a run survives a reopen, the clear journal is idempotent per phase, and
an executor in a new process (a new store object) resumes from the journal."""

from __future__ import annotations

import pytest
from patchit_testing import pg_schema_url  # noqa: F401  (a pytest fixture)

from patchit_provider.engine.models import (
    MemberResult,
    RecoveryMember,
    RolloutRun,
    RolloutState,
)
from patchit_provider.engine.rollout.execute import (
    ExecuteInput,
    RolloutContext,
    execute_rollout,
)
from patchit_provider.engine.rollout.kpis import rollout_kpis
from patchit_provider.engine.rollout.members import recovery_spec
from patchit_provider.engine.rollout.planner import plan_rollout
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store.rollouts import (
    CLEARED,
    CLEARING,
    new_rollout_id,
    open_rollouts,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patchit.db'}"
    return request.getfixturevalue("pg_schema_url")  # a fresh schema, as tests/engine/store uses


def _run(rollout_id: str, members: list[RecoveryMember]) -> RolloutRun:
    plan = plan_rollout(recovery_spec(members, {}, subject="inc-1", waves=[1, "50%"], max_errors=0))
    return RolloutRun(
        rollout_id=rollout_id, subject="inc-1", fingerprint="fp", plan=plan, targets={m.member_id: m for m in members}
    )


def test_records_and_journal_survive_a_reopen(url):
    members = [RecoveryMember(dag_id="d", run_id=f"r{i}", task_id="t") for i in range(3)]
    rid = new_rollout_id()
    with open_rollouts(url) as store:
        store.create(_run(rid, members))
        assert store.mark(rid, members[0].member_id, CLEARING, try_before=1) is True
        assert store.mark(rid, members[0].member_id, CLEARING, try_before=1) is False  # idempotent
        assert store.mark(rid, members[0].member_id, CLEARED, try_before=1) is True
        with pytest.raises(ValueError):
            store.mark(rid, members[1].member_id, "done")
    with open_rollouts(url) as store:  # another process, later
        journal = store.marks(rid)
        assert set(journal) == {members[0].member_id}
        assert set(journal[members[0].member_id]) == {CLEARING, CLEARED}
        assert journal[members[0].member_id][CLEARED]["try_before"] == 1
        run = store.get(rid)
        assert run is not None and run.state is RolloutState.PLANNED and len(run.targets) == 3
        assert [r.rollout_id for r in store.list(subject="inc-1")] == [rid]
        assert store.get("ro-000000000000") is None


def test_a_resumed_executor_in_a_new_store_object_clears_nobody_twice(url):
    members = [RecoveryMember(dag_id="d", run_id=f"r{i}", task_id="t") for i in range(4)]
    tis = {
        m.run_id: {
            "dag_id": "d",
            "dag_run_id": m.run_id,
            "task_id": "t",
            "map_index": -1,
            "state": "failed",
            "try_number": 1,
            "dag_version": {"version_number": 1},
        }
        for m in members
    }
    clears: list[str] = []

    class Api:
        def clear_task_instances(self, dag_id, body):
            ti = tis[body["dag_run_id"]]
            hit = [dict(ti)] if ti["state"] == "failed" else []
            if not body["dry_run"] and hit:
                clears.append(body["dag_run_id"])
                ti.update(state=None, dag_version={"version_number": 2})
            return {"task_instances": hit, "total_entries": len(hit)}

        def get_task_instance(self, dag_id, run_id, task_id, map_index=-1):
            return dict(tis[run_id])

        def latest_dag_version(self, dag_id):
            return 2

        def queued_run_ids(self, dag_id):
            return []

        def pool_open_slots(self, pool):
            return None

    class Clock:
        def now(self):
            from patchit_provider.engine.models import utcnow

            return utcnow()

        def sleep(self, seconds):
            for ti in tis.values():
                if ti["state"] is None:
                    ti.update(state="success", try_number=ti["try_number"] + 1)

    class Desk:
        def fingerprint_of(self, member, try_number):
            return "fp"

        def escalate(self, subject, message, data):
            raise AssertionError("nothing fails here")

        def hand_off(self, member, try_number):
            raise AssertionError("nothing fails here")

    rid = new_rollout_id()
    with open_rollouts(url) as store:
        store.create(_run(rid, members))
        first = store.get(rid).plan.waves[1].members[0]

        class Crash:
            def __getattr__(self, name):
                return getattr(store, name)

            def mark(self, rollout_id, member, phase, **kw):
                done = store.mark(rollout_id, member, phase, **kw)
                if phase == CLEARED and member == first:
                    raise RuntimeError("killed")
                return done

        with pytest.raises(RuntimeError):
            execute_rollout(
                ExecuteInput(rollout_id=rid, poll_seconds=0.01),
                RolloutContext(
                    store=None, settings=PatchitSettings(), api=Api(), records=Crash(), desk=Desk(), clock=Clock()
                ),
            )
    with open_rollouts(url) as store:
        out = execute_rollout(
            ExecuteInput(rollout_id=rid, poll_seconds=0.01),
            RolloutContext(
                store=None, settings=PatchitSettings(), api=Api(), records=store, desk=Desk(), clock=Clock()
            ),
        )
        assert out.state is RolloutState.SUCCEEDED
        assert sorted(clears) == ["r0", "r1", "r2", "r3"]  # each exactly once
        saved = store.get(rid)
        assert all(r.result is MemberResult.SUCCEEDED for w in saved.waves for r in w.results)
        assert rollout_kpis(store.list()).succeeded == 1
