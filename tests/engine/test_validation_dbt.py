"""dbt checks in validation: `dbt parse` and `dbt build --select` on real dbt-duckdb projects from
the corpus (committed into a temporary git repository, the project in a subdirectory), and the
verdict when dbt is not installed where PATCHIT validates."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from patchit_provider.engine.models import ErrorInfo, FailureEvent, PatchProposal, Triage
from patchit_provider.engine.models import Culprit, ErrorSummary
from patchit_provider.engine.patching import make_diff
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.engine.validation import dbt_checks, validate
from patchit_provider.engine.validation.dbt_checks import DBT_MISSING, DbtProject, dbt_projects

CASES = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus" / "cases"
SETTINGS = PatchitSettings(validation_timeout=300)
HAS_DBT = importlib.util.find_spec("dbt") is not None and importlib.util.find_spec("dbt.adapters.duckdb") is not None
needs_dbt = pytest.mark.skipif(not HAS_DBT, reason="dbt-duckdb is not installed (the test extra installs it)")
MODEL = "analytics/models/marts/fct_orders.sql"


def _repo(tmp_path: Path, case: str) -> Path:
    """The case's dbt project under analytics/ of a fresh git repository."""
    root = tmp_path / "repo"
    shutil.copytree(CASES / case / "repo", root / "analytics")
    git = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "case"]):
        subprocess.run([*git, *args], cwd=root, check=True)
    return root


def _inputs(root: Path, old: str, new: str, category=Category.SCHEMA_MISSING_RELATION):
    text = (root / MODEL).read_text()
    assert old in text
    proposal = PatchProposal(
        producer="llm:test/m", diff=make_diff(root, {MODEL: text.replace(old, new)}), files=[MODEL]
    )
    event = FailureEvent(
        pipeline_id="shop", run_id="manual__1", task_id=None, error=ErrorInfo(type="DbtError", message="x")
    )
    triage = Triage(
        category=category,
        remediation=Remediation.PATCH,
        fingerprint="0123456789abcdef",
        summary="dbt failure",
        error=ErrorSummary(type="DbtError", message="x"),
        culprit=Culprit(path=MODEL),
        confidence=0.9,
    )
    return proposal, event, triage


def _by_name(result):
    return {check.name: check for check in result.checks}


def _untouched(root: Path) -> None:
    """dbt wrote nothing into the user's repository: no warehouse, target or logs."""
    assert not (root / "analytics" / "shop.duckdb").exists()
    assert not (root / "analytics" / "target").exists() and not (root / "analytics" / "logs").exists()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""


def test_projects_and_selection(tmp_path):
    (tmp_path / "dbt" / "models").mkdir(parents=True)
    (tmp_path / "dbt" / "dbt_project.yml").write_text("name: p\n")
    projects = dbt_projects(tmp_path, ["dbt/models/a.sql", "dags/x.py", "dbt/models/schema.yml"])
    assert [(p.path, p.files) for p in projects] == [("dbt", ["models/a.sql", "models/schema.yml"])]
    assert projects[0].selectors() == ["+path:models/a.sql", "+path:models/schema.yml"]
    # A macro or project file can change any node: the whole project is built.
    assert DbtProject(path=".", files=["models/a.sql", "macros/m.sql"]).selectors() == []
    assert DbtProject(path=".", files=["dbt_project.yml"]).selectors() == []


def test_dbt_change_without_dbt_fails_validation(tmp_path, monkeypatch):
    """A dbt change that dbt never saw is not validated, whatever the other checks say."""
    monkeypatch.setattr(dbt_checks, "find_dbt", lambda: [str(tmp_path / "missing" / "dbt")])
    root = _repo(tmp_path, "dbt_missing_ref_typo")
    proposal, event, triage = _inputs(root, "ref('stg_order')", "ref('stg_orders')")
    result = validate(proposal, event, triage, root, SETTINGS)
    checks = _by_name(result)
    assert not result.passed
    assert not checks["dbt_parse"].passed and not checks["dbt_build"].passed
    assert DBT_MISSING in checks["dbt_parse"].output and "analytics" in checks["dbt_parse"].output
    assert result.replay == "checks_only"
    _untouched(root)


@needs_dbt
def test_ref_typo_fix_is_reproduced_and_fixed_by_dbt_build(tmp_path):
    root = _repo(tmp_path, "dbt_missing_ref_typo")
    proposal, event, triage = _inputs(root, "ref('stg_order')", "ref('stg_orders')")
    result = validate(proposal, event, triage, root, SETTINGS)
    checks = _by_name(result)
    assert result.passed, result.checks
    assert [c.name for c in result.checks] == ["policy", "apply", "compile", "dbt_parse", "dbt_build"]
    assert result.replay == "reproduced_and_fixed"
    build = checks["dbt_build"].output
    assert "--select +path:models/marts/fct_orders.sql" in build and "unpatched: failed" in build
    assert "PASS=" in build and "ERROR=0" in build
    _untouched(root)


@needs_dbt
def test_column_patch_that_parses_but_does_not_build_is_rejected(tmp_path):
    root = _repo(tmp_path, "dbt_fct_orders_missing_column")
    proposal, event, triage = _inputs(
        root, "customers.segment,", "customers.segment_name,", Category.SCHEMA_MISSING_COLUMN
    )
    result = validate(proposal, event, triage, root, SETTINGS)
    checks = _by_name(result)
    assert not result.passed
    assert checks["dbt_parse"].passed, checks["dbt_parse"].output
    assert not checks["dbt_build"].passed and "segment_name" in checks["dbt_build"].output
    assert result.replay == "checks_only"
    _untouched(root)


@needs_dbt
def test_missing_column_fix_passes_dbt_build(tmp_path):
    root = _repo(tmp_path, "dbt_fct_orders_missing_column")
    proposal, event, triage = _inputs(root, "    customers.segment,\n", "", Category.SCHEMA_MISSING_COLUMN)
    result = validate(proposal, event, triage, root, SETTINGS)
    assert result.passed, result.checks
    assert result.replay == "reproduced_and_fixed"
    assert result.sandboxed  # dbt parse and both builds ran inside the validation sandbox
    _untouched(root)


def test_find_dbt_prefers_the_script_next_to_the_interpreter(tmp_path, monkeypatch):
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    monkeypatch.setattr(dbt_checks.sys, "executable", str(python))
    # No script there: the module in this environment, if any (never an import of it).
    has_core = importlib.util.find_spec("dbt") is not None
    assert dbt_checks.find_dbt() == ([str(python), "-m", "dbt.cli.main"] if has_core else None)
    (python.parent / "dbt").write_text("#!/bin/sh\n")
    assert dbt_checks.find_dbt() == [str(python.parent / "dbt")]
