"""Progressive rollouts (issue 12), the pure half: plan, validate, schedule, edit.

`plan_rollout(spec)` gives a validated `RolloutPlan`; `apply_edits(plan, edits, by=...)` a new,
re-validated version or a `PlanEditError`; `plan_with_model(plan, backend, budget=...)` lets a
model propose edits that are kept only when they validate. No Airflow here: the recovery DAG
that executes a plan is an adapter around these functions.
"""

from patchit_provider.engine.rollout.budget import (
    budget_exceeded,
    max_errors_count,
    worst_case_failures,
)
from patchit_provider.engine.rollout.edit import PlanEditError, apply_edits
from patchit_provider.engine.rollout.planner import (
    assign_waves,
    order_members,
    plan_rollout,
    wave_sizes,
)
from patchit_provider.engine.rollout.validate import evaluate, read_spec

__all__ = [
    "PlanEditError",
    "apply_edits",
    "assign_waves",
    "budget_exceeded",
    "evaluate",
    "max_errors_count",
    "order_members",
    "plan_rollout",
    "read_spec",
    "wave_sizes",
    "worst_case_failures",
]
