"""Names PATCHIT shares between the engine, the DAG, capture, ingest and the UI: one place each.

Import-free on purpose (no PATCHIT, no Airflow): every layer may import it, including the light
capture path that runs in every task process. Tests may repeat the literal values; the package
must not.
"""

from __future__ import annotations

from typing import Final

# The remediation DAG and its tasks (dags/remediation.py builds them from these). One task may run
# several stages (each one still `Remediator.run_stage`, audited under its own name): every task
# boundary costs a scheduler round and a process start, seconds on a busy host (docs/architecture.md,
# "Latency").
REMEDIATION_DAG_ID: Final = "patchit_remediation"
ANALYSE_TASK_ID: Final = "analyse"  # receive, evidence, triage: the root cause is visible when it ends
PATCH_TASK_ID: Final = "patch"  # propose, validate
DECIDE_APPROVAL_TASK_ID: Final = "decide_approval"
APPROVAL_TASK_ID: Final = "approval"
SKIP_APPROVAL_TASK_ID: Final = "skip_approval"
# The reviewer's words travel through PATCHIT's store (behind its DAG checks), never through the
# HITL row, which every reader of the remediation DAG can read in Airflow's own API.
APPROVAL_REASON_ARTIFACT: Final = "approval-reason.txt"
PUBLISH_TASK_ID: Final = "publish"

# Runs of the remediation DAG started for an event are named `<prefix><event id>` (idempotent).
RUN_ID_PREFIX: Final = "patchit__"
MAX_RUN_ID_CHARS: Final = 250  # Airflow's limit on a run id

# What asking Airflow for a remediation run answered (capture/trigger.py, hooks/api.py).
TRIGGER_CREATED: Final = "created"
TRIGGER_DUPLICATE: Final = "duplicate"


def task_label(dag_id: str, task_id: str | None) -> str:
    """'dag.task', or the DAG id alone when the failure has no task (how every message names it)."""
    return dag_id + (f".{task_id}" if task_id else "")
