"""The Airflow 2 -> 3 migration fixer: ruff's AIR3 fixes (ruff 0.17.6, run as a program) and the
table from Airflow's release notes, on DAG files that really fail under the installed Airflow 3.3.

Real messages: `TypeError: DAG.__init__() got an unexpected keyword argument 'schedule_interval'`
(external corpus af_cosmos_demo_schedule_interval_removed, https://github.com/astronomer/cosmos-demo/pull/14)
and `ModuleNotFoundError: No module named 'airflow.operators.dummy'` are produced here by
importing the DAG file with Airflow 3.3; `KeyError: 'execution_date'` is what a task reading
the removed context key gets (tests/airflow/test_migration_fixer.py runs that DAG for real).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap

import pytest

from patchit_provider.cli import main
from patchit_provider.engine.models import ErrorSummary
from patchit_provider.engine.patching.migrate import (
    REMOVED_CONTEXT_KEYS,
    airflow_migration,
    rename_context_key,
    ruff_command,
    ruff_migrate,
)
from patchit_provider.engine.taxonomy import Category, Remediation

GIT = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]

LEGACY_DAG = """\
    from datetime import datetime

    from airflow.operators.dummy import DummyOperator
    from airflow.sdk import DAG

    with DAG(dag_id="legacy", schedule_interval=None, start_date=datetime(2026, 1, 1)) as dag:
        DummyOperator(task_id="start")
    print("parsed", dag.dag_id)
    """


def test_ruff_is_the_pinned_program():
    done = subprocess.run([*ruff_command(), "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ruff 0.17.6"


def test_ruff_rewrites_only_what_the_failure_names():
    text = textwrap.dedent(LEGACY_DAG)
    migrated = ruff_migrate(text, "dags/legacy.py", {"airflow.operators.dummy", "dummy"})
    assert migrated is not None
    new, rules = migrated
    assert "from airflow.providers.standard.operators.empty import EmptyOperator" in new
    assert 'EmptyOperator(task_id="start")' in new
    assert "airflow.operators.dummy" not in new  # the import the rewrite left unused is removed
    assert "schedule=None" in new  # AIR301 is a removal too: fixed in the same pass
    assert any(rule.startswith("AIR302") for rule in rules)
    # a failure that names nothing ruff reports gets nothing from ruff
    assert ruff_migrate(text, "dags/legacy.py", {"customer_id"}) is None


def test_context_key_rename_touches_only_the_key():
    text = (
        "def report(**context):\n"
        '    day = context["execution_date"]  # execution_date\n'
        '    label = "execution_date"\n'
        "    when = context.get('execution_date')\n"
        '    return f"{day} {label} {when}"\n'
        'TEMPLATE = "{{ execution_date }} {{ ds }} {{ ti.execution_date }}"\n'
    )
    new, count = rename_context_key(text, "execution_date", "logical_date")
    assert count == 3
    assert new == (
        "def report(**context):\n"
        '    day = context["logical_date"]  # execution_date\n'
        '    label = "execution_date"\n'
        "    when = context.get('logical_date')\n"
        '    return f"{day} {label} {when}"\n'
        'TEMPLATE = "{{ logical_date }} {{ ds }} {{ ti.execution_date }}"\n'
    )


def _triage(error_type: str, message: str, path: str, line: int, category=Category.CODE_ERROR):
    from patchit_provider.engine.models import Culprit, Triage

    return Triage(
        category=category,
        remediation=Remediation.PATCH,
        fingerprint="0" * 16,
        summary="s",
        error=ErrorSummary(type=error_type, message=message),
        culprit=Culprit(path=path, line=line),
        confidence=0.9,
    )


def _evidence():
    from patchit_provider.engine.models import Evidence

    return Evidence(event_id="e")


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("next_ds", "def f(**context):\n    return context['next_ds']\n"),
        ("tomorrow_ds", "def f(**context):\n    return context['tomorrow_ds']\n"),
    ],
)
def test_no_one_to_one_replacement_no_patch(tmp_path, key, source):
    assert REMOVED_CONTEXT_KEYS[key].replacement is None
    (tmp_path / "dag.py").write_text(source)
    assert airflow_migration(_evidence(), _triage("KeyError", f"'{key}'", "dag.py", 2), tmp_path) is None


def test_subdag_operator_is_escalated_not_patched(tmp_path):
    (tmp_path / "dag.py").write_text("from airflow.operators.subdag import SubDagOperator\n")
    triage = _triage("ModuleNotFoundError", "No module named 'airflow.operators.subdag'", "dag.py", 1)
    assert airflow_migration(_evidence(), triage, tmp_path) is None


def test_an_unrelated_key_error_is_not_a_migration(tmp_path):
    (tmp_path / "etl.py").write_text("def f(row):\n    return row['execution_day']\n")
    triage = _triage("KeyError", "'execution_day'", "etl.py", 2)
    assert airflow_migration(_evidence(), triage, tmp_path) is None


@pytest.mark.parametrize(
    ("expected_log", "removed", "added"),
    [
        ("unexpected keyword argument 'schedule_interval'", "schedule_interval=None", "schedule=None"),
    ],
)
def test_removed_dag_argument_validated_by_reimporting_the_dag(tmp_path, capsys, expected_log, removed, added):
    repo = tmp_path / "repo"
    (repo / "dags").mkdir(parents=True)
    source = (
        textwrap.dedent(LEGACY_DAG)
        .replace(
            "from airflow.operators.dummy import DummyOperator",
            "from airflow.providers.standard.operators.empty import EmptyOperator",
        )
        .replace("DummyOperator(", "EmptyOperator(")
    )
    (repo / "dags" / "legacy.py").write_text(source)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "dag"]):
        subprocess.run([*GIT, *cmd], cwd=repo, check=True)
    before = subprocess.run([sys.executable, "dags/legacy.py"], cwd=repo, capture_output=True, text=True, timeout=300)
    assert before.returncode != 0 and expected_log in before.stderr
    log = tmp_path / "attempt=1.log"
    log.write_text(before.stderr)
    check = shlex.join([sys.executable, "dags/legacy.py"])
    assert main(["remediate", str(log), "--repo", str(repo), "--check", check, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in (result["validation"] or {}).get("checks", [])}
    assert result["outcome"] == "patch_validated", json.dumps({"triage": result["triage"], "checks": checks}, indent=1)[
        :3000
    ]
    assert checks["check"]["passed"], checks["check"]["output"]
    diff = result["patch"]["diff"]
    assert removed in diff and added in diff
    assert diff.count("\n+") - diff.count("\n+++ ") == 1  # one line: the argument, nothing else


def test_a_migration_far_apart_becomes_small_unique_edits():
    from patchit_provider.engine.patching.common import hunk_edits
    from patchit_provider.engine.patching.edits import apply_edit

    old = textwrap.dedent(LEGACY_DAG).replace("    print(", "\n\n\n\n\n\n\n\n    print(")
    new, _ = ruff_migrate(old, "dags/legacy.py", {"airflow.operators.dummy"})
    edits = hunk_edits("dags/legacy.py", old, new)
    assert len(edits) >= 2  # the import and the use, not one edit spanning the blank lines between
    assert all(e.search.count("\n\n\n\n") == 0 for e in edits)
    text = old
    for edit in edits:
        text = apply_edit(text, edit)
    assert text == new


def test_a_renamed_key_in_a_template_file_follows_ruff_s_own_rename(tmp_path):
    """`triggering_dataset_events` became `triggering_asset_events` (ruff AIR301's fix, the key of
    Airflow 3.3's Context): ruff never reads a `.sql` template, the shared table renames it there."""
    assert REMOVED_CONTEXT_KEYS["triggering_dataset_events"].replacement == "triggering_asset_events"
    (tmp_path / "load.sql").write_text("select '{{ triggering_dataset_events | length }}' as n\n")
    fix = airflow_migration(
        _evidence(),
        _triage("UndefinedError", "'triggering_dataset_events' is undefined", "load.sql", 1),
        tmp_path,
    )
    assert fix is not None
    assert [(e.path, e.search, e.replace) for e in fix.edits] == [
        (
            "load.sql",
            "select '{{ triggering_dataset_events | length }}' as n\n",
            "select '{{ triggering_asset_events | length }}' as n\n",
        )
    ]
