"""The stage framework: a stage is `run(inp, ctx) -> out`, registered under a typed key.

A `StageSpec` bundles what an orchestrator needs to run one stage on a stored document:
`inputs` reads the stage's input model from the document (None: nothing to do, a
`StagePreconditionError` when what it needs is missing), `run` does the work, `apply` puts the
output back on the document, and the optional `finish` runs after the document is saved (the
triage stage groups by fingerprint there). A `Pipeline` is an ordered registry of specs; the
remediation stages are one pipeline (`stages.REMEDIATION`), and the rollouts register a second
one the same way (docs/architecture.md shows how).

The collaborators are typed protocols in one `StageContext`, so a test double that speaks the
protocol replaces any of them (as httpx's MockTransport replaces the network).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Protocol, TypeVar

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import Artifact, AuditEvent, Evidence, Incident, PatchProposal, Triage
from patchit_provider.engine.notify.messages import Moment

if TYPE_CHECKING:
    from patchit_provider.engine.evidence_inputs import TaskApi
    from patchit_provider.engine.settings import PatchitSettings


class StageKey(str, Enum):
    """The remediation stages, in order; the value is the stage's name in audit events."""

    RECEIVE = "receive"
    EVIDENCE = "evidence"
    TRIAGE = "triage"
    READ = "read"
    PROPOSE = "propose"
    VALIDATE = "validate"
    APPROVE = "approve"
    PUBLISH = "publish"


# -- the collaborators a stage may use ------------------------------------------------------


class IncidentStore(Protocol):
    """What the stages need of engine.store.IncidentStore."""

    def get_incident(self, incident_id: str) -> Incident | None: ...
    def create_incident(self, event: Any) -> tuple[Incident, bool]: ...
    def save_incident(self, incident: Incident) -> Incident: ...
    def append_audit(self, event: AuditEvent) -> Any: ...
    def put_artifact(self, artifact: Artifact) -> Any: ...
    def get_artifact(self, incident_id: str, name: str) -> Artifact | None: ...
    def audit_trail(self, incident_id: str) -> list[AuditEvent]: ...
    def group_by_fingerprint(self, incident: Incident) -> Incident | None: ...


class Notifier(Protocol):
    """engine.notify.Notifier: tells the webhooks about a moment (an engine.notify.Moment value)."""

    def notify(self, incident: Incident, moment: str, *, detail: str = "") -> Any: ...


class Proposer(Protocol):
    """engine.llm.propose.LLMProposer: patches from a model when no deterministic fixer applies."""

    def __call__(self, evidence: Evidence, triage: Triage, repo: Path) -> list[PatchProposal]: ...


class Reader(Protocol):
    """engine.llm.reading.ModelReader: a model's reading of a triage the catalogs left unknown."""

    def __call__(self, evidence: Evidence, triage: Triage) -> Triage | None: ...


class GitHubTarget(Protocol):
    """engine.publishing.github_client.GitHubTarget: where `publish_mode = github` publishes."""

    repository: str
    base_branch: str


@dataclass
class StageContext:
    """Everything a stage may use besides its input. Built once per orchestrator."""

    store: IncidentStore
    settings: PatchitSettings
    notifier: Notifier | None = None
    proposer: Proposer | None = None
    reader: Reader | None = None
    github: GitHubTarget | None = None
    # The Airflow REST API (hooks/api.py), for the failed try's XComs and rendered fields.
    task_api: TaskApi | None = None

    def audit(self, incident_id: str, kind: str, message: str = "", /, *, actor: str = "patchit", **data: Any) -> None:
        self.store.append_audit(AuditEvent(incident_id=incident_id, kind=kind, message=message, actor=actor, data=data))

    def artifact(self, incident_id: str, name: str, content: str, media_type: str) -> None:
        self.store.put_artifact(Artifact(incident_id=incident_id, name=name, content=content, media_type=media_type))

    def write_rca(self, incident: Incident) -> None:
        from patchit_provider.engine.report import render_rca

        markdown, document = render_rca(incident)
        self.artifact(incident.incident_id, "rca.md", markdown, "text/markdown")
        self.artifact(incident.incident_id, "rca.json", json.dumps(document, indent=2, default=str), "application/json")

    def notify(self, incident: Incident, moment: Moment, detail: str = "") -> None:
        """Tell the configured webhooks; never changes how a stage ends."""
        if self.notifier is None:
            return
        try:
            self.notifier.notify(incident, Moment(moment).value, detail=detail)
        except Exception:  # noqa: BLE001 - the Notifier does not raise; a stand-in might
            pass


# -- stages and pipelines -------------------------------------------------------------------

Doc = TypeVar("Doc")
In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class StageSpec(Generic[Doc, In, Out]):
    """One stage of a pipeline. `run` is the stage; the rest adapts it to the stored document."""

    key: Enum
    run: Callable[[In, StageContext], Out]
    inputs: Callable[[Doc, StageContext], In | None]
    apply: Callable[[Doc, Out], None] = lambda doc, out: None
    finish: Callable[[Doc, Out, StageContext], Doc] | None = None


@dataclass
class Pipeline:
    """An ordered registry of stages under typed keys (one Enum per pipeline)."""

    name: str
    _stages: dict[Enum, StageSpec[Any, Any, Any]] = field(default_factory=dict)

    def register(self, spec: StageSpec[Any, Any, Any]) -> StageSpec[Any, Any, Any]:
        if spec.key in self._stages:
            raise ValueError(f"pipeline {self.name!r} already has a stage {spec.key!r}")
        keys = list(self._stages)
        if keys and type(keys[0]) is not type(spec.key):
            raise TypeError(
                f"pipeline {self.name!r} is keyed by {type(keys[0]).__name__}, not {type(spec.key).__name__}"
            )
        self._stages[spec.key] = spec
        return spec

    def get(self, key: Enum) -> StageSpec[Any, Any, Any]:
        try:
            return self._stages[key]
        except KeyError:
            raise NotFoundError(f"pipeline {self.name!r} has no stage {key!r}") from None

    def __iter__(self) -> Iterator[StageSpec[Any, Any, Any]]:
        return iter(list(self._stages.values()))

    def keys(self) -> list[Enum]:
        return list(self._stages)


_PIPELINES: dict[str, Pipeline] = {}


def pipeline(name: str) -> Pipeline:
    """The pipeline called `name`, created empty the first time (the remediation one, the rollouts' one)."""
    return _PIPELINES.setdefault(name, Pipeline(name))


def run_stage(spec: StageSpec[Doc, In, Out], doc: Doc, ctx: StageContext) -> Out | None:
    """inputs -> run -> apply on `doc`; None when the stage has nothing to do. Saving, the
    lifecycle, audit and notifications are the orchestrator's (engine/pipeline.py for incidents)."""
    inp = spec.inputs(doc, ctx)
    if inp is None:
        return None
    out = spec.run(inp, ctx)
    spec.apply(doc, out)
    return out
