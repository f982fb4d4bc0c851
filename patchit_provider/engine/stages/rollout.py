"""The rollout pipeline: its stages registered in the stage framework, as the remediation's are.

PLAN (the stored plan checked executable: valid, published upgrade or fixed DAG versions; the run
starts), then per wave APPROVE (approval point, bake, live-run pressure), EXECUTE_WAVE (clear or
deploy each member, watch it, count it against the budget) and GATE (the gate's action; after
the last wave the rollout succeeds). The stages live in engine/rollout/execute.py; the loop is
`execute_rollout`, which runs each one through `run_stage(ROLLOUT.get(key), doc, ctx)`.
"""

from __future__ import annotations

from patchit_provider.engine.rollout import execute
from patchit_provider.engine.rollout.execute import RolloutStage
from patchit_provider.engine.stages.base import StageSpec, pipeline

__all__ = ["ROLLOUT", "RolloutStage"]

ROLLOUT = pipeline("rollout")
if not ROLLOUT.keys():
    ROLLOUT.register(StageSpec(RolloutStage.PLAN, execute.run_plan, execute.stage_input, execute.apply_result))
    ROLLOUT.register(StageSpec(RolloutStage.APPROVE, execute.run_approve, execute.wave_input, execute.apply_result))
    ROLLOUT.register(
        StageSpec(RolloutStage.EXECUTE_WAVE, execute.run_execute_wave, execute.wave_input, execute.apply_result)
    )
    ROLLOUT.register(StageSpec(RolloutStage.GATE, execute.run_gate, execute.gate_input, execute.apply_result))
