"""A finding with no fixed version becomes an escalated accept-or-mitigate incident with its
expiry date, told once through the existing notifier (engine/notify), never a rollout; an
upgrade rollout that halts escalates its finding the same way."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from patchit_provider.engine.models import IncidentState, Platform, VulnDag, VulnFinding, VulnRecord
from patchit_provider.engine.notify import Notifier, Sink
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store
from patchit_provider.engine.store.vulns import VulnStore
from patchit_provider.engine.vulns.audit import record_audit
from patchit_provider.engine.vulns.incident import escalate_no_fix, escalate_upgrade

sys.path.insert(0, str(Path(__file__).parent))
from e2e_fixtures import PIP_AUDIT_REPORT, osv_folder, pipeline_repo

TODAY = date(2026, 12, 1)
HOOK = "https://hooks.example.com/services/T000/B000/SECRET"


class Recorder:
    def __init__(self) -> None:
        self.posts: list[dict] = []

    def __call__(self, url: str, body: dict) -> None:
        self.posts.append(body)


@pytest.fixture()
def world(tmp_path):
    repo = pipeline_repo(tmp_path / "pipelines")
    settings = PatchitSettings(osv_dir=str(osv_folder(tmp_path / "osv")))
    url = f"sqlite:///{tmp_path / 'patchit.db'}"
    with open_store(url) as incidents, VulnStore(url) as vulns:
        post = Recorder()
        notifier = Notifier([Sink("chat", HOOK, "json")], post, incidents)
        yield repo, settings, incidents, vulns, notifier, post


def _audit(world):
    repo, settings, incidents, vulns, notifier, _ = world
    deps = json.loads(json.dumps(PIP_AUDIT_REPORT))["dependencies"]
    return record_audit(
        vulns,
        deps,
        repo,
        repo / "requirements.txt",
        settings,
        "pip-audit:test",
        today=TODAY,
        incidents=incidents,
        notifier=notifier,
    )


def test_a_finding_without_a_fix_opens_an_escalated_incident_with_its_expiry_and_notifies_once(world):
    _, _, incidents, vulns, _, post = world
    _, stored = _audit(world)
    records = {r.finding.package: r for r, _ in stored}
    nofix, tiny = records["nofix"], records["tinyvuln"]
    assert nofix.state == "accepted_or_mitigated" and nofix.rollout_id is None and nofix.rollout_plan is None
    assert nofix.incident_id and tiny.incident_id is None  # an upgrade is no incident
    assert vulns.get(nofix.finding_id).incident_id == nofix.incident_id  # the page links it
    incident = incidents.get_incident(nofix.incident_id)
    assert incident.state is IncidentState.ESCALATED and incident.triage.remediation.value == "escalate"
    assert nofix.expires == "2026-12-16" and "before 2026-12-16" in incident.triage.next_step
    assert "accept the risk or mitigate" in incident.triage.next_step and "nofix 2.0" in incident.triage.summary
    assert incident.event.platform is Platform.GENERIC and incident.event.pipeline_id == "vulns:nofix"
    [message] = post.posts
    assert message["event"] == "incident.escalated" and message["incident_id"] == nofix.incident_id
    assert "2026-12-16" in message["next_step"]
    # the same report again (a daily audit): the same incident, no second notification
    _, again = _audit(world)
    assert {r.finding.package: r for r, _ in again}["nofix"].incident_id == nofix.incident_id
    assert len(post.posts) == 1
    assert [i.incident_id for i in incidents.list_incidents()] == [nofix.incident_id]


def _dag_finding(action: str = "accept_or_mitigate") -> VulnRecord:
    finding = VulnFinding(
        package="oldlib",
        version="0.9",
        advisories=["GHSA-old-0001"],
        fixed_version=None if action != "upgrade" else "1.0",
        action=action,
        deadline="2027-01-15",
        dag_details=[
            VulnDag(path="dags/a.py", dag_ids=["reports"], criticality=1),
            VulnDag(path="dags/b.py", dag_ids=["finance_close"], criticality=5),
        ],
    )
    return VulnRecord(finding_id="vf-00000000000000aa", finding=finding, expires="2027-01-15", branch="patchit/x")


def test_the_incident_belongs_to_the_most_critical_affected_dag(world):
    _, _, incidents, _, notifier, post = world
    out = escalate_no_fix(_dag_finding(), incidents, notifier)
    incident = incidents.get_incident(out.incident_id)
    assert incident.event.platform is Platform.AIRFLOW and incident.event.pipeline_id == "finance_close"
    assert post.posts[0]["dag_id"] == "finance_close"
    upgrade = _dag_finding("upgrade")
    assert escalate_no_fix(upgrade, incidents, notifier) is upgrade  # a fixable finding: no incident


def test_a_halted_upgrade_rollout_escalates_its_finding_once_per_rollout(world):
    _, _, incidents, _, notifier, post = world
    record = _dag_finding("upgrade")
    out = escalate_upgrade(record, "ro-00000000bb01", "error budget exceeded: reports failed", incidents, notifier)
    assert out.escalation == "upgrade rollout ro-00000000bb01 halted: error budget exceeded: reports failed"
    incident = incidents.get_incident(out.incident_id)
    assert incident.state is IncidentState.ESCALATED and "ro-00000000bb01" in incident.triage.next_step
    again = escalate_upgrade(record, "ro-00000000bb01", "again", incidents, notifier)
    assert again.incident_id == out.incident_id and len(post.posts) == 1
