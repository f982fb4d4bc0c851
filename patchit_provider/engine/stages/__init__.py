"""The remediation stages, one module each, as `run(inp, ctx) -> out` (engine/models.py holds
their input and output contracts), registered in order in the `remediation` pipeline.

Receive (no incident yet) and approve (a decision, not a change of the incident) are called by
the orchestrator directly; the six that change an incident are looped over by
`engine.pipeline.Remediator.run_stage`. A second pipeline (the rollouts) registers its own
stages with `pipeline("rollout").register(StageSpec(...))`.
"""

from __future__ import annotations

from patchit_provider.engine.stages import approve, evidence, propose, publish, read, receive, triage, validate
from patchit_provider.engine.stages.base import (
    GitHubTarget,
    IncidentStore,
    Notifier,
    Pipeline,
    Proposer,
    Reader,
    StageContext,
    StageKey,
    StageSpec,
    pipeline,
    run_stage,
)

__all__ = [
    "REMEDIATION",
    "GitHubTarget",
    "IncidentStore",
    "Notifier",
    "Pipeline",
    "Proposer",
    "Reader",
    "StageContext",
    "StageKey",
    "StageSpec",
    "approve",
    "pipeline",
    "receive",
    "run_stage",
]

REMEDIATION = pipeline("remediation")
if not REMEDIATION.keys():
    REMEDIATION.register(StageSpec(StageKey.EVIDENCE, evidence.run, evidence.inputs, evidence.apply))
    REMEDIATION.register(StageSpec(StageKey.TRIAGE, triage.run, triage.inputs, triage.apply, triage.finish))
    REMEDIATION.register(StageSpec(StageKey.READ, read.run, read.inputs, read.apply))
    REMEDIATION.register(StageSpec(StageKey.PROPOSE, propose.run, propose.inputs, propose.apply))
    REMEDIATION.register(StageSpec(StageKey.VALIDATE, validate.run, validate.inputs, validate.apply))
    REMEDIATION.register(StageSpec(StageKey.PUBLISH, publish.run, publish.inputs, publish.apply))
