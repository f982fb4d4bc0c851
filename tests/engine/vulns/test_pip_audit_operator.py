"""PipAuditOperator: a clear skip without pip-audit (never installed at run time); with it, the
report's findings recorded in PATCHIT's store, pip-audit pointed at the configured OSV mirror.
pip-audit is played by a script that speaks its command line and JSON output."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from e2e_fixtures import PIP_AUDIT_REPORT, osv_folder, pipeline_repo

FAKE = """#!{python}
import json, pathlib, sys
pathlib.Path({args!r}).write_text(json.dumps(sys.argv[1:]))
print({report!r})
sys.exit(1)  # pip-audit exits 1 when it finds vulnerabilities
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    repo = pipeline_repo(tmp_path / "pipelines")
    monkeypatch.setenv("AIRFLOW__PATCHIT__OSV_DIR", str(osv_folder(tmp_path / "osv")))
    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_PATH", str(tmp_path / "patchit.db"))
    monkeypatch.setenv("AIRFLOW__PATCHIT__STORE_CONN_ID", "")
    return repo, tmp_path


def test_skips_clearly_when_pip_audit_is_missing(env, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    from patchit_provider.operators.vulns import PipAuditOperator

    repo, tmp = env
    monkeypatch.setenv("PATH", str(tmp / "empty-bin"))
    with pytest.raises(AirflowSkipException, match="pip-audit is not installed.*never installs it"):
        PipAuditOperator(task_id="audit", repo=str(repo)).execute({})


def test_records_the_findings_of_the_report(env, monkeypatch):
    from patchit_provider.engine.store.vulns import VulnStore
    from patchit_provider.operators.vulns import PipAuditOperator

    repo, tmp = env
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pip-audit"
    fake.write_text(
        FAKE.format(python=sys.executable, args=str(tmp / "args.json"), report=json.dumps(PIP_AUDIT_REPORT))
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = PipAuditOperator(
        task_id="audit", repo=str(repo), osv_url="https://osv.internal.example/", remediate=False
    ).execute({})
    args = json.loads((tmp / "args.json").read_text())
    assert args[:2] == ["-r", str(repo / "requirements.txt")] and "--disable-pip" in args and "--no-deps" in args
    assert args[args.index("--osv-url") + 1] == "https://osv.internal.example/" and args[args.index("-f") + 1] == "json"
    states = sorted(f["state"] for f in out["findings"])
    assert states == ["accepted_or_mitigated", "open"] and out["skipped"] > 0
    with VulnStore(f"sqlite:///{tmp / 'patchit.db'}") as store:
        stored = {r.finding.package: r for r in store.list()}
    assert set(stored) == {"tinyvuln", "nofix"} and stored["tinyvuln"].source == "pip-audit:audit"
    assert stored["nofix"].expires == stored["nofix"].finding.deadline
    # no fix: an escalated accept-or-mitigate incident in the same store, named by the finding
    from patchit_provider.engine.store import open_store

    assert stored["tinyvuln"].incident_id is None and stored["nofix"].incident_id
    with open_store(f"sqlite:///{tmp / 'patchit.db'}") as incidents:
        incident = incidents.get_incident(stored["nofix"].incident_id)
    assert incident.state.value == "escalated" and stored["nofix"].expires in incident.triage.next_step


def _fake_pip_audit(tmp, monkeypatch):
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pip-audit"
    fake.write_text(
        FAKE.format(python=sys.executable, args=str(tmp / "args.json"), report=json.dumps(PIP_AUDIT_REPORT))
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_planned_upgrade_gets_its_rollout_and_patchit_rollout_is_triggered_once(env, monkeypatch):
    """After remediation (played here: validated, published, planned), the operator stores the
    upgrade's run and triggers `patchit_rollout` with its id; the next audit starts nothing new."""
    from patchit_provider.engine.store.rollouts import open_rollouts
    from patchit_provider.engine.store.vulns import VulnStore
    from patchit_provider.engine.vulns.rollout import UPGRADE_APPROVAL, plan_fix_rollout
    from patchit_provider.hooks.api import PatchitApiHook
    from patchit_provider.operators.vulns import PipAuditOperator

    repo, tmp = env
    _fake_pip_audit(tmp, monkeypatch)
    triggered: list[tuple[str, str, dict]] = []
    monkeypatch.setattr(
        PatchitApiHook,
        "trigger_dag_run",
        lambda self, dag_id, run_id, conf, note=None: triggered.append((dag_id, run_id, conf)),
    )

    def remediated(record, requirements, repo_root, settings, **kw):  # what a validated, published patch gives
        return record.model_copy(
            update={
                "state": "rollout_planned",
                "branch": f"patchit/{record.finding_id}",
                "commit": "0123456789abcdef0123",
                "rollout_plan": plan_fix_rollout(record.finding, approval_points=UPGRADE_APPROVAL),
            }
        )

    monkeypatch.setattr("patchit_provider.engine.vulns.remediate.remediate", remediated)
    # the operator imports remediate at run time, from the engine module
    PipAuditOperator(task_id="audit", repo=str(repo)).execute({})
    PipAuditOperator(task_id="audit", repo=str(repo)).execute({})  # tomorrow's audit
    with VulnStore(f"sqlite:///{tmp / 'patchit.db'}") as store:
        tiny = next(r for r in store.list() if r.finding.package == "tinyvuln")
    assert tiny.rollout_id and triggered == [
        ("patchit_rollout", f"upgrade__{tiny.rollout_id}", {"rollout_id": tiny.rollout_id})
    ]
    with open_rollouts(f"sqlite:///{tmp / 'patchit.db'}") as runs:
        run = runs.get(tiny.rollout_id)
    assert run.kind == "upgrade" and run.state.value == "awaiting_approval" and run.upgrade.branch == tiny.branch


def test_dag_factory_builds_one_audit_per_repository(tmp_path):
    from patchit_provider.dags.vulns import build_vulns_dag

    dag = build_vulns_dag(
        {"pipelines": str(tmp_path / "a"), "reports": str(tmp_path / "b")}, osv_url="https://osv.internal/"
    )
    assert (
        sorted(dag.task_dict) == ["pipelines", "reports"]
        and dag.task_dict["reports"].osv_url == "https://osv.internal/"
    )
