"""The remediation DAG's ids come from engine/constants.py: the DAG builds under another id."""

from __future__ import annotations

import subprocess
from pathlib import Path

from patchit_provider.engine import constants

ROOT = Path(__file__).resolve().parents[2]


def test_the_dag_builds_under_another_id(airflow_db):
    from patchit_provider.dags.remediation import DAG_ID, build_remediation_dag

    default = build_remediation_dag()
    other = build_remediation_dag(dag_id="patchit_remediation_staging")
    assert DAG_ID == constants.REMEDIATION_DAG_ID == default.dag_id
    assert other.dag_id == "patchit_remediation_staging"
    assert (
        set(other.task_ids)
        == set(default.task_ids)
        == {
            constants.ANALYSE_TASK_ID,
            constants.PATCH_TASK_ID,
            constants.DECIDE_APPROVAL_TASK_ID,
            constants.APPROVAL_TASK_ID,
            constants.SKIP_APPROVAL_TASK_ID,
            constants.PUBLISH_TASK_ID,
        }
    )
    for task in other.tasks:  # same wiring, and no task refers to the default DAG id
        assert {t.task_id for t in task.downstream_list} == {
            t.task_id for t in default.get_task(task.task_id).downstream_list
        }
        assert task.dag_id == "patchit_remediation_staging"
        assert constants.REMEDIATION_DAG_ID not in str(getattr(task, "incident_id", ""))


def test_the_dag_id_is_written_in_one_module_of_the_package():
    found = subprocess.run(
        ["grep", "-rln", "--include=*.py", constants.REMEDIATION_DAG_ID, "patchit_provider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert found == ["patchit_provider/engine/constants.py"], found


def test_stage_operators_are_keyed_by_the_stage_enum():
    """Every registered stage runs in exactly one task, in the registered order."""
    from patchit_provider.engine.stages import REMEDIATION, StageKey
    from patchit_provider.operators import remediation as operators

    keys = [
        key
        for cls in (operators.AnalyseOperator, operators.PatchOperator, operators.PublishPatchOperator)
        for key in cls.stages
    ]
    assert all(isinstance(key, StageKey) for key in keys)
    assert keys == REMEDIATION.keys()


def test_remediation_tasks_go_first_and_validation_stays_bounded(airflow_db):
    """A burst of failures is analysed at once, ahead of pipeline tasks waiting for a slot, while
    validation (which replays pipeline code) runs at most two at a time."""
    from patchit_provider.dags.remediation import build_remediation_dag

    dag = build_remediation_dag()
    assert dag.max_active_runs >= 8
    for task in dag.tasks:
        assert (
            task.priority_weight >= 1000 and str(getattr(task.weight_rule, "value", task.weight_rule)) == "absolute"
        ), task.task_id
    assert dag.get_task(constants.PATCH_TASK_ID).max_active_tis_per_dag == 2
    assert [t.task_id for t in dag.get_task(constants.ANALYSE_TASK_ID).downstream_list] == [constants.PATCH_TASK_ID]
