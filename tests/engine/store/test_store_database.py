"""The plumbing the three stores share (StoreDatabase), checked on each of them, on SQLite and
PostgreSQL: a forked child (Airflow forks task processes) never talks on its parent's
connections, and database errors come out of every store the same way."""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, text
from store_factories import event

from patchit_provider.engine.models import RecoveryMember, RolloutRun, VulnFinding, utcnow
from patchit_provider.engine.rollout.members import recovery_spec
from patchit_provider.engine.rollout.planner import plan_rollout
from patchit_provider.engine.store import SCHEMA_VERSION, StoreError, StoreUnavailableError, open_store
from patchit_provider.engine.store.database import StoreDatabase
from patchit_provider.engine.store.rollouts import open_rollouts
from patchit_provider.engine.store.schema import schema_version
from patchit_provider.engine.store.vulns import open_vulns
from patchit_provider.engine.vulns.remediate import new_record


def _rollout(store: Any, tag: str) -> None:
    members = [RecoveryMember(dag_id="d", run_id=f"r-{tag}", task_id="t")]
    plan = plan_rollout(recovery_spec(members, {}, subject="inc-1", waves=[1], max_errors=0))
    store.create(
        RolloutRun(rollout_id=f"ro-{tag}", subject="inc-1", plan=plan, targets={m.member_id: m for m in members})
    )


def _finding(store: Any, tag: str) -> None:
    finding = VulnFinding(
        package=f"pkg-{tag}",
        version="1.0",
        advisories=[f"GHSA-{tag}"],
        fixed_version="2.0",
        action="upgrade",
        deadline="2027-01-01",
        severity="high",
    )
    store.add(new_record(finding, "/srv/p", "scan"))


@dataclass(frozen=True)
class Kind:
    """One store, driven through its own public API only."""

    name: str
    open: Callable[..., StoreDatabase]
    add: Callable[[Any, str], None]  # store one new item named by the tag
    count: Callable[[Any], int]  # how many items the store holds
    table: str  # the table `add` writes (locked in the timeout test)


KINDS = [
    Kind(
        "incidents",
        open_store,
        lambda s, tag: s.create_incident(event(pipeline=f"p-{tag}", run=tag)),
        lambda s: s.count_incidents(),
        "incidents",
    ),
    Kind("rollouts", open_rollouts, _rollout, lambda s: len(s.list()), "rollout_runs"),
    Kind("findings", open_vulns, _finding, lambda s: len(s.list()), "vuln_findings"),
]
BY_NAME = {k.name: k for k in KINDS}
MARK = "patchit_fork_mark"
ROUNDS = 20


def _mark_session(store: StoreDatabase) -> None:
    """A temporary table: visible to this database session (connection) only."""
    with store.write() as conn:
        conn.execute(text(f"CREATE TEMPORARY TABLE {MARK} (x INTEGER)"))


def _sees_mark(store: StoreDatabase) -> bool:
    with store.read() as conn:
        if store.dialect == "sqlite":
            found = conn.execute(text("SELECT count(*) FROM sqlite_temp_master WHERE name = :n"), {"n": MARK})
            return bool(found.scalar())
        return conn.execute(text("SELECT to_regclass(:n)"), {"n": f"pg_temp.{MARK}"}).scalar() is not None


def _in_forked_child(work: Callable[[], Any], meanwhile: Callable[[], None]) -> Any:
    """Run `work` in a forked child while the parent runs `meanwhile`; the child's result."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", work()))
        except BaseException as exc:  # noqa: BLE001  (reported to the parent)
            send.send(("error", f"{type(exc).__name__}: {exc}"))

    proc = ctx.Process(target=child)
    proc.start()
    try:
        meanwhile()
        assert receive.poll(60), "the forked child did not answer within 60 s"
        status, value = receive.recv()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    assert status == "ok", f"in the forked child: {value}"
    return value


@pytest.mark.parametrize("name", list(BY_NAME))
def test_forked_child_uses_its_own_connections(name, store_url):
    kind = BY_NAME[name]
    with kind.open(store_url) as store:
        kind.add(store, "parent-0")
        _mark_session(store)  # the connection the parent's pool now holds
        assert _sees_mark(store)

        def work() -> dict[str, Any]:
            seen = _sees_mark(store)  # True: the child took its parent's pooled connection
            for i in range(ROUNDS):
                kind.add(store, f"child-{i}")
            return {"saw_parent_session": seen}

        def meanwhile() -> None:
            for i in range(ROUNDS):
                kind.add(store, f"parent-{i + 1}")

        got = _in_forked_child(work, meanwhile)
        assert got == {"saw_parent_session": False}
        # The parent's session survived the child: neither used nor closed by it.
        assert _sees_mark(store)
        assert kind.count(store) == 1 + 2 * ROUNDS


@pytest.mark.parametrize("name", list(BY_NAME))
def test_in_memory_store_is_the_childs_own_copy_after_fork(name):
    """An in-memory database is not shared with anyone: a forked child keeps working on its
    copy (a new connection would be an empty database without the schema)."""
    kind = BY_NAME[name]
    with kind.open("sqlite://") as store:
        kind.add(store, "before-fork")

        def work() -> int:
            kind.add(store, "child")
            return kind.count(store)

        assert _in_forked_child(work, lambda: None) == 2
        assert kind.count(store) == 1  # the parent's database did not see the child's write


def _raised(call: Callable[[], object]) -> StoreError:
    with pytest.raises(StoreError) as info:
        call()
    assert info.value.__cause__ is not None  # the driver's error stays attached
    return info.value


def _unlabelled(store_kind: str, exc: StoreError) -> str:
    label = {"incidents": "incident store", "rollouts": "rollout store", "findings": "vulnerability store"}[store_kind]
    message = str(exc)
    assert message.startswith(f"{label} "), message
    assert "\n" not in message and "['" not in message, message  # one line of the driver's message
    return message.removeprefix(f"{label} ")


def test_every_store_reports_an_unreachable_server_alike():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://patchit:s3cret@127.0.0.1:{port}/patchit"
    seen = {}
    for kind in KINDS:
        exc = _raised(lambda kind=kind: kind.open(url, connect_timeout=1))
        assert isinstance(exc, StoreUnavailableError), exc
        seen[kind.name] = _unlabelled(kind.name, exc)
    assert len(set(seen.values())) == 1, seen
    message = seen["incidents"]
    assert message.startswith(f"postgresql+psycopg://patchit:***@127.0.0.1:{port}/patchit unavailable: "), message
    assert "s3cret" not in message


def test_every_store_reports_a_constraint_violation_alike(store_url):
    """Bad data is a StoreError (the caller's fault), not an outage to retry."""
    seen = {}
    for kind in KINDS:
        with kind.open(store_url) as store:

            def duplicate(store: StoreDatabase = store) -> None:
                with store.write() as conn:
                    conn.execute(insert(schema_version).values(id=1, version=SCHEMA_VERSION, updated_at=utcnow()))

            exc = _raised(duplicate)
            assert not isinstance(exc, StoreUnavailableError), exc
            seen[kind.name] = _unlabelled(kind.name, exc)
            assert kind.count(store) == 0  # and the store still works
    assert len(set(seen.values())) == 1, seen
    assert " error: " in seen["incidents"]


def test_every_store_reports_a_lock_held_too_long_alike(store_url):
    """Another writer holds what a store's own write needs past the store's timeout: each store
    fails in bounded time with the same StoreUnavailableError, then works once it is released."""
    seen = {}
    with open_store(store_url) as holder:
        for kind in KINDS:
            with kind.open(store_url, timeout=0.5) as store:
                with holder.write() as conn:  # SQLite: the database's write lock
                    if holder.dialect == "postgresql":
                        conn.execute(text(f"LOCK TABLE {kind.table} IN ACCESS EXCLUSIVE MODE"))
                    exc = _raised(lambda kind=kind, store=store: kind.add(store, "locked-out"))
                assert isinstance(exc, StoreUnavailableError), exc
                # The detail is the driver's (lock or statement timeout on PostgreSQL, whichever fires first).
                seen[kind.name] = _unlabelled(kind.name, exc).split(": ", 1)[0]
                kind.add(store, "after-release")
                assert kind.count(store) == 1
    assert len(set(seen.values())) == 1, seen
    assert seen["incidents"].endswith(" unavailable"), seen
