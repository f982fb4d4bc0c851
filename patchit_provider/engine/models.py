"""The contracts between PATCHIT's stages: every stage takes and returns these models.

One module on purpose: the CLI, the remediation DAG, the store, the UI and the ingest API all
speak these shapes, so a field means the same thing everywhere. Later work extends them with
optional fields; it never builds a second set.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timezone
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from patchit_provider.engine import limits
from patchit_provider.engine.limits import AtMost, Bounded, FrameText, IdText, PathText, RequiredId, SafeText, UriText
from patchit_provider.engine.taxonomy import Category, Remediation

# Bounds on what an event may carry: capture must stay cheap and the store small.
MAX_LOG_TEXT_CHARS = 256_000
MAX_MESSAGE_CHARS = 8_000
MAX_TRACEBACK_CHARS = 64_000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Contract(BaseModel):
    """Base for every contract: unknown keys are rejected so malformed input fails loudly."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True)


class Platform(str, Enum):
    AIRFLOW = "airflow"
    DBT = "dbt"
    SPARK = "spark"
    DATABRICKS = "databricks"
    SNOWFLAKE = "snowflake"
    GLUE = "glue"
    GENERIC = "generic"


# ---------------------------------------------------------------------------------------------
# Failure event (what capture produces, what the remediation DAG receives as conf)
# ---------------------------------------------------------------------------------------------


class Frame(Contract):
    """One stack frame as the engine saw it (path as written in the log, not yet mapped)."""

    path: PathText
    line: int | None = Field(default=None, ge=0, le=limits.INT32_MAX)
    function: FrameText | None = None
    code: FrameText | None = None


class ErrorInfo(Contract):
    """The exception itself. `traceback` is the formatted text, which (unlike str(exc)) keeps
    Python's "Did you mean" hint."""

    type: Annotated[str, Bounded(500, 1)]
    message: SafeText = ""
    traceback: SafeText | None = None
    frames: Annotated[list[Frame], AtMost(limits.MAX_FRAMES)] = Field(default_factory=list)

    @field_validator("message")
    @classmethod
    def _bound_message(cls, value: str) -> str:
        return value[:MAX_MESSAGE_CHARS]

    @field_validator("traceback")
    @classmethod
    def _bound_traceback(cls, value: str | None) -> str | None:
        return value[-MAX_TRACEBACK_CHARS:] if value else value


class FailureEvent(Contract):
    """The normalized failure event of the original PATCHIT, for every platform."""

    event_id: str = Field(default="", max_length=limits.MAX_ID_CHARS, pattern=r"^[A-Za-z0-9_.~:+-]*$")
    platform: Platform = Platform.AIRFLOW
    pipeline_id: RequiredId
    run_id: RequiredId
    task_id: IdText | None = None
    map_index: int = Field(default=-1, ge=-1, le=limits.INT32_MAX)
    try_number: int | None = Field(default=None, ge=0, le=limits.INT32_MAX)
    detected_at: datetime = Field(
        default_factory=utcnow, description="Timezone-aware, from 2000-01-01 to one day from now."
    )
    log_uri: UriText | None = None
    log_text: SafeText | None = None
    error: ErrorInfo | None = None
    artifact_uris: Annotated[list[UriText], AtMost(limits.MAX_ARTIFACT_URIS)] = Field(default_factory=list)
    code_path: PathText | None = Field(
        default=None, description="File that defines the failed pipeline (an Airflow DAG's fileloc)."
    )
    metadata: limits.Metadata = Field(
        default_factory=dict,
        description=f"JSON object: depth <= {limits.META_MAX_DEPTH}, <= {limits.META_MAX_KEYS} keys per object, "
        f"<= {limits.META_MAX_ITEMS} items per list, <= {limits.META_MAX_NODES} values, JSON scalars as leaves.",
        json_schema_extra={"maxProperties": limits.META_MAX_KEYS},
    )

    @field_validator("detected_at")
    @classmethod
    def _sane_date(cls, value: datetime, info: ValidationInfo) -> datetime:
        return limits.check_detected_at(value, info)

    @field_validator("log_text")
    @classmethod
    def _bound_log(cls, value: str | None) -> str | None:
        # Keep the tail: the error is at the end of a failed task's log.
        return value[-MAX_LOG_TEXT_CHARS:] if value else value

    def model_post_init(self, __context: Any) -> None:
        if not self.event_id:
            self.event_id = self.natural_key()

    def natural_key(self) -> str:
        """Same failure (platform, pipeline, run, task, map index, try) -> same id."""
        parts = [
            self.platform.value,
            self.pipeline_id,
            self.run_id,
            self.task_id or "",
            str(self.map_index),
            str(self.try_number if self.try_number is not None else ""),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


class TaskInstanceRef(Contract):
    """A reference to a failed Airflow task instance, from which PATCHIT fetches the rest."""

    dag_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    task_id: str = Field(min_length=1)
    try_number: int | None = Field(default=None, ge=1)
    map_index: int = -1


# ---------------------------------------------------------------------------------------------
# Evidence and triage
# ---------------------------------------------------------------------------------------------


class CodeSnippet(Contract):
    path: str = Field(description="Repository-relative POSIX path.")
    start_line: int
    lines: list[str]
    focus_line: int | None = None


class RepoRef(Contract):
    root: str = Field(description="Absolute path of the pipeline repository's work tree.")
    head: str | None = None
    branch: str | None = None


class BlameLine(Contract):
    """Who last changed one line of the culprit file (git blame), and when."""

    line: int
    commit: str
    author: str = ""
    date: str = Field(default="", description="Author date, ISO 8601.")
    summary: str = ""
    code: str = ""


class InputPeek(Contract):
    """The head of an input file named by the error: first lines / column names, never the data."""

    path: str
    kind: str = Field(description="csv, json, jsonl, parquet, text")
    header: list[str] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    size: int | None = None


class DbtNode(Contract):
    """A failed dbt node from run_results.json, completed by manifest.json when given."""

    unique_id: str
    status: str
    message: str = ""
    path: str | None = Field(default=None, description="original_file_path, repository-relative when mapped.")
    compiled_sql: str = ""
    depends_on: list[str] = Field(default_factory=list)


class Evidence(Contract):
    event_id: str
    error: ErrorInfo | None = None
    log_excerpt: str = ""
    log_format: str = "unknown"
    repo: RepoRef | None = None
    mapped_frames: list[Frame] = Field(
        default_factory=list, description="Frames inside the repository, repository-relative."
    )
    code_context: list[CodeSnippet] = Field(default_factory=list)
    recent_changes: list[str] = Field(default_factory=list)
    packages: dict[str, str] = Field(
        default_factory=dict,
        description="Distributions of the traceback's modules -> version, as installed where the engine runs.",
    )
    blame: list[BlameLine] = Field(
        default_factory=list, description="git blame of the culprit line and a few around it."
    )
    input_peeks: list[InputPeek] = Field(default_factory=list)
    dbt_nodes: list[DbtNode] = Field(default_factory=list)
    pipeline_files: list[str] = Field(
        default_factory=list,
        description="The files that define the pipeline as the event or the log names them (the DAG file of "
        "'Filling up the DagBag from ...'), as written: where to look when no frame is the user's.",
    )
    redactions: int = 0
    notes: list[str] = Field(default_factory=list)


class Culprit(Contract):
    path: str
    line: int | None = None


class ErrorSummary(Contract):
    type: str
    message: str


class Triage(Contract):
    """Fields as in ../shared/cli-contract.md; extras are allowed by the contract."""

    category: Category
    remediation: Remediation
    fingerprint: str
    summary: str
    error: ErrorSummary
    culprit: Culprit | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    fingerprint_version: int = 1
    rationale: str = ""
    next_step: str = ""
    evidence_lines: list[str] = Field(default_factory=list)
    decided_by: str = Field(
        default="", description="The fact the category rests on: 'SQLSTATE 42703', 'HTTP 429', 'class KeyError', ..."
    )
    source: str = Field(
        default="", description="Where that fact's catalog entry comes from: a URL or an installed file."
    )

    def contract_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# ---------------------------------------------------------------------------------------------
# Patch, policy, validation, publication
# ---------------------------------------------------------------------------------------------


class FileEdit(Contract):
    """A search/replace edit: `search` must occur exactly once in `path` (no line numbers)."""

    path: str
    search: str
    replace: str


class PatchProposal(Contract):
    producer: str = Field(description="'fixer:<name>' or 'llm:<backend>/<model>'.")
    edits: list[FileEdit] = Field(default_factory=list)
    diff: str = ""
    files: list[str] = Field(default_factory=list)
    rationale: str = ""
    prompt_version: str | None = None


class PolicyDecision(Contract):
    allowed: bool
    violations: list[str] = Field(default_factory=list)


CheckStatus = Literal["passed", "failed", "not_run"]


class CheckResult(Contract):
    name: str
    passed: bool = Field(
        description="Whether the check lets the patch through. A check that could not run (status "
        "not_run) may let it through, but is never shown as passed."
    )
    output: str = ""
    status: CheckStatus = Field(
        default="passed",
        description="passed, failed, or not_run: the check could not be run (e.g. the failed callable "
        "could not be replayed) and the output says why. Records without it: passed / failed from `passed`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _status_from_passed(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") is None and isinstance(data.get("passed"), bool):
            data = {**data, "status": "passed" if data["passed"] else "failed"}
        return data

    @model_validator(mode="after")
    def _status_agrees(self) -> CheckResult:
        if (self.status == "passed" and not self.passed) or (self.status == "failed" and self.passed):
            raise ValueError(f"a check with status {self.status!r} cannot have passed={self.passed}")
        return self


# reproduced_and_fixed: the failed callable (or dbt node) failed without the patch and passed with
# it; checks_only: not replayed, the verdict rests on the other checks (`not_replayed` says why).
ReplayKind = Literal["reproduced_and_fixed", "checks_only", "not_possible"]
MAX_REPLAY_VALUE_BYTES = 256 * 1024
MAX_REPLAY_INPUT_BYTES = 1024 * 1024
MAX_REPLAY_XCOMS = 32


class ReplayXCom(Contract):
    """One XCom value the failed try could pull, as JSON data (never a pickled object)."""

    task_id: RequiredId
    key: RequiredId = "return_value"
    map_index: int = Field(default=-1, ge=-1, le=limits.INT32_MAX)
    value: Any = None
    problem: str | None = Field(
        default=None, description="Why the value cannot be replayed (too large, not plain JSON, not fetchable)."
    )


class ReplayInputs(Contract):
    """What the failed try received, fetched through the Airflow REST API when evidence is
    collected: the XComs of the tasks it pulls from and its rendered template fields. Stored as
    the incident's `replay_inputs.json` artifact (redacted, bounded, JSON only) and handed to the
    validation's replay as data."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int | None = None
    xcoms: list[ReplayXCom] = Field(default_factory=list, max_length=MAX_REPLAY_XCOMS)
    rendered_fields: dict[str, Any] = Field(
        default_factory=dict, description="The task instance's rendered template fields, as the API shows them."
    )
    problems: list[str] = Field(default_factory=list, description="What could not be fetched, and why.")


class ValidationResult(Contract):
    passed: bool
    checks: list[CheckResult] = Field(default_factory=list)
    replay: ReplayKind = "not_possible"
    policy: PolicyDecision | None = None
    sandboxed: bool = Field(
        default=False,
        description="The patched code ran only inside the sandbox (false: it was not executed at all, "
        "or the result predates the sandbox).",
    )
    approval_reason: str | None = Field(
        default=None,
        description="Why a person must approve this patch whatever the approval setting "
        "(e.g. validated by static checks only, without a sandbox); None when nothing forces it.",
    )
    not_replayed: str | None = Field(
        default=None,
        description="Why the failed callable was not replayed (failing without the patch, passing with "
        "it); None when it was. A patch that passed without a replay is shown as 'not replayed'.",
    )

    @property
    def replayed(self) -> bool:
        return self.replay == "reproduced_and_fixed"


class PublicationKind(str, Enum):
    LOCAL_BRANCH = "local_branch"
    MOCK_PR = "mock_pr"
    GITHUB = "github"


class Publication(Contract):
    kind: PublicationKind
    branch: str
    commit: str | None = None
    url: str | None = None
    pr_number: int | None = None
    description_md: str = ""
    repo_root: str | None = None
    reused: bool = Field(
        default=False,
        description="The branch/PR of this fingerprint already existed: it was commented on, not created.",
    )


# ---------------------------------------------------------------------------------------------
# Incident, audit trail, outcome
# ---------------------------------------------------------------------------------------------


class Outcome(str, Enum):
    PATCH_VALIDATED = "patch_validated"
    PATCH_REJECTED = "patch_rejected"
    NO_PATCH = "no_patch"


class IncidentState(str, Enum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    PATCH_PROPOSED = "patch_proposed"
    VALIDATED = "validated"
    PUBLISHED = "published"
    ESCALATED = "escalated"
    NO_PATCH = "no_patch"
    REJECTED = "rejected"
    FAILED = "failed"
    GROUPED = "grouped"


# The lifecycle: the states an incident may move to from each state (`Incident.advance` checks
# it; the remediation stages never set `state` directly). Three rules besides the forward path:
# a failed stage is always recorded (FAILED from anywhere); re-running triage starts the work
# again (TRIAGED from every state but PUBLISHED); GROUPED is set by the store when triage finds
# an open incident with the same fingerprint. Staying in the same state (a re-run) is always allowed.
_S = IncidentState
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    _S.RECEIVED: frozenset({_S.TRIAGED, _S.FAILED}),
    _S.TRIAGED: frozenset({_S.PATCH_PROPOSED, _S.NO_PATCH, _S.ESCALATED, _S.GROUPED, _S.FAILED}),
    _S.PATCH_PROPOSED: frozenset({_S.VALIDATED, _S.REJECTED, _S.TRIAGED, _S.FAILED}),
    _S.VALIDATED: frozenset({_S.PUBLISHED, _S.REJECTED, _S.TRIAGED, _S.FAILED}),
    _S.PUBLISHED: frozenset({_S.FAILED}),
    _S.ESCALATED: frozenset({_S.TRIAGED, _S.FAILED}),
    _S.NO_PATCH: frozenset({_S.TRIAGED, _S.FAILED}),
    _S.REJECTED: frozenset({_S.TRIAGED, _S.FAILED}),
    _S.FAILED: frozenset({_S.TRIAGED}),
    _S.GROUPED: frozenset({_S.TRIAGED, _S.FAILED}),
}
# States in which PATCHIT does no more work on its own (the UI's "running" is every other state).
TERMINAL_STATES: frozenset[IncidentState] = frozenset(
    {_S.PUBLISHED, _S.ESCALATED, _S.NO_PATCH, _S.REJECTED, _S.FAILED, _S.GROUPED}
)
# States in which an incident takes no new occurrences of its cause: a grouped one points
# elsewhere, and after a failed stage the work must be done again. An escalated or published
# incident stays open (as a Sentry issue does until resolved): the same cause again is counted.
CLOSED_STATES: frozenset[IncidentState] = frozenset({_S.FAILED, _S.GROUPED})
del _S


def can_advance(current: IncidentState, new: IncidentState) -> bool:
    return new is current or new in TRANSITIONS[current]


class Workspace(Contract):
    """Where an incident's code lives, worked out ONCE by the evidence stage and stored with the
    incident: later stages (propose, validate, publish) read it, so a `repo_map` changed between
    two tasks cannot make them disagree."""

    repo_root: str | None = Field(
        default=None, description="Absolute path of the pipeline repository's work tree; None: no repository found."
    )
    dag_path: str | None = Field(
        default=None,
        description="Repository-relative path of the failing code (the event's code_path), when inside it.",
    )
    head: str | None = Field(default=None, description="The repository's HEAD commit when the evidence was collected.")


class Incident(Contract):
    incident_id: str
    event: FailureEvent
    state: IncidentState = IncidentState.RECEIVED
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    fingerprint: str | None = None
    occurrences: int = 1
    evidence: Evidence | None = None
    triage: Triage | None = None
    patch: PatchProposal | None = None
    candidates: list[PatchProposal] = Field(
        default_factory=list, description="Every proposal made; `patch` is the one validation chose."
    )
    validation: ValidationResult | None = None
    publication: Publication | None = None
    outcome: Outcome | None = None
    remediation_run_id: str | None = None
    grouped_into: str | None = Field(
        default=None, description="The open incident with the same fingerprint this one was counted on."
    )
    workspace: Workspace | None = Field(
        default=None, description="The repository the evidence stage found; later stages use this one."
    )

    def advance(self, new_state: IncidentState) -> Incident:
        """Move to `new_state` if the lifecycle allows it (TRANSITIONS), else LifecycleError."""
        from patchit_provider.engine.errors import LifecycleError

        new_state = IncidentState(new_state)
        if not can_advance(self.state, new_state):
            raise LifecycleError(f"incident {self.incident_id}: {self.state.value} -> {new_state.value} is not allowed")
        self.state = new_state
        self.updated_at = utcnow()
        return self


class AuditEvent(Contract):
    incident_id: str
    kind: str = Field(description="e.g. event.received, evidence.saved, triage.completed, ...")
    at: datetime = Field(default_factory=utcnow)
    actor: str = "patchit"
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = None


class Artifact(Contract):
    incident_id: str
    name: str = Field(description="e.g. evidence.json, rca.md, rca.json, patch.diff")
    media_type: str = "text/plain"
    content: str
    created_at: datetime = Field(default_factory=utcnow)


class RemediationResult(Contract):
    """`patchit remediate --json` (../shared/cli-contract.md)."""

    triage: Triage
    outcome: Outcome
    patch: dict[str, Any] | None = None
    validation: ValidationResult | None = None


class AuditKind:
    """Audit event names, in the style of the original PATCHIT. One list, used by every stage."""

    EVENT_RECEIVED = "event.received"
    OCCURRENCE_ADDED = "occurrence.added"
    INCIDENT_GROUPED = "incident.grouped"
    EVIDENCE_SAVED = "evidence.saved"
    TRIAGE_COMPLETED = "triage.completed"
    TRIAGE_READ = "triage.read"  # a model read a failure the catalogs left unknown (stages/read.py)
    PATCH_PROPOSED = "patch.proposed"
    PATCH_SKIPPED = "patch.skipped"
    LLM_FAILED = "llm.failed"
    POLICY_REJECTED = "policy.rejected"
    VALIDATION_FINISHED = "validation.finished"
    PR_CREATED = "pr.created"
    PR_COMMENTED = "pr.commented"
    BRANCH_CREATED = "branch.created"
    REMEDIATION_ESCALATED = "remediation.escalated"
    REMEDIATION_RETRY_ADVISED = "remediation.retry_advised"
    STAGE_FAILED = "stage.failed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_REJECTED = "approval.rejected"
    REANALYSIS_REQUESTED = "reanalysis.requested"  # a person asked again for a failure that has an incident
    ROLLOUT_ESCALATED = "rollout.escalated"  # a recovery rollout stopped: the fix did not work, or the budget ran out
    ROLLOUT_NEW_FAILURE = "rollout.new_failure"  # a re-run failed for another reason: handed to the receive path


# ---------------------------------------------------------------------------------------------
# Rollout plans (issue 12): what a person or the CLI asks for (RolloutSpec), the validated,
# versioned plan the engine computes from it (RolloutPlan), and the edits a person or a model
# may make to a plan (PlanEdit). Vocabulary of the systems people already trust: Ansible's
# `serial` and `max_fail_percentage`, AWS SSM's `MaxErrors`, `MaxConcurrency` and maintenance
# window `Cutoff`. JSON keys as in `patchit rollout plan` (../shared/cli-contract.md).
# ---------------------------------------------------------------------------------------------

MAX_ROLLOUT_MEMBERS = 100_000
MAX_DURATION_SAMPLES = 10_000
MAX_ROLLOUT_SECONDS = 366 * 24 * 3600
PERCENT_PATTERN = r"^\s*\d+(?:\.\d+)?\s*%\s*$"

CountOrPercent = StrictInt | Annotated[str, Field(pattern=PERCENT_PATTERN)]


def _percent_value(value: str) -> Fraction:
    return Fraction(value.strip().rstrip("%").strip())


def _wave_size(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"a wave needs at least 1 member (got {value})")
    elif not 0 < _percent_value(value) <= 100:
        raise ValueError(f"a wave's percentage must be above 0% and at most 100% (got {value.strip()})")
    return value


def _error_budget(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"the error budget cannot be negative (got {value})")
    elif _percent_value(value) > 100:
        raise ValueError(f"the error budget cannot exceed 100% (got {value.strip()})")
    return value


WaveSize = Annotated[CountOrPercent, AfterValidator(_wave_size)]
ErrorBudget = Annotated[CountOrPercent, AfterValidator(_error_budget)]


class RolloutMember(Contract):
    """One target of a rollout: a DAG id, a task instance, a deployment, ..."""

    model_config = ConfigDict(extra="ignore")

    id: RequiredId = Field(description="Unique within the rollout.")
    criticality: StrictInt = Field(
        default=1,
        description="Higher = more critical. The canary and early waves take the least critical "
        "members first, ties broken by id.",
    )
    task: IdText | None = Field(
        default=None,
        description="Key of `duration_history` to use when the member's own id has no history "
        "(e.g. 'dag_id.task_id' shared by many runs).",
    )
    seconds: float | None = Field(
        default=None,
        ge=0,
        le=MAX_ROLLOUT_SECONDS,
        description="This member's own duration estimate; wins over everything else.",
    )
    p50_seconds: float | None = Field(
        default=None,
        ge=0,
        le=MAX_ROLLOUT_SECONDS,
        description="Median duration already computed by the caller; used when `duration_percentile` is p50, "
        "and (noted) for p90 when neither p90_seconds nor a history is known.",
    )
    p90_seconds: float | None = Field(
        default=None,
        ge=0,
        le=MAX_ROLLOUT_SECONDS,
        description="90th percentile duration already computed by the caller; used when `duration_percentile` is "
        "p90, and (noted) for p50 when neither p50_seconds nor a history is known.",
    )


class GateAction(str, Enum):
    """What happens at the gate after a wave."""

    CONTINUE = "continue"  # start the next wave after the bake time
    PAUSE = "pause"  # wait for a person to continue or abort
    ABORT = "abort"  # stop the rollout here


class WaveGate(Contract):
    """The gate after a wave. Failures beyond the error budget always abort, whatever this says."""

    on_success: GateAction = Field(
        default=GateAction.CONTINUE, description="After a wave with no failed member: continue or pause (not abort)."
    )
    on_failures: GateAction = Field(
        default=GateAction.CONTINUE,
        description="After a wave with failed members still within the cumulative budget: continue, pause or abort.",
    )

    @field_validator("on_success")
    @classmethod
    def _no_abort_on_success(cls, value: GateAction) -> GateAction:
        if value is GateAction.ABORT:
            raise ValueError("a wave without failures continues or pauses; it cannot abort")
        return value


class ApprovalPoint(str, Enum):
    """Where a person must approve before the rollout goes on. An empty list means none."""

    BEFORE_FIRST_WAVE = "before_first_wave"
    BEFORE_PROMOTION = "before_promotion"  # after the canary (wave 0), before wave 1


class RiskLevel(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Weekday(str, Enum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class MaintenanceWindow(Contract):
    """A time a rollout may run in: once (`start`/`end`) or daily (`daily_start`/`daily_end`,
    "HH:MM" in `timezone`, on `days`; an end at or before the start ends the next day).

    `cutoff_seconds` is SSM's Cutoff: no wave starts unless it can finish `cutoff_seconds` before
    the window ends (a wave that cannot finish before the cutoff does not start; it waits for
    the next window)."""

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    daily_start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    daily_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    days: list[Weekday] = Field(default_factory=list, description="Days a daily window opens on; empty = every day.")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone of daily_start/daily_end.")
    cutoff_seconds: int = Field(default=0, ge=0, le=MAX_ROLLOUT_SECONDS)

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindow:
        once = self.start is not None or self.end is not None
        daily = self.daily_start is not None or self.daily_end is not None
        if once == daily:
            raise ValueError(
                "a window needs either start and end, or daily_start and daily_end (not both, not neither)"
            )
        if once:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if self.end <= self.start:
                raise ValueError("the window ends at or before it starts")
            if self.days:
                raise ValueError("days apply to daily windows only")
            length = (self.end - self.start).total_seconds()
        else:
            if self.daily_start is None or self.daily_end is None:
                raise ValueError("a daily window needs both daily_start and daily_end")
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {self.timezone!r}") from None
            opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in (self.daily_start, self.daily_end))
            length = ((closes - opens) % (24 * 60) or 24 * 60) * 60
        if self.cutoff_seconds >= length:
            raise ValueError(f"the cutoff ({self.cutoff_seconds} s) leaves no time in the window")
        return self


class RolloutSpec(Contract):
    """What a user, the CLI or another stage asks for. Semantics are fixed by the CLI contract;
    keys this model does not know are ignored (the contract allows extra keys) and named in
    the plan's notes."""

    model_config = ConfigDict(extra="ignore")

    members: list[RolloutMember] = Field(max_length=MAX_ROLLOUT_MEMBERS, description="At least one; ids unique.")
    waves: list[WaveSize] = Field(
        min_length=1,
        max_length=1_000,
        description='Wave sizes as Ansible\'s `serial`: an integer is a count, "P%" is P percent of all members '
        "rounded down with a minimum of 1; one entry per wave, the last entry repeats until every member is "
        "placed, the final wave takes what is left.",
    )
    max_errors: ErrorBudget = Field(
        default=0,
        description='Error budget (SSM MaxErrors, Ansible max_fail_percentage): a count or "P%" of all '
        "members rounded down. Cumulative across waves; the rollout stops as soon as failures STRICTLY exceed it.",
    )
    max_concurrency: StrictInt = Field(default=1, ge=1, description="Members running at once inside a wave.")
    bake_seconds: float = Field(default=0, ge=0, le=MAX_ROLLOUT_SECONDS, description="Wait between consecutive waves.")
    member_seconds: float | None = Field(
        default=None,
        ge=0,
        le=MAX_ROLLOUT_SECONDS,
        description="Duration of one member when neither its own `seconds` nor a duration history is known.",
    )
    duration_history: dict[str, list[Annotated[float, Field(ge=0, le=MAX_ROLLOUT_SECONDS)]]] = Field(
        default_factory=dict,
        description="Past durations in seconds, keyed by member id or by a member's `task`; the estimate is "
        "the `duration_percentile` (nearest rank) of those samples.",
    )
    duration_percentile: Literal["p50", "p90"] = Field(
        default="p90",
        description="Which estimate of a history feeds the wave durations (p90: windows are cut conservatively).",
    )
    gates: list[WaveGate] = Field(
        default_factory=lambda: [WaveGate()],
        min_length=1,
        max_length=1_000,
        description="The gate after each wave, one entry per wave; the last entry repeats.",
    )
    approval_points: list[ApprovalPoint] = Field(default_factory=list, description="Empty: no approval needed.")
    windows: list[MaintenanceWindow] = Field(default_factory=list, max_length=100, description="Empty: any time.")
    start_at: AwareDatetime | None = Field(default=None, description="Earliest start; default: when planned.")
    deadline: AwareDatetime | None = Field(default=None, description="The last wave must end by then.")
    policy_max_failures: StrictInt | None = Field(
        default=None, ge=0, description="A plan whose worst_case_failures exceeds this is invalid."
    )
    risk_level: RiskLevel | None = None
    rationale: Annotated[str, Bounded(8_000)] = ""
    assumptions: list[Annotated[str, Bounded(2_000)]] = Field(default_factory=list, max_length=100)
    subject: IdText | None = Field(
        default=None, description="What the rollout delivers: an incident id (recovery), a finding id (upgrade), ..."
    )

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[RolloutMember]) -> list[RolloutMember]:
        if not value:
            raise ValueError("the spec has no members: there is nothing to roll out")
        twice = sorted(member_id for member_id, n in Counter(m.id for m in value).items() if n > 1)
        if twice:
            raise ValueError(
                f"member ids must be unique; repeated: {', '.join(twice[:5])}{', ...' if len(twice) > 5 else ''}"
            )
        return value

    @model_validator(mode="after")
    def _deadline_after_start(self) -> RolloutSpec:
        if self.deadline is not None and self.start_at is not None and self.deadline <= self.start_at:
            raise ValueError(
                f"the deadline {self.deadline.isoformat()} is not after start_at {self.start_at.isoformat()}"
            )
        return self


class RolloutWave(Contract):
    """One wave of a plan, with its members named (never a count)."""

    index: int = Field(ge=0)
    members: list[str] = Field(min_length=1)
    seconds: int = Field(
        default=0, ge=0, description="Estimated duration: members through max_concurrency slots, in order."
    )
    gate: WaveGate = Field(default_factory=WaveGate)
    approval_before: bool = Field(
        default=False,
        description="A person must approve before this wave starts: an approval point, or the "
        "first wave scheduled outside the maintenance windows (the out-of-window approval).",
    )


class ScheduledWave(Contract):
    """When a wave runs against the maintenance windows (assuming approvals answered at once)."""

    index: int = Field(ge=0)
    start: datetime
    end: datetime
    window: int | None = Field(
        default=None, description="Index into spec.windows; None when there are no windows or out of window."
    )
    out_of_window: bool = False


class PlanAuthor(Contract):
    """Who produced a plan version's waves: the deterministic planner or a model (whose proposal
    was kept only because the edited plan validated)."""

    kind: Literal["deterministic", "model"] = "deterministic"
    backend: str | None = None
    model: str | None = None
    prompt_version: str | None = None


class MoveMember(Contract):
    op: Literal["move_member"] = "move_member"
    member: str
    to_wave: int = Field(ge=0, description="A wave index; the current number of waves appends a new last wave.")


class ResizeWave(Contract):
    op: Literal["resize_wave"] = "resize_wave"
    wave: int = Field(ge=0)
    size: StrictInt = Field(ge=1, description="Members move to or from the next wave, keeping their order.")


class SetMaxErrors(Contract):
    op: Literal["set_max_errors"] = "set_max_errors"
    max_errors: ErrorBudget


class SetMaxConcurrency(Contract):
    op: Literal["set_max_concurrency"] = "set_max_concurrency"
    max_concurrency: StrictInt = Field(ge=1)


class SetBake(Contract):
    op: Literal["set_bake"] = "set_bake"
    bake_seconds: float = Field(ge=0, le=MAX_ROLLOUT_SECONDS)


class SetApprovalPoints(Contract):
    op: Literal["set_approval_points"] = "set_approval_points"
    approval_points: list[ApprovalPoint]


PlanEdit = Annotated[
    MoveMember | ResizeWave | SetMaxErrors | SetMaxConcurrency | SetBake | SetApprovalPoints,
    Field(discriminator="op"),
]


class RolloutPlan(Contract):
    """The validated result. `valid` false means: `waves` is empty and `problems` says why, one
    sentence each; an invalid plan can never be executed. Figures are null when the spec itself
    could not be read."""

    valid: bool
    problems: list[str] = Field(default_factory=list)
    waves: list[RolloutWave] = Field(default_factory=list)
    max_errors: int | None = Field(default=None, description="The budget as a count: stop when failures > this.")
    worst_case_failures: int | None = Field(
        default=None,
        description="max_errors + max_concurrency, capped at the member count: failures possible before a stop is seen.",
    )
    min_duration_seconds: int | None = Field(
        default=None,
        description="Sum over waves of their durations (ceil(size / max_concurrency) x member_seconds "
        "when uniform) plus bake_seconds between consecutive waves; no failure, no waiting for a window.",
    )
    max_concurrency: int | None = None
    bake_seconds: float | None = None
    policy_max_failures: int | None = Field(
        default=None,
        description="The limit worst_case_failures was checked against (the stricter of the setting and the spec).",
    )
    member_seconds: dict[str, int] = Field(default_factory=dict, description="Estimate used per member.")
    schedule: list[ScheduledWave] = Field(default_factory=list)
    start_at: datetime | None = None
    finish_at: datetime | None = None
    deadline: datetime | None = None
    needs_out_of_window_approval: bool = False
    out_of_window_reason: str | None = None
    approval_points: list[ApprovalPoint] = Field(default_factory=list)
    risk_level: RiskLevel | None = None
    rationale: str = ""
    assumptions: list[str] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What the planner or a model attempt wants a reader to know."
    )
    generated_by: PlanAuthor = Field(default_factory=PlanAuthor)
    plan_id: str | None = Field(
        default=None,
        max_length=limits.MAX_ID_CHARS,
        description="Assigned by whoever stores the plan; every version keeps it.",
    )
    version: int = Field(default=1, ge=1)
    parent_version: int | None = None
    edited_by: str | None = None
    edits: list[PlanEdit] = Field(default_factory=list, description="The edits that made this version from its parent.")
    created_at: datetime = Field(default_factory=utcnow)
    spec: RolloutSpec | None = Field(default=None, description="The spec as read; edits change it and re-validate.")

    def contract_dict(self) -> dict[str, Any]:
        """`patchit rollout plan --json`: the contract's keys first, extras after."""
        data = self.model_dump(mode="json", exclude={"spec"})
        head = ["valid", "problems", "waves", "max_errors", "worst_case_failures", "min_duration_seconds"]
        return {key: data[key] for key in head} | {k: v for k, v in data.items() if k not in head}


# ---------------------------------------------------------------------------------------------
# Rollout runs (issue 12): the record of executing a plan, wave by wave, member by member. The
# KPIs (engine/rollout/kpis.py) are computed from these records only. A recovery member is one
# failed task instance; its id is "dag_id/run_id/task_id/map_index".
# ---------------------------------------------------------------------------------------------


class RolloutState(str, Enum):
    PLANNED = "planned"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    ABORTED = "aborted"
    ESCALATED = "escalated"


ROLLOUT_FINAL_STATES = frozenset({RolloutState.SUCCEEDED, RolloutState.ABORTED, RolloutState.ESCALATED})


class MemberResult(str, Enum):
    """How one member's re-run ended. Only SUCCEEDED (on the fixed DAG version) is a success."""

    SUCCEEDED = "succeeded"
    FAILED_SAME_FINGERPRINT = "failed_same_fingerprint"  # the fix did not work: abort at once
    FAILED_NEW_FINGERPRINT = "failed_new_fingerprint"  # another failure: a new incident
    INCONCLUSIVE = "inconclusive"  # skipped, upstream_failed, an old DAG version, no end state in time
    FAILED = "failed"  # an upgrade member: the DAG's next run after the deployment failed


class RecoveryMember(Contract):
    """A failed task instance to re-run."""

    dag_id: RequiredId
    run_id: RequiredId
    task_id: RequiredId
    map_index: int = Field(default=-1, ge=-1, le=limits.INT32_MAX)

    @property
    def member_id(self) -> str:
        return f"{self.dag_id}/{self.run_id}/{self.task_id}/{self.map_index}"


class MemberRecord(Contract):
    member: str = Field(description="The member id (RecoveryMember.member_id).")
    result: MemberResult | None = Field(default=None, description="None while the re-run is in flight.")
    reason: str = ""
    try_before: int | None = Field(default=None, description="The TI's try number when it was cleared.")
    try_number: int | None = Field(default=None, description="The try that ended the re-run.")
    state: str | None = Field(default=None, description="The TI's final Airflow state.")
    dag_version: int | None = Field(default=None, description="version_number of the DAG the re-run ran on.")
    fingerprint: str | None = None
    handed_to: str | None = Field(
        default=None, description="Where a new failure went: the receive path's reference (a remediation DAG run id)."
    )
    cleared_at: datetime | None = None
    finished_at: datetime | None = None
    action: Literal["clear", "trigger", "next_run"] = Field(
        default="clear",
        description="What the wave did to the member: clear its failed task instance (recovery), trigger a run "
        "of the member DAG on the upgraded code, or wait for its next run after the deployment (upgrade).",
    )
    deployed_at: datetime | None = Field(
        default=None, description="Upgrade: when the wave recorded the upgrade as deployed to this DAG."
    )
    run_id: str | None = Field(default=None, description="Upgrade: the DAG run the gate judged.")
    bundle_version: str | None = Field(default=None, description="Upgrade: that run's bundle version, when versioned.")


class WaveRecord(Contract):
    index: int = Field(ge=0)
    members: list[str] = Field(default_factory=list)
    results: list[MemberRecord] = Field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    gate: GateAction | None = Field(default=None, description="What the gate after this wave decided.")

    def result_of(self, member: str) -> MemberRecord | None:
        return next((r for r in self.results if r.member == member), None)


class UpgradeTarget(Contract):
    """What an upgrade rollout deploys: a finding's validated requirements patch, published on a
    branch, and how a wave deploys it to its member DAGs (engine/rollout/execute.py):
    `trigger` starts one run of each member DAG (the run the gate judges), `next_run` starts
    nothing and judges the DAG's first run after the wave recorded the deployment."""

    finding_id: RequiredId
    package: str
    from_version: str
    to_version: str
    branch: str | None = None
    commit: str | None = None
    deploy: Literal["trigger", "next_run"] = "trigger"


class RolloutRun(Contract):
    """One execution of one plan version. Its conf in Airflow is only `rollout_id`."""

    rollout_id: RequiredId
    kind: Literal["recovery", "upgrade"] = "recovery"
    subject: RequiredId = Field(description="The incident id (recovery) or finding id (upgrade).")
    fingerprint: str | None = Field(default=None, description="The failure a recovery must not meet again.")
    plan: RolloutPlan
    plan_id: str | None = None
    plan_version: int = 1
    targets: dict[str, RecoveryMember] = Field(default_factory=dict, description="Member id -> its task instance.")
    upgrade: UpgradeTarget | None = Field(default=None, description="An upgrade rollout's patch; members are DAG ids.")
    failed_versions: dict[str, int] = Field(
        default_factory=dict, description="dag_id -> the newest DAG version_number the members failed on."
    )
    transient: bool = Field(
        default=False,
        description="The cause was transient: re-runs may use the version that failed (no fix needed).",
    )
    fixed_versions: dict[str, int] = Field(
        default_factory=dict, description="dag_id -> the DAG version_number re-runs must run on (the latest at start)."
    )
    state: RolloutState = RolloutState.PLANNED
    reason: str = Field(default="", description="Why the rollout is paused, aborted or escalated.")
    failures: int = Field(default=0, ge=0, description="Failed and inconclusive members, cumulative.")
    waves: list[WaveRecord] = Field(default_factory=list)
    approved_by: dict[str, str] = Field(
        default_factory=dict, description="Approval point (before_first_wave, before_promotion) -> who approved."
    )
    plan_history: list[RolloutPlan] = Field(
        default_factory=list,
        description="Earlier versions of `plan`, oldest first (an edit keeps the version it replaced).",
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


# ---------------------------------------------------------------------------------------------
# Vulnerable dependencies (issue 13): advisories read from OSV records, the findings of
# `patchit vulns scan` (../shared/cli-contract.md) and what was skipped or refused, with why.
# ---------------------------------------------------------------------------------------------

VulnSeverity = Literal["critical", "high", "medium", "low", "none", "unknown"]


class CvssScore(Contract):
    """A CVSS base score computed from its vector (never copied from a record)."""

    version: Literal["3.0", "3.1", "4.0"]
    vector: str
    base_score: float = Field(ge=0, le=10)


class Advisory(Contract):
    """One OSV record as it applies to one PyPI package (names PEP 503 normalized)."""

    id: str
    aliases: list[str] = Field(default_factory=list)
    package: str = Field(description="PEP 503 normalized distribution name.")
    summary: str = ""
    cvss_v3: CvssScore | None = None
    cvss_v4: CvssScore | None = None
    database_severity: str | None = Field(default=None, description="database_specific.severity, e.g. MODERATE.")
    fixed: list[str] = Field(default_factory=list, description="Versions named as `fixed` in its ECOSYSTEM ranges.")
    references: list[str] = Field(default_factory=list)
    source: str = Field(default="", description="The record's file, relative to the OSV folder.")


class VulnDag(Contract):
    """A DAG file that imports a vulnerable package (blast radius)."""

    path: str = Field(description="Repository-relative POSIX path.")
    dag_ids: list[str] = Field(default_factory=list)
    criticality: int = 1
    criticality_from: str = Field(default="default", description="'map', 'tags', 'sla' or 'default'.")
    imports: list[str] = Field(
        default_factory=list, description="The modules it imports from the package, with their lines."
    )


class VulnFinding(Contract):
    """One vulnerable pinned package; the first keys are the contract's."""

    package: str
    version: str
    advisories: list[str]
    aliases: list[str] = Field(default_factory=list)
    vector: str | None = None
    base_score: float | None = None
    severity: VulnSeverity = "unknown"
    fixed_version: str | None = None
    action: Literal["upgrade", "accept_or_mitigate"]
    deadline: str = Field(
        description="ISO date: remediate by (upgrade) or the acceptance expires (accept_or_mitigate)."
    )
    dags: list[str] = Field(default_factory=list)
    severity_source: Literal["cvss_v4", "cvss_v3", "database", "none"] = "none"
    scores: list[CvssScore] = Field(default_factory=list, description="Every CVSS score of the applying advisories.")
    requirement: str = Field(default="", description="file:line of the pin.")
    fix_reason: str = ""
    dag_details: list[VulnDag] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)


class VulnSkip(Contract):
    """Something not scanned, with the reason: a requirement line, an OSV record or part of it."""

    item: str
    reason: str
    kind: Literal["requirement", "record", "refused", "report"] = "requirement"


class VulnScan(Contract):
    findings: list[VulnFinding] = Field(default_factory=list)
    skipped: list[VulnSkip] = Field(default_factory=list)
    scanned: int = Field(default=0, description="Pinned requirements checked.")
    advisories_read: int = 0

    def contract_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# A finding's life in PATCHIT's store (engine/store/vulns.py): open -> patch_validated ->
# published -> rollout_planned -> fixed; a finding without a fixed version is
# accepted_or_mitigated until `expires` (escalated to a person, never rolled out).
VulnState = Literal["open", "patch_validated", "published", "rollout_planned", "accepted_or_mitigated", "fixed"]


class VulnRecord(Contract):
    """One finding as PATCHIT keeps it: state, links to its patch (branch) and rollout plan."""

    finding_id: RequiredId = Field(description="vf-<hash of repository, package, version, advisories>.")
    repo: str = Field(default="", description="The pipeline repository the finding is about (a path).")
    finding: VulnFinding
    state: VulnState = "open"
    expires: str | None = Field(default=None, description="ISO date the acceptance of a finding without a fix expires.")
    escalation: str = Field(
        default="", description="What a person must do, and why (no fix, hashes to regenerate, ...)."
    )
    branch: str | None = None
    commit: str | None = None
    patch_url: str | None = Field(default=None, description="The pull request or branch URL, when published there.")
    patch_diff: str = Field(default="", description="The validated requirements patch (unified diff).")
    validation: ValidationResult | None = None
    rollout_plan: RolloutPlan | None = None
    rollout_id: str | None = Field(default=None, description="The rollout run executing the plan, once started.")
    incident_id: str | None = Field(
        default=None,
        description="The escalated incident opened (and notified) for the finding: no fix (accept or mitigate), "
        "or its upgrade rollout halted.",
    )
    source: str = Field(default="", description="'scan', 'pip-audit:<report>' or 'ingest:<caller>'.")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PipAuditVuln(Contract):
    """One vulnerability of a `pip-audit -f json` dependency (pip-audit carries no severity)."""

    id: Annotated[str, Bounded(200, 1)]
    fix_versions: Annotated[list[Annotated[str, Bounded(100, 1)]], AtMost(100)] = Field(default_factory=list)
    aliases: Annotated[list[Annotated[str, Bounded(200, 1)]], AtMost(100)] = Field(default_factory=list)
    description: Annotated[str, Bounded(20_000)] = ""


class PipAuditDependency(Contract):
    name: Annotated[str, Bounded(250, 1)]
    version: Annotated[str, Bounded(100, 1)] | None = None
    vulns: Annotated[list[PipAuditVuln], AtMost(1000)] = Field(default_factory=list)
    skip_reason: Annotated[str, Bounded(2000)] | None = None


class PipAuditFix(Contract):
    name: Annotated[str, Bounded(250, 1)]
    old_version: Annotated[str, Bounded(100)] | None = None
    new_version: Annotated[str, Bounded(100)] | None = None
    skip_reason: Annotated[str, Bounded(2000)] | None = None


class PipAuditReport(Contract):
    dependencies: Annotated[list[PipAuditDependency], AtMost(20_000)]
    fixes: Annotated[list[PipAuditFix], AtMost(20_000)] = Field(default_factory=list)


class VulnIngest(Contract):
    """`POST /patchit/vulns/ingest`: a pip-audit report of one repository of `repo_map`."""

    repository: Annotated[str, Bounded(limits.MAX_PATH_CHARS, 1)] = Field(
        description="A repository path of [patchit] repo_map."
    )
    requirements: Annotated[str, Bounded(limits.MAX_PATH_CHARS, 1)] | None = Field(
        default=None,
        description="The audited requirements file, relative to the repository: its other constraints bound the fix.",
    )
    report: PipAuditReport


# ---------------------------------------------------------------------------------------------
# Stage contracts: one input and one output per remediation stage (engine/stages/<stage>.py,
# `run(inp, ctx) -> out`). Every output says what the orchestrator (engine/pipeline.py) records:
# the state to advance to, the outcome, audit events, artifacts, the notification moment
# (an engine.notify.Moment value) and whether to (re)write the RCA.
# ---------------------------------------------------------------------------------------------


class AuditNote(Contract):
    """An audit event a stage asks the orchestrator to append (the incident id is the orchestrator's)."""

    kind: str
    message: str = ""
    actor: str = "patchit"
    data: dict[str, Any] = Field(default_factory=dict)


class ArtifactNote(Contract):
    name: str
    content: str
    media_type: str = "text/plain"


class StageOutput(Contract):
    state: IncidentState | None = Field(
        default=None, description="Where the incident goes; None: it stays where it is."
    )
    outcome: Outcome | None = None
    audit: list[AuditNote] = Field(default_factory=list)
    artifacts: list[ArtifactNote] = Field(default_factory=list)
    moment: str | None = Field(default=None, description="An engine.notify.Moment value to notify after saving.")
    moment_detail: str = ""
    write_rca: bool = False


MAX_REASON_CHARS = 500


class Requester(Contract):
    """Who asked for a remediation run: its run id, the user who triggered it (Airflow's
    `triggering_user_name`) and the reason they gave (the run's optional `reason` param)."""

    run_id: str | None = Field(default=None, max_length=limits.MAX_ID_CHARS)
    user: str | None = Field(default=None, max_length=limits.MAX_ID_CHARS)
    reason: str = ""

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())[:MAX_REASON_CHARS]


class ReceiveInput(Contract):
    event: FailureEvent
    requester: Requester | None = Field(
        default=None, description="The run that asked; None when the event arrives outside a run (capture, ingest)."
    )


class ReceiveOutput(StageOutput):
    incident: Incident
    created: bool = Field(
        description="This call opened the incident (of concurrent deliveries of one event exactly one)."
    )


class EvidenceInput(Contract):
    incident_id: str
    event: FailureEvent


class EvidenceOutput(StageOutput):
    evidence: Evidence
    workspace: Workspace


class TriageInput(Contract):
    incident_id: str
    evidence: Evidence


class TriageOutput(StageOutput):
    triage: Triage


class ReadInput(Contract):
    incident_id: str
    evidence: Evidence
    triage: Triage


class ReadOutput(StageOutput):
    triage: Triage | None = Field(
        default=None, description="The triage with the model's reading; None: the model gave none."
    )


class ProposeInput(Contract):
    incident_id: str
    evidence: Evidence
    triage: Triage
    workspace: Workspace


class ProposeOutput(StageOutput):
    candidates: list[PatchProposal] = Field(
        default_factory=list, description="Empty: the incident is closed without a patch."
    )


class ValidateInput(Contract):
    incident_id: str
    event: FailureEvent
    triage: Triage
    workspace: Workspace
    candidates: list[PatchProposal] = Field(min_length=1)
    replay_inputs: ReplayInputs | None = Field(
        default=None, description="The failed try's XComs and rendered fields, for the replay (evidence's artifact)."
    )


class ValidateOutput(StageOutput):
    patch: PatchProposal
    validation: ValidationResult


class ApproveInput(Contract):
    incident_id: str
    state: IncidentState
    has_patch: bool
    confidence: float | None = None
    approval_reason: str | None = Field(
        default=None, description="ValidationResult.approval_reason: forces a person whatever the setting."
    )
    read_by_model: bool = Field(
        default=False, description="The category rests on a model's reading (stage `read`): forces a person."
    )


class ApproveOutput(StageOutput):
    required: bool
    reason: str = ""


class PublishInput(Contract):
    incident: Incident = Field(description="The incident the publication is for (its description and branch name).")
    patch: PatchProposal
    workspace: Workspace
    mode: str
    comment_only: bool = Field(
        default=False, description="The same cause again: comment on the open PR, publish nothing new."
    )


class PublishOutput(StageOutput):
    publication: Publication


# -- store queries ------------------------------------------------------------------------------
# The one declaration of the incident filter fields: the UI, the JSON API, the CLI and the
# benchmarks build this model; the store turns it into SQL (engine/store/queries.py).

MAX_PAGE = 10_000  # rows one store query returns at most: a caller pages beyond it


class IncidentFilter(Contract):
    """Which incidents a listing, a count or the overview covers; None means "any"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: IncidentState | None = Field(default=None, description="Without a state, grouped incidents are left out.")
    category: Category | None = None
    pipeline_id: str | None = Field(default=None, max_length=250, description="DAG / pipeline id.")
    platform: Platform | None = None
    since: AwareDatetime | None = Field(default=None, description="Created at or after (inclusive).")
    until: AwareDatetime | None = Field(default=None, description="Created before (exclusive).")
    search: str | None = Field(
        default=None,
        max_length=200,
        description="A fingerprint prefix, or text (any case) in the incident id, pipeline, task or summary.",
    )


class Visibility(Contract):
    """What the caller may read: the DAG ids of Airflow incidents (None: every DAG) and whether
    incidents of other platforms (which have no DAG of their own) are included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dag_ids: frozenset[str] | None = None
    external: bool = True

    def allows(self, incident: Incident) -> bool:
        event = incident.event
        if event.platform is Platform.AIRFLOW:
            return self.dag_ids is None or event.pipeline_id in self.dag_ids
        return self.external


EVERYTHING = Visibility()  # the CLI, the engine and tests: no scoping
