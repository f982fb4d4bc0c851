"""Issues 4 and 9: the corpus checks, through `patchit remediate --json --check`.

Every case labelled `remediation: patch` is remediated against a committed copy of its
repository, with `--check` re-running the case's own entry point where it has one: a validated
patch must make that re-run pass, and the deterministic-fixable cases must end validated. No case
of category data.*, infra.* or config.missing may get a patch: neither in the project corpus nor
in the external corpus's dev part (benchmarks/external/dev: outputs posted in public trackers,
remediated against an empty repository, since their repositories are not in the corpus; none
of them has a runnable entry point, so none can be validated by a re-run).
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from patchit_provider.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"
EXTERNAL_DEV = Path(__file__).resolve().parents[2] / "benchmarks" / "external" / "dev"
CASES = sorted(p for p in (CORPUS / "cases").iterdir() if (p / "label.json").is_file())
HAS_DBT = importlib.util.find_spec("dbt") is not None and importlib.util.find_spec("dbt.adapters.duckdb") is not None
HAS_SPARK = importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None
BIN = Path(sys.executable).parent

# Cases a deterministic fixer repairs from the engine's own evidence: they must end validated.
FIXABLE = {
    "py_duckdb_binder_column": "replace_identifier",
    "spark_unresolved_column": "replace_identifier",
    "dbt_missing_ref_typo": "dbt_ref",
    "py_kpi_attribute_error": "did_you_mean",
    "py_rules_syntax_error": "syntax_hint",
    "py_repo_import_name": "import_name",
    "dbt_jinja_syntax_error": "jinja_syntax_hint",
    "py_pricing_name_error": "unused_local",
    "py_export_type_error": "surplus_literal_arguments",
    "spark_udf_error": "udf_null_guard",
    "py_sql_template_undefined": "unused_template_argument",
    "dbt_sql_syntax_error": "sql_missing_by",
}


def _label(case: Path) -> dict:
    return json.loads((case / "label.json").read_text())


def _scenario(case: Path) -> dict:
    label = _label(case)
    for group in ("main", "heldout"):
        path = CORPUS / "scenarios" / group / label["scenario"] / "scenario.json"
        if path.is_file():
            return json.loads(path.read_text())
    return {}


def check_command(case: Path) -> str | None:
    """The case's own entry point, run in the patched tree; None when it has none (Airflow
    scenarios run under a real scheduler). A dbt model is built with its upstream (`+`), since
    a fresh copy has no database yet."""
    scenario = _scenario(case)
    command = scenario.get("command")
    if not command:
        return None
    if command[0] == "python":
        return shlex.join([sys.executable, *command[1:]])
    if command[0] == "dbt":
        dbt = str(BIN / "dbt")
        select = command[command.index("--select") + 1].lstrip("+")
        flags = "--no-use-colors"
        return f"export DBT_PROFILES_DIR=. && {dbt} {flags} seed && {dbt} {flags} run --select +{select}"
    return None


def committed_copy(case: Path, tmp_path: Path) -> Path:
    """The case's repository as a fresh git repository: remediate validates in a worktree."""
    repo = tmp_path / "repo"
    shutil.copytree(case / "repo", repo)
    git = ["git", "-c", "user.email=corpus@patchit.invalid", "-c", "user.name=corpus", "-c", "core.hooksPath=/dev/null"]
    subprocess.run([*git, "init", "--quiet"], cwd=repo, check=True)
    subprocess.run([*git, "add", "--all"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "case"], cwd=repo, check=True)
    return repo


def remediate(case: Path, repo: Path, capsys, check: str | None = None) -> dict:
    argv = ["remediate", str(case / "log"), "--repo", str(repo), "--json"]
    if check:
        argv += ["--check", check]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _needs(case: Path):
    engine = _label(case)["engine"]
    if engine == "dbt" and not HAS_DBT:
        return pytest.mark.skip(reason="dbt-duckdb is not installed (the test extra installs it)")
    if engine == "spark" and not HAS_SPARK:
        return pytest.mark.skip(reason="pyspark or Java is not installed (the test extra installs it)")
    return []


PATCH_CASES = [pytest.param(c, id=c.name, marks=_needs(c)) for c in CASES if _label(c)["remediation"] == "patch"]
NO_PATCH_CASES = [
    pytest.param(c, id=c.name)
    for c in CASES
    if _label(c)["category"].split(".")[0] in ("data", "infra") or _label(c)["category"] == "config.missing"
]


@pytest.mark.parametrize("case", PATCH_CASES)
def test_patch_case_is_validated_by_a_rerun(case, tmp_path, capsys):
    check = check_command(case)
    result = remediate(case, committed_copy(case, tmp_path), capsys, check)
    checks = {c["name"]: c for c in (result["validation"] or {}).get("checks", [])}
    if result["outcome"] == "patch_validated":
        assert result["patch"]["diff"]
        if check:  # a validated patch is one whose re-run passes, never just one that applies
            assert checks["check"]["passed"], checks["check"]["output"]
    if case.name in FIXABLE:
        assert result["outcome"] == "patch_validated", json.dumps(checks, indent=1)[:3000]
        assert check is not None and checks["check"]["passed"]


@pytest.mark.parametrize("case", NO_PATCH_CASES)
def test_data_infra_and_config_missing_cases_get_no_patch(case, tmp_path, capsys):
    result = remediate(case, committed_copy(case, tmp_path), capsys)
    assert result["outcome"] == "no_patch"
    assert result["patch"] is None


@pytest.mark.parametrize("name", ["py_missing_dependency", "af3_snowflake_not_installed"])
def test_missing_package_without_requirements_file_gets_no_patch(name, tmp_path, capsys):
    case = CORPUS / "cases" / name
    result = remediate(case, committed_copy(case, tmp_path), capsys)
    assert result["triage"]["category"] == "dependency.missing"
    assert result["outcome"] == "no_patch" and result["patch"] is None


def _never_patched(label: dict) -> bool:
    return label["category"].split(".")[0] in ("data", "infra") or label["category"] == "config.missing"


EXTERNAL_NO_PATCH = [
    pytest.param(c, id=c.name)
    for c in sorted(EXTERNAL_DEV.iterdir())
    if EXTERNAL_DEV.is_dir()
    if (c / "label.json").is_file() and _never_patched(json.loads((c / "label.json").read_text()))
]


@pytest.fixture(scope="module")
def empty_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("external") / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("a pipeline repository the external failures are not from\n")
    git = ["git", "-c", "user.email=corpus@patchit.invalid", "-c", "user.name=corpus", "-c", "core.hooksPath=/dev/null"]
    for cmd in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "empty"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True)
    return repo


@pytest.mark.parametrize("case", EXTERNAL_NO_PATCH)
def test_external_data_infra_and_config_missing_cases_get_no_patch(case, empty_repo, capsys):
    result = remediate(case, empty_repo, capsys)
    assert result["outcome"] == "no_patch", result["triage"]
    assert result["patch"] is None
