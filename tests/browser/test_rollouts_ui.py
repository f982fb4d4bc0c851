"""The Rollouts page in real headless Chromium against the suite's `airflow standalone`.

A person opens a recovery rollout's plan, resizes the canary wave (the plan is re-validated: a
new version, edited by them), approves it, and watches the progress view update in place.

The run records are DRIVEN from this test: the rollout is written to the standalone's PATCHIT
store (its members are runs of the fixture's `orders_etl`) and its wave records are advanced
here, because the demo deploys no `patchit_rollout` DAG and really re-running failed runs would
add minutes of scheduling on a 2-core machine. The approval has no waiting HITL step to answer,
so the page records it in the run record (where the DAG's branch operator finds it).
Screenshots: test-artifacts/browser/rollout-*.png.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.browser

DAG_ID = "orders_etl"


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"rollout-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def records(airflow_standalone):
    from patchit_provider.engine.store.rollouts import open_rollouts

    db = airflow_standalone["state"] / "airflow_home" / "patchit" / "patchit.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    with open_rollouts(f"sqlite:///{db}") as opened:
        yield opened


@pytest.fixture(scope="module")
def rollout(records):
    """A recovery rollout of four failed orders_etl runs, an approval before the first wave."""
    from patchit_provider.engine.models import RecoveryMember, RolloutRun, RolloutState
    from patchit_provider.engine.rollout.members import recovery_spec
    from patchit_provider.engine.rollout.planner import plan_rollout

    targets = [
        RecoveryMember(dag_id=DAG_ID, run_id=f"scheduled__2026-12-0{i}T00:00:00+00:00", task_id="transform_orders")
        for i in range(1, 5)
    ]
    spec = recovery_spec(
        targets,
        {},
        subject="inc-browser00001",
        waves=[1, "50%"],
        max_errors=1,
        max_concurrency=1,
        bake_seconds=0,
        approval_points=["before_first_wave"],
    )
    rid = f"ro-{uuid.uuid4().hex[:12]}"
    plan = plan_rollout(spec).model_copy(update={"plan_id": rid})
    assert plan.valid, plan.problems
    run = RolloutRun(
        rollout_id=rid,
        subject="inc-browser00001",
        fingerprint="fp-browser",
        plan=plan,
        plan_id=rid,
        targets={t.member_id: t for t in targets},
        state=RolloutState.AWAITING_APPROVAL,
    )
    return records.create(run)


def test_edit_approve_and_watch_a_rollout(base, page, artifacts, records, rollout):
    from patchit_provider.engine.models import MemberRecord, MemberResult, RolloutState, WaveRecord

    rid = rollout.rollout_id
    page.goto(f"{base}/patchit/rollouts")
    row = page.locator("#rollouts tr", has_text=rid)
    row.wait_for()
    assert "awaiting_approval" in row.inner_text()
    shot(page, artifacts, "1-list")

    # open the plan, resize the canary from 1 to 2 members: re-validated, version 2 by admin
    row.get_by_role("link", name=rid).click()
    page.locator("#plan").wait_for()
    assert "Plan version 1" in page.locator("#plan h2").inner_text()
    resize = page.locator('form[data-op="resize_wave"]')
    resize.locator('input[name="wave"]').fill("0")
    resize.locator('input[name="size"]').fill("2")
    resize.get_by_role("button", name="Resize").click()
    page.locator("#edited-by", has_text="admin").wait_for()
    assert "Plan version 2" in page.locator("#plan h2").inner_text()
    assert page.locator("#versions tr[data-version]").count() == 2
    saved = records.get(rid)
    assert saved.plan.version == 2 and saved.plan.edited_by == "admin" and len(saved.plan.waves[0].members) == 2
    shot(page, artifacts, "2-edited-v2")

    # an impossible edit is refused with its reason and changes nothing
    resize = page.locator('form[data-op="resize_wave"]')
    resize.locator('input[name="wave"]').fill("0")
    resize.locator('input[name="size"]').fill("9")
    resize.get_by_role("button", name="Resize").click()
    page.locator("#edit-error").wait_for()
    assert "cannot hold" in page.locator("#edit-error").inner_text()
    assert records.get(rid).plan.version == 2
    shot(page, artifacts, "3-edit-refused")

    # approve the edited plan
    page.goto(f"{base}/patchit/rollouts/{rid}")
    page.locator("#decision").get_by_role("button", name="Approve").click()
    page.locator("#approved-by", has_text="admin (before_first_wave)").wait_for()
    assert records.get(rid).approved_by == {"before_first_wave": "admin"}
    assert page.locator("#decision").get_by_role("button", name="Approve").count() == 0  # nothing more to approve
    shot(page, artifacts, "4-approved")

    # the DAG starts the canary (records driven here): the page notices the new state and reloads
    now = datetime.now(timezone.utc)
    canary = records.get(rid).plan.waves[0].members

    def advance(results: list, state: RolloutState, **extra):
        recs = [
            MemberRecord(
                member=m, result=r, cleared_at=now, finished_at=None if r is None else now + timedelta(seconds=5)
            )
            for m, r in zip(canary, results)
        ]
        wave = WaveRecord(
            index=0,
            members=canary,
            results=recs,
            started_at=now,
            finished_at=now + timedelta(seconds=9) if all(r is not None for r in results) else None,
        )
        records.modify(
            rid, lambda run: run.model_copy(update={"state": state, "waves": [wave], "started_at": now, **extra})
        )

    advance([MemberResult.SUCCEEDED, None], RolloutState.RUNNING)
    page.locator("#state", has_text="running").wait_for(timeout=30_000)
    page.locator('[data-field="finished"]', has_text="1").wait_for()
    page.evaluate("window.__samePage = true")  # from here on the view must update in place
    shot(page, artifacts, "5-running-1-of-4")

    advance([MemberResult.SUCCEEDED, MemberResult.SUCCEEDED], RolloutState.RUNNING)
    page.locator('[data-field="finished"]', has_text="2").wait_for(timeout=30_000)
    assert page.evaluate("window.__samePage") is True
    assert page.locator(f'[data-member="{canary[1]}"]').inner_text() == "succeeded"
    assert float(page.locator("#progress-bar").get_attribute("width")) == 50.0
    shot(page, artifacts, "6-running-2-of-4")
    assert page.js_errors == []  # no CSP violation or script error on the way
    assert re.search(r"/patchit/rollouts/ro-[0-9a-f]+$", page.url)
