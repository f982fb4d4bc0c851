"""The stage framework: one lifecycle table, a registry a second pipeline can use, the Workspace
worked out once, typed stage keys."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest

from patchit_provider.engine.errors import LifecycleError, NotFoundError, PatchitError, StagePreconditionError
from patchit_provider.engine.models import TRANSITIONS, AuditKind, FailureEvent, Incident, IncidentState
from patchit_provider.engine.pipeline import IncidentNotFound, Remediator
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.stages import REMEDIATION, StageContext, StageKey, StageSpec, pipeline, run_stage
from patchit_provider.engine.store import open_store

S = IncidentState


def _incident(state: IncidentState) -> Incident:
    return Incident(incident_id="inc-1", event=FailureEvent(pipeline_id="orders", run_id="r1"), state=state)


# -- the lifecycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.RECEIVED, S.PUBLISHED),  # publishing what was never validated
        (S.RECEIVED, S.VALIDATED),
        (S.TRIAGED, S.VALIDATED),  # validating without a proposal
        (S.PUBLISHED, S.TRIAGED),  # a published incident is not worked on again
        (S.REJECTED, S.PUBLISHED),  # a rejected patch is never published
        (S.ESCALATED, S.PATCH_PROPOSED),
    ],
)
def test_lifecycle_refuses_an_illegal_transition(start, target):
    incident = _incident(start)
    with pytest.raises(LifecycleError, match=f"{start.value} -> {target.value}"):
        incident.advance(target)
    assert incident.state is start  # refused: nothing changed


def test_lifecycle_follows_the_forward_path_and_always_records_a_failure():
    incident = _incident(S.RECEIVED)
    for state in (S.TRIAGED, S.PATCH_PROPOSED, S.VALIDATED, S.PUBLISHED):
        assert incident.advance(state).state is state
    for state in IncidentState:
        assert _incident(state).advance(S.FAILED).state is S.FAILED
    assert set(TRANSITIONS) == set(IncidentState)  # every state has its row


def test_one_exception_tree():
    from patchit_provider.engine.llm.base import LLMError
    from patchit_provider.engine.publishing import PublishError
    from patchit_provider.engine.publishing.github_client import GitHubError
    from patchit_provider.engine.store import IncidentNotFoundError, StoreError

    for cls in (LifecycleError, StagePreconditionError, LLMError, PublishError, GitHubError, StoreError):
        assert issubclass(cls, PatchitError), cls
    assert IncidentNotFound is NotFoundError and issubclass(IncidentNotFoundError, NotFoundError)
    assert issubclass(StagePreconditionError, RuntimeError)  # `except RuntimeError` of old callers still catches it


# -- the registry: a second pipeline registers its own stages --------------------------------


class RolloutStage(str, Enum):
    PLAN = "plan"
    GATE = "gate"


@dataclass
class Run:
    members: list[str]
    waves: list[list[str]] = field(default_factory=list)
    verdict: str = ""


def test_a_second_pipeline_registers_and_runs_its_stages():
    rollout = pipeline("test-rollout")
    assert pipeline("test-rollout") is rollout and rollout is not REMEDIATION
    rollout.register(
        StageSpec(
            RolloutStage.PLAN,
            run=lambda members, ctx: [members[:1], members[1:]],
            inputs=lambda doc, ctx: doc.members or None,
            apply=lambda doc, waves: setattr(doc, "waves", waves),
        )
    )
    rollout.register(
        StageSpec(
            RolloutStage.GATE,
            run=lambda waves, ctx: "go" if len(waves) == 2 else "stop",
            inputs=lambda doc, ctx: doc.waves,
            apply=lambda doc, verdict: setattr(doc, "verdict", verdict),
        )
    )
    with pytest.raises(ValueError):
        rollout.register(StageSpec(RolloutStage.PLAN, run=lambda i, c: i, inputs=lambda d, c: d))
    with pytest.raises(TypeError):
        rollout.register(StageSpec(StageKey.TRIAGE, run=lambda i, c: i, inputs=lambda d, c: d))
    assert rollout.keys() == [RolloutStage.PLAN, RolloutStage.GATE]

    ctx = StageContext(store=None, settings=PatchitSettings())  # type: ignore[arg-type]
    run = Run(members=["a", "b", "c"])
    for spec in rollout:
        run_stage(spec, run, ctx)
    assert run.waves == [["a"], ["b", "c"]] and run.verdict == "go"
    assert run_stage(rollout.get(RolloutStage.PLAN), Run(members=[]), ctx) is None  # nothing to do
    with pytest.raises(NotFoundError):
        REMEDIATION.get(StageKey.APPROVE)  # a decision, not a stage of the loop
    # the remediation pipeline is untouched by the second one
    assert REMEDIATION.keys() == [
        StageKey.EVIDENCE,
        StageKey.TRIAGE,
        StageKey.READ,
        StageKey.PROPOSE,
        StageKey.VALIDATE,
        StageKey.PUBLISH,
    ]


# -- the Workspace: worked out once, by the evidence stage -----------------------------------


@pytest.fixture()
def remediator(tmp_path: Path, pipeline_repo: Path):
    store = open_store(f"sqlite:///{tmp_path}/store.db")
    settings = PatchitSettings(
        repo_map={"orders": str(pipeline_repo)},
        publish_mode="none",
        check_command=f"{sys.executable} run_orders.py data/orders.csv",
        validation_timeout=120,
    )
    yield Remediator(store, settings)
    store.close()


def _event(repo: Path) -> FailureEvent:
    spec = __import__("importlib.util").util.spec_from_file_location(
        "pipeline_cases_ws", Path(__file__).with_name("test_pipeline.py")
    )
    module = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._event_from_run(repo, "run_orders.py data/orders.csv")


def test_workspace_is_stored_by_evidence_and_later_stages_use_it(remediator, pipeline_repo, tmp_path):
    incident = remediator.receive(_event(pipeline_repo))
    incident = remediator.run_stage(StageKey.EVIDENCE, incident.incident_id)
    assert incident.workspace is not None and incident.workspace.repo_root == str(pipeline_repo.resolve())
    assert incident.workspace.head and len(incident.workspace.head) == 40
    # repo_map changes between two tasks: the later stages keep the repository evidence found
    remediator.settings = remediator.settings.model_copy(update={"repo_map": {"orders": str(tmp_path)}})
    incident = remediator.run_stage(StageKey.TRIAGE, incident.incident_id)
    incident = remediator.run_stage(StageKey.PROPOSE, incident.incident_id)
    assert incident.state is S.PATCH_PROPOSED
    incident = remediator.run_stage(StageKey.VALIDATE, incident.incident_id)
    assert incident.state is S.VALIDATED


def test_a_stage_before_its_input_exists_fails_with_a_precondition_error(remediator, pipeline_repo):
    incident = remediator.receive(_event(pipeline_repo))
    with pytest.raises(StagePreconditionError, match="needs evidence"):
        remediator.run_stage(StageKey.TRIAGE, incident.incident_id)
    failed = remediator.load(incident.incident_id)
    assert failed.state is S.FAILED
    assert [a.kind for a in remediator.store.audit_trail(incident.incident_id)][-1] == AuditKind.STAGE_FAILED


def test_a_lifecycle_refusal_is_recorded_and_leaves_the_incident_as_it_was(remediator, pipeline_repo):
    incident = remediator.receive(_event(pipeline_repo))
    incident = remediator.run_stage(StageKey.EVIDENCE, incident.incident_id)
    incident.state = S.PUBLISHED
    remediator.store.save_incident(incident)
    with pytest.raises(LifecycleError):
        remediator.run_stage(StageKey.TRIAGE, incident.incident_id)
    assert remediator.load(incident.incident_id).state is S.PUBLISHED
    assert remediator.store.audit_trail(incident.incident_id)[-1].kind == AuditKind.STAGE_FAILED
