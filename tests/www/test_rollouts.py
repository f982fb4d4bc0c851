"""The Rollouts pages: scoped to users who may read every DAG a rollout touches, edits re-validated
and versioned (a refused edit says why and changes nothing), approve / reject recorded (a reason
to reject), the rollout DAG's waiting HITL step answered, CSRF and Origin enforced, and KPIs equal
to figures recomputed here from the run records."""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from patchit_provider.engine.models import (
    MemberRecord,
    MemberResult,
    RecoveryMember,
    RolloutMember,
    RolloutRun,
    RolloutSpec,
    RolloutState,
    WaveRecord,
)
from patchit_provider.engine.rollout import plan_rollout
from patchit_provider.www import approvals, csrf

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ORIGIN = {"Origin": "http://testserver"}
ROLLOUT_DAG = """
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("patchit_rollout", schedule=None) as dag:
    EmptyOperator(task_id="approve_start")
"""


@pytest.fixture
def rollouts(store):
    from patchit_provider.engine.store.rollouts import open_rollouts

    with open_rollouts(store.url) as opened:
        yield opened


def make_run(
    rollouts, dags=("sales_daily",), *, per_dag=3, approval_points=(), max_errors=1, state=None, policy=None, **fields
) -> RolloutRun:
    """A stored recovery rollout over `per_dag` failed runs of each DAG's `load` task."""
    targets = [RecoveryMember(dag_id=d, run_id=f"scheduled__{i}", task_id="load") for d in dags for i in range(per_dag)]
    spec = RolloutSpec(
        members=[RolloutMember(id=t.member_id) for t in targets],
        waves=[1, "50%"],
        max_errors=max_errors,
        max_concurrency=1,
        member_seconds=60,
        approval_points=list(approval_points),
        policy_max_failures=policy,
    )
    rid = f"ro-{uuid.uuid4().hex[:12]}"
    plan = plan_rollout(spec, now=T0).model_copy(update={"plan_id": rid})
    assert plan.valid, plan.problems
    waiting = plan.waves[0].approval_before
    run = RolloutRun(
        rollout_id=rid,
        subject="inc-0123456789ab",
        fingerprint="fp-1",
        plan=plan,
        plan_id=rid,
        targets={t.member_id: t for t in targets},
        state=state or (RolloutState.AWAITING_APPROVAL if waiting else RolloutState.PLANNED),
        **fields,
    )
    return rollouts.create(run)


def token_of(client, headers, rollout_id) -> str:
    page = client.get(f"/rollouts/{rollout_id}", headers=headers)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post(client, headers, url, data, origin=ORIGIN):
    return client.post(url, data=data, headers={**headers, **origin}, follow_redirects=False)


# -- auth and scope -----------------------------------------------------------------------------


def test_every_route_needs_a_login(client, rollouts):
    run = make_run(rollouts)
    for url in ("/rollouts", f"/rollouts/{run.rollout_id}", "/api/rollouts", f"/api/rollouts/{run.rollout_id}"):
        assert client.get(url).status_code == 401, url
    for action in ("edit", "approve", "reject"):
        assert client.post(f"/rollouts/{run.rollout_id}/{action}", data={}, headers=ORIGIN).status_code == 401, action


def test_a_reader_sees_only_rollouts_whose_dags_he_may_all_read(client, headers_for, rollouts):
    own = make_run(rollouts, ("sales_daily",))
    mixed = make_run(rollouts, ("sales_daily", "hr_payroll"))
    alice = headers_for("alice")  # reads sales_daily only
    listed = {r["rollout_id"] for r in client.get("/api/rollouts", headers=alice).json()["rollouts"]}
    assert listed == {own.rollout_id}
    page = client.get("/rollouts", headers=alice).text
    assert own.rollout_id in page and mixed.rollout_id not in page and "hr_payroll" not in page
    assert client.get(f"/rollouts/{mixed.rollout_id}", headers=alice).status_code == 404
    assert client.get(f"/api/rollouts/{mixed.rollout_id}", headers=alice).status_code == 404
    admin = headers_for("admin")
    assert {r["rollout_id"] for r in client.get("/api/rollouts", headers=admin).json()["rollouts"]} >= {
        own.rollout_id,
        mixed.rollout_id,
    }
    # an invisible rollout cannot be acted on either, and its answer names nothing
    token = token_of(client, alice, own.rollout_id)
    refused = post(
        client,
        alice,
        f"/rollouts/{mixed.rollout_id}/edit",
        {"csrf_token": token, "op": "set_bake", "bake_seconds": "5", "base_version": "1"},
    )
    assert refused.status_code == 404 and "hr_payroll" not in refused.text


def test_the_page_shows_the_plan_and_its_figures(client, headers_for, rollouts):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    page = client.get(f"/rollouts/{run.rollout_id}", headers=headers_for("admin"))
    assert page.status_code == 200
    text = page.text
    plan = run.plan
    assert f'id="worst-case">{plan.worst_case_failures}<' in text
    for wave in plan.waves:
        for member in wave.members:
            assert member in text
    assert "before_first_wave" in text and "Approve" in text
    assert '<script src="/patchit/static/rollout.js"' in text and "<script>" not in text  # no inline script
    assert 'data-poll="/patchit/api/rollouts/' in text
    js = page.headers["content-security-policy"]
    assert "script-src 'self'" in js and "unsafe-inline" not in js


# -- edits --------------------------------------------------------------------------------------


def test_an_edit_is_revalidated_and_stored_as_a_new_version(client, headers_for, rollouts):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    # someone approved version 1 before the edit
    rollouts.modify(run.rollout_id, lambda r: r.model_copy(update={"approved_by": {"before_first_wave": "carol"}}))
    sizes = [len(w.members) for w in run.plan.waves]
    response = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/edit",
        {"csrf_token": token, "op": "resize_wave", "wave": "0", "size": "2", "base_version": "1"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/patchit/rollouts/{run.rollout_id}#plan"
    saved = rollouts.get(run.rollout_id)
    assert saved.plan.version == 2 and saved.plan_version == 2 and saved.plan.parent_version == 1
    assert saved.plan.edited_by == "admin" and saved.plan.valid
    assert [e.op for e in saved.plan.edits] == ["resize_wave"]
    assert len(saved.plan.waves[0].members) == 2 and sum(len(w.members) for w in saved.plan.waves) == sum(sizes)
    assert [v.version for v in saved.plan_history] == [1] and saved.plan_history[0].waves == run.plan.waves
    assert saved.approved_by == {} and saved.state is RolloutState.AWAITING_APPROVAL  # approve the new version again
    page = client.get(f"/rollouts/{run.rollout_id}", headers=admin).text
    assert 'data-version="2"' in page and 'data-version="1"' in page and 'id="edited-by">admin<' in page


def test_a_budget_edit_beyond_the_policy_is_refused_with_its_reason_and_changes_nothing(client, headers_for, rollouts):
    run = make_run(rollouts, policy=2, max_errors=1)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    response = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/edit",
        {"csrf_token": token, "op": "set_max_errors", "max_errors": "5", "base_version": "1"},
    )
    assert response.status_code == 422
    assert "Edit refused" in response.text and "policy" in response.text.lower()
    assert 'value="5"' in response.text  # the submitted value is kept in the form
    assert rollouts.get(run.rollout_id).plan == run.plan and rollouts.get(run.rollout_id).plan_history == []


@pytest.mark.parametrize(
    "form, words",
    [
        ({"op": "resize_wave", "wave": "0", "size": "99"}, "cannot hold"),
        ({"op": "move_member", "member": "nobody", "to_wave": "1"}, "not a member"),
        ({"op": "set_max_concurrency", "max_concurrency": "two"}, "whole number"),
        ({"op": "drop_table"}, "unknown edit"),
    ],
)
def test_malformed_or_impossible_edits_are_refused_with_a_reason(client, headers_for, rollouts, form, words):
    run = make_run(rollouts)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    response = post(
        client, admin, f"/rollouts/{run.rollout_id}/edit", {"csrf_token": token, "base_version": "1", **form}
    )
    assert response.status_code == 422 and words in response.text
    assert rollouts.get(run.rollout_id).plan.version == 1


def test_a_stale_form_or_a_started_rollout_is_409(client, headers_for, rollouts):
    run = make_run(rollouts)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    first = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/edit",
        {"csrf_token": token, "op": "set_bake", "bake_seconds": "30", "base_version": "1"},
    )
    assert first.status_code == 303
    stale = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/edit",
        {"csrf_token": token, "op": "set_bake", "bake_seconds": "60", "base_version": "1"},
    )
    assert stale.status_code == 409 and rollouts.get(run.rollout_id).plan.bake_seconds == 30
    rollouts.modify(
        run.rollout_id,
        lambda r: r.model_copy(
            update={
                "state": RolloutState.RUNNING,
                "waves": [WaveRecord(index=0, members=r.plan.waves[0].members, started_at=T0)],
            }
        ),
    )
    late = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/edit",
        {"csrf_token": token, "op": "set_bake", "bake_seconds": "60", "base_version": "2"},
    )
    assert late.status_code == 409 and rollouts.get(run.rollout_id).plan.version == 2


# -- approve / reject ---------------------------------------------------------------------------


def test_approve_without_a_waiting_dag_run_is_recorded_for_the_dag_to_find(client, headers_for, rollouts):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    response = post(client, admin, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token})
    assert response.status_code == 303
    assert rollouts.get(run.rollout_id).approved_by == {"before_first_wave": "admin"}
    listed = client.get("/rollouts", headers=admin).text
    assert 'admin <span class="muted">(before_first_wave)</span>' in listed
    again = post(client, admin, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token})
    assert again.status_code == 409


def test_approve_with_nothing_due_is_409(client, headers_for, rollouts):
    run = make_run(rollouts)  # no approval point
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    assert post(client, admin, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token}).status_code == 409
    assert rollouts.get(run.rollout_id).approved_by == {}


def test_reject_needs_a_reason_and_records_it(client, headers_for, rollouts):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    empty = post(client, admin, f"/rollouts/{run.rollout_id}/reject", {"csrf_token": token, "reason": "   "})
    assert empty.status_code == 400 and rollouts.get(run.rollout_id).state is RolloutState.AWAITING_APPROVAL
    response = post(
        client,
        admin,
        f"/rollouts/{run.rollout_id}/reject",
        {"csrf_token": token, "reason": "the warehouse is being migrated tonight"},
    )
    assert response.status_code == 303
    saved = rollouts.get(run.rollout_id)
    assert saved.state is RolloutState.ABORTED and saved.finished_at is not None
    assert saved.reason == "rejected by admin (plan version 1): the warehouse is being migrated tonight"
    assert (
        post(client, admin, f"/rollouts/{run.rollout_id}/reject", {"csrf_token": token, "reason": "again"}).status_code
        == 409
    )


def test_answering_needs_edit_permission_on_every_dag_and_the_hitl_permission(
    client, headers_for, rollouts, monkeypatch
):
    from patchit_www_auth import RestrictedAuthManager

    run = make_run(rollouts, ("sales_daily", "hr_payroll"), approval_points=["before_first_wave"])
    viewer = headers_for("viewer")  # reads every DAG, edits none, no HITL permission
    token = token_of(client, viewer, run.rollout_id)
    assert post(client, viewer, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token}).status_code == 403
    assert (
        post(
            client,
            viewer,
            f"/rollouts/{run.rollout_id}/edit",
            {"csrf_token": token, "op": "set_bake", "bake_seconds": "5", "base_version": "1"},
        ).status_code
        == 403
    )
    # carol-like admin who may read both DAGs but edit only sales_daily
    original = RestrictedAuthManager.is_authorized_dag

    def narrowed(self, *, method, user, access_entity=None, details=None):
        if user.get_name() == "admin" and method == "PUT" and details is not None and details.id == "hr_payroll":
            return False
        return original(self, method=method, user=user, access_entity=access_entity, details=details)

    monkeypatch.setattr(RestrictedAuthManager, "is_authorized_dag", narrowed)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    for action, data in (
        ("approve", {}),
        ("reject", {"reason": "no"}),
        ("edit", {"op": "set_bake", "bake_seconds": "5", "base_version": "1"}),
    ):
        refused = post(client, admin, f"/rollouts/{run.rollout_id}/{action}", {"csrf_token": token, **data})
        assert refused.status_code == 403, action
    saved = rollouts.get(run.rollout_id)
    assert saved.approved_by == {} and saved.state is RolloutState.AWAITING_APPROVAL and saved.plan.version == 1


def test_cross_site_or_tokenless_posts_are_403_and_change_nothing(client, headers_for, rollouts):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    evil = {"Origin": "https://evil.example"}
    for action, data in (
        ("approve", {}),
        ("reject", {"reason": "x"}),
        ("edit", {"op": "set_bake", "bake_seconds": "5", "base_version": "1"}),
    ):
        assert (
            post(
                client, admin, f"/rollouts/{run.rollout_id}/{action}", {"csrf_token": token, **data}, origin=evil
            ).status_code
            == 403
        ), action
        assert post(client, admin, f"/rollouts/{run.rollout_id}/{action}", data).status_code == 403, action
        other = csrf.issue("viewer")  # a valid token of another user
        assert (
            post(client, admin, f"/rollouts/{run.rollout_id}/{action}", {"csrf_token": other, **data}).status_code
            == 403
        )
    saved = rollouts.get(run.rollout_id)
    assert saved.approved_by == {} and saved.state is RolloutState.AWAITING_APPROVAL and saved.plan.version == 1


@pytest.fixture
def waiting_rollout_step(parked_steps, tmp_path_factory):
    """make(rollout_id): a patchit_rollout DagRun (conf {"rollout_id": ...}) whose approve_start
    task waits in awaiting_input with a HITL request assigned to PATCHIT's identity, as
    RolloutApprovalOperator leaves it. `make.detail(run_id)` reads the answer."""
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    folder = tmp_path_factory.mktemp("rollout_dag")
    (folder / "patchit_rollout.py").write_text(ROLLOUT_DAG)
    bag = DagBag(dag_folder=str(folder))
    assert "patchit_rollout" in bag.dags, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    task = bag.dags["patchit_rollout"].get_task("approve_start")

    def make(rollout_id: str, parked_ago: timedelta = timedelta(hours=1)) -> str:
        # Parked long ago by default: answered without approvals.PARK_SETTLE_SECONDS' wait.
        return parked_steps.park(task, parked_ago=parked_ago, body="ids", conf={"rollout_id": rollout_id})

    def detail(run_id: str):
        chosen, params, by, _ = parked_steps.answer(run_id)
        return chosen, params, by

    make.detail = detail
    return make


def test_approve_answers_the_rollout_dags_waiting_step(client, headers_for, rollouts, waiting_rollout_step):
    run = make_run(rollouts, approval_points=["before_first_wave"])
    other = make_run(rollouts, approval_points=["before_first_wave"])
    other_step = waiting_rollout_step(other.rollout_id)  # another rollout's step stays untouched
    step = waiting_rollout_step(run.rollout_id)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    assert post(client, admin, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token}).status_code == 303
    chosen, params, by = waiting_rollout_step.detail(step)
    assert chosen == ["Approve"] and by["name"] == "admin"
    assert waiting_rollout_step.detail(other_step)[0] is None
    assert rollouts.get(run.rollout_id).approved_by == {"before_first_wave": "admin"}


def test_reject_answers_the_waiting_step_and_keeps_the_reason_out_of_airflow(
    client, headers_for, rollouts, waiting_rollout_step
):
    """The reason is in PATCHIT's run record (readers of the rollout's DAGs), never in the HITL row,
    which Airflow's API shows to every reader of patchit_rollout."""
    run = make_run(rollouts, approval_points=["before_first_wave"])
    step = waiting_rollout_step(run.rollout_id)
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    response = post(client, admin, f"/rollouts/{run.rollout_id}/reject", {"csrf_token": token, "reason": "too early"})
    assert response.status_code == 303
    chosen, params, by = waiting_rollout_step.detail(step)
    assert chosen == ["Reject"] and params == {"reason": ""} and by["name"] == "admin"
    stored = rollouts.get(run.rollout_id)
    assert stored.state is RolloutState.ABORTED and stored.reason.endswith(": too early")


def test_an_answer_right_after_the_step_parked_waits_until_it_settled(
    client, headers_for, rollouts, waiting_rollout_step, monkeypatch
):
    """Airflow's resume race (www/approvals.py) applies to the rollout's approval steps too."""
    import time

    monkeypatch.setattr(approvals, "PARK_SETTLE_SECONDS", 2.0)
    waited: list[float] = []
    settle = approvals.wait_until_settled
    monkeypatch.setattr(approvals, "wait_until_settled", lambda *a, **k: waited.append(settle(*a, **k)))
    run = make_run(rollouts, approval_points=["before_first_wave"])
    parked = time.monotonic()  # the clock starts before the park: the time the set-up takes counts
    step = waiting_rollout_step(run.rollout_id, parked_ago=timedelta(0))
    admin = headers_for("admin")
    token = token_of(client, admin, run.rollout_id)
    assert post(client, admin, f"/rollouts/{run.rollout_id}/approve", {"csrf_token": token}).status_code == 303
    assert len(waited) == 1 and waited[0] > 0  # a real wait,
    assert time.monotonic() - parked >= 1.9  # until the step had been parked for the settle time
    assert waiting_rollout_step.detail(step)[0] == ["Approve"]


# -- progress and KPIs --------------------------------------------------------------------------


def _finish(rollouts, run, results, state, *, minutes=None, failures=None):
    """Give `run` wave records with `results` (one per member, in wave order; None = in flight)."""
    waves, it = [], iter(results)
    for wave in run.plan.waves:
        recs = []
        for member in wave.members:
            result = next(it, "skip")
            if result == "skip":
                continue
            recs.append(
                MemberRecord(
                    member=member,
                    result=result,
                    cleared_at=T0,
                    finished_at=None if result is None else T0 + timedelta(minutes=1),
                )
            )
        if recs:
            done = all(r.result is not None for r in recs) and len(recs) == len(wave.members)
            waves.append(
                WaveRecord(
                    index=wave.index,
                    members=wave.members,
                    results=recs,
                    started_at=T0,
                    finished_at=T0 + timedelta(minutes=2) if done else None,
                )
            )
    fails = failures if failures is not None else sum(1 for r in results if r not in (None, MemberResult.SUCCEEDED))
    update = {"state": state, "waves": waves, "failures": fails, "started_at": T0}
    if minutes is not None:
        update["finished_at"] = T0 + timedelta(minutes=minutes)
    return rollouts.modify(run.rollout_id, lambda r: r.model_copy(update=update))


def expected_kpis(runs) -> dict:
    """Recomputed from the records with the definitions of the Rollouts page."""
    finished = [rec for run in runs for wave in run.waves for rec in wave.results if rec.result is not None]
    ok = [rec for rec in finished if rec.result is MemberResult.SUCCEEDED]
    recover = sorted(
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.state is RolloutState.SUCCEEDED and run.started_at and run.finished_at
    )

    def rank(q):
        return recover[max(0, math.ceil(q * len(recover)) - 1)] if recover else None

    return {
        "rollouts": len(runs),
        "succeeded": sum(r.state is RolloutState.SUCCEEDED for r in runs),
        "aborted": sum(r.state in (RolloutState.ABORTED, RolloutState.ESCALATED) for r in runs),
        "running": sum(
            r.state in (RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.AWAITING_APPROVAL) for r in runs
        ),
        "members_finished": len(finished),
        "members_succeeded": len(ok),
        "member_success_rate": len(ok) / len(finished) if finished else None,
        "time_to_recover_p50_seconds": rank(0.5),
        "time_to_recover_p90_seconds": rank(0.9),
    }


@pytest.fixture
def history(rollouts):
    S, F, I, N = (
        MemberResult.SUCCEEDED,
        MemberResult.FAILED_SAME_FINGERPRINT,
        MemberResult.INCONCLUSIVE,
        MemberResult.FAILED_NEW_FINGERPRINT,
    )
    made = [
        _finish(rollouts, make_run(rollouts, ("sales_daily",)), [S, S, S], RolloutState.SUCCEEDED, minutes=12),
        _finish(
            rollouts, make_run(rollouts, ("sales_daily",), per_dag=4), [S, I, S, S], RolloutState.SUCCEEDED, minutes=40
        ),
        _finish(rollouts, make_run(rollouts, ("sales_daily",)), [F], RolloutState.ESCALATED, minutes=3),
        _finish(rollouts, make_run(rollouts, ("hr_payroll",)), [S, N, None], RolloutState.RUNNING),
        _finish(
            rollouts,
            make_run(rollouts, ("hr_payroll", "sales_daily")),
            [S, S, S, S, S, S],
            RolloutState.SUCCEEDED,
            minutes=25,
        ),
        _finish(rollouts, make_run(rollouts, ("hr_payroll",)), [], RolloutState.ABORTED, minutes=0),
        make_run(rollouts, ("sales_daily",), approval_points=["before_first_wave"]),
    ]
    return made


@pytest.mark.parametrize("user, dags", [("admin", {"sales_daily", "hr_payroll"}), ("alice", {"sales_daily"})])
def test_kpis_equal_figures_recomputed_from_the_records(client, headers_for, rollouts, history, user, dags):
    from patchit_provider.www.rollouts import touched_dags

    runs = [r for r in rollouts.list() if touched_dags(r) <= dags]
    want = expected_kpis(runs)
    assert want["members_finished"] > 0 and want["time_to_recover_p50_seconds"] is not None  # the data is not empty
    got = client.get("/api/rollouts", headers=headers_for(user)).json()
    for key, value in want.items():
        assert got["kpis"][key] == (pytest.approx(value) if isinstance(value, float) else value), key
    assert len(got["rollouts"]) == len(runs)
    # the pages show the same figures
    for url in ("/rollouts", "/overview"):
        page = client.get(url, headers=headers_for(user)).text
        assert f'data-kpi="rollouts">{want["rollouts"]}<' in page, url
        assert f'data-kpi="aborted">{want["aborted"]}<' in page, url
        assert f'data-kpi="member_success_rate">{100 * want["member_success_rate"]:.1f} %<' in page, url


def test_progress_json_counts_the_records(client, headers_for, rollouts):
    run = make_run(rollouts, ("hr_payroll",), per_dag=4)
    _finish(rollouts, run, [MemberResult.SUCCEEDED, MemberResult.INCONCLUSIVE, None], RolloutState.RUNNING)
    data = client.get(f"/api/rollouts/{run.rollout_id}", headers=headers_for("admin")).json()
    p = data["progress"]
    assert (p["total"], p["finished"], p["succeeded"], p["failed"], p["in_flight"]) == (4, 2, 1, 1, 1)
    assert p["percent"] == 50.0 and p["state"] == "running" and p["final"] is False
    assert data["rollout"]["rollout_id"] == run.rollout_id and data["pending_approval"] is None
    page = client.get(f"/rollouts/{run.rollout_id}", headers=headers_for("admin")).text
    assert 'data-field="finished">2<' in page and 'data-final="false"' in page


def test_nav_links_to_rollouts(client, headers_for):
    page = client.get("/overview", headers=headers_for("admin")).text
    assert '<a href="/patchit/rollouts">Rollouts</a>' in page


def test_a_running_rollout_can_be_stopped_with_a_reason_but_not_edited(client, headers_for, rollouts):
    run = make_run(rollouts, ("hr_payroll",), per_dag=4)
    _finish(rollouts, run, [MemberResult.SUCCEEDED, None], RolloutState.RUNNING)
    admin = headers_for("admin")
    page = client.get(f"/rollouts/{run.rollout_id}", headers=admin).text
    assert "Stop the rollout" in page and 'id="edit"' not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert post(client, admin, f"/rollouts/{run.rollout_id}/reject", {"csrf_token": token}).status_code == 400
    assert (
        post(
            client, admin, f"/rollouts/{run.rollout_id}/reject", {"csrf_token": token, "reason": "warehouse overloaded"}
        ).status_code
        == 303
    )
    saved = rollouts.get(run.rollout_id)
    assert saved.state is RolloutState.ABORTED and saved.reason.endswith("warehouse overloaded")
    assert [r.result for w in saved.waves for r in w.results] == [MemberResult.SUCCEEDED, None]  # records kept
