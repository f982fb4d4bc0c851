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
            constants.RECEIVE_TASK_ID,
            constants.EVIDENCE_TASK_ID,
            constants.TRIAGE_TASK_ID,
            constants.PROPOSE_TASK_ID,
            constants.VALIDATE_TASK_ID,
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
    from patchit_provider.engine.stages import REMEDIATION, StageKey
    from patchit_provider.operators import remediation as operators

    keys = [
        cls.stage
        for cls in (
            operators.CollectEvidenceOperator,
            operators.TriageOperator,
            operators.ProposePatchOperator,
            operators.ValidatePatchOperator,
            operators.PublishPatchOperator,
        )
    ]
    assert all(isinstance(key, StageKey) for key in keys)
    assert keys == REMEDIATION.keys()
