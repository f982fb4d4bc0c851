"""The demo's code-typo failure (orders_etl.transform_orders, three upstream XComs) is replayed by
validation with the run's values, as the evidence stage fetches them: the NameError before the
patch, success after. The values are what the upstream tasks return for the code_typo batch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from patchit_testing import amout_event, amout_triage

REPO = Path(__file__).resolve().parents[2] / "airflow" / "pipeline_repo"
pytestmark = pytest.mark.integration


def _upstream_values() -> dict[str, object]:
    """extract_orders / extract_customers / fetch_fx_rates of the code_typo run, as JSON."""
    script = (
        "import json, sys; sys.path.insert(0, '.'); from etl import extract, fx; "
        "print(json.dumps({'extract_orders': extract.read_orders(extract.orders_path('2024-06-03')), "
        "'extract_customers': extract.read_customers(extract.DATA_DIR / 'reference' / 'customers.csv'), "
        "'fetch_fx_rates': fx.snapshot_rates()}))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_demo_code_typo_is_replayed_with_the_runs_xcoms(tmp_path):
    from patchit_provider.engine.models import PatchProposal, ReplayInputs, ReplayXCom
    from patchit_provider.engine.patching import make_diff
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.validation import validate

    repo = shutil.copytree(REPO, tmp_path / "repo")
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "demo"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    values = _upstream_values()
    inputs = ReplayInputs(
        dag_id="orders_etl",
        run_id="manual__code_typo",
        task_id="transform_orders",
        xcoms=[ReplayXCom(task_id=task, value=value) for task, value in sorted(values.items())],
        rendered_fields={"op_args": [], "op_kwargs": {}, "templates_dict": None},
    )
    event = amout_event("orders_etl", "manual__code_typo", "transform_orders", repo / "dags" / "orders_etl.py")
    triage = amout_triage("0123456789abcdef", "NameError in etl/transform.py", "etl/transform.py", 21)
    text = (repo / "etl" / "transform.py").read_text()
    patch = PatchProposal(
        producer="fixer:did_you_mean",
        diff=make_diff(repo, {"etl/transform.py": text.replace("amout", "amount")}),
        files=["etl/transform.py"],
    )
    result = validate(patch, event, triage, repo, PatchitSettings(validation_timeout=240), inputs)
    replay = next(c for c in result.checks if c.name == "replay")
    assert result.passed and result.replay == "reproduced_and_fixed" and replay.status == "passed", result.checks
    assert replay.output.startswith(
        "unpatched: NameError reproduced with the failed run's XCom extract_orders, XCom extract_customers, "
        "XCom fetch_fx_rates; patched: transform_orders"
    )
