"""PATCHIT's settings: one model, one source for every default.

The Airflow adapter fills it from the `[patchit]` config section (whose documented defaults in
provider info are generated from this model) once per process (`patchit_provider.config.
load_settings`); the CLI fills it from PATCHIT_* environment variables. Nothing else reads
configuration, and the engine never makes up settings: its callers pass them.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class PatchitSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    watch: Literal["all", "tagged", "none"] = Field(
        "all",
        description="Which DAGs the failure listener watches: 'all', 'tagged' (DAGs carrying "
        "`watch_tag`) or 'none' (only DAGs that use PatchitNotifier).",
    )
    watch_tag: str = Field("patchit", description="The DAG tag that opts a DAG in when watch = tagged.")
    ignore_dags: list[str] = Field(
        default_factory=list,
        description="Comma-separated DAG ids the listener never captures (PATCHIT's own DAGs are always ignored).",
    )
    store_conn_id: str = Field(
        "",
        description="Airflow connection of the incident store (postgres). Empty: SQLite at "
        "`store_path`, which every process on this host reaches.",
    )
    store_path: str = Field(
        "",
        description="SQLite file of the embedded store. Empty: {AIRFLOW_HOME}/patchit/patchit.db.",
    )
    store_url: str = Field(
        "",
        description="SQLAlchemy URL of the incident store (sqlite:///... or postgresql://...); wins over "
        "`store_conn_id` and `store_path`. The CLI's PATCHIT_STORE_URL. Empty: `store_conn_id`, else `store_path`.",
    )
    api_conn_id: str = Field(
        "patchit_api",
        description="HTTP connection to the Airflow API server (login/password), used to trigger "
        "the remediation DAG when the task-SDK channel is not available and to fetch task logs.",
    )
    capture_timeout: float = Field(
        5.0, gt=0, le=60, description="Seconds capture may take at most inside a failing task."
    )
    repo_map: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object mapping DAG id (or fnmatch pattern) to a repository path, e.g. {"sales_*": "/srv/pipelines"}. '
        "Without a match, the git work tree holding the DAG file is used.",
    )
    publish_mode: Literal["branch", "mock_pr", "github", "none"] = Field(
        "branch",
        description="'branch': a local branch patchit/<fingerprint> with one commit; 'mock_pr': "
        "the branch plus a PR file under .mock_github/prs/; 'github': a draft pull request on GitHub "
        "through the `github_conn_id` connection; 'none': keep the patch in the store only.",
    )
    check_command: str = Field(
        "", description="Shell command run from the root of the patched copy; the patch is valid only if it exits 0."
    )
    validation_timeout: float = Field(300.0, gt=0, description="Seconds one validation check may take.")
    sandbox: Literal["auto", "required"] = Field(
        "auto",
        description="How validation runs patched code (DAG import, replay, dbt, the check command): always inside "
        "a bubblewrap sandbox. 'auto': without a working sandbox, nothing of the patch is executed, validation "
        "rests on static checks and a person must approve; 'required': without a sandbox, validation fails.",
    )
    sandbox_bwrap: str = Field("/usr/bin/bwrap", description="The bubblewrap executable (Debian package 'bubblewrap').")
    sandbox_env: list[str] = Field(
        default_factory=list,
        description="Comma-separated names of environment variables the pipeline's checks need inside the sandbox "
        "(besides PATH, LANG/LC_*, TZ, JAVA_HOME); names that look like credentials are never passed.",
    )
    sandbox_memory_mb: int = Field(
        4096, ge=64, description="Memory (MiB of data segment) one sandboxed process may use."
    )
    sandbox_max_processes: int = Field(
        512, ge=8, description="Processes and threads a sandboxed check may run at once."
    )
    log_tail_bytes: int = Field(262_144, gt=0, description="Bytes of a task log PATCHIT reads from its end.")
    github_conn_id: str = Field(
        "patchit_github",
        description="Connection (type patchit_github) used when publish_mode = github: host = API URL "
        "(empty: https://api.github.com; GitHub Enterprise: https://HOST/api/v3), password = token, "
        'extra = {"repository": "owner/name", "base_branch": "...", "labels": [...]}.',
    )
    llm_conn_id: str = Field(
        "patchit_llm",
        description="Connection (type patchit_llm) of the model asked for a patch when no deterministic "
        "fixer applies; when it does not exist (or this is empty) only deterministic fixes are made.",
    )
    triage_model_reading: bool = Field(
        True,
        description="When the catalogs classify a failure as unknown and a `patchit_llm` connection exists, "
        "the model is asked for a category, a remediation and the evidence line it rests on (stage `read`); "
        "the quoted line must be in the evidence, and the reading's confidence is 0.3.",
    )
    notify_conn_ids: list[str] = Field(
        default_factory=list,
        description="Comma-separated HTTP connection ids of the webhooks notified when an incident "
        "opens and at each outcome: host = the full webhook URL, extra = "
        '{"format": "slack"} (Slack incoming webhook, the default) or {"format": "json"} (generic JSON), '
        'optionally "incident_url" (link template with {incident_id}) and "timeout" (seconds). Empty: no notifications.',
    )
    notify_rate_limit: int = Field(
        10,
        ge=1,
        description="Messages one webhook receives at most per `notify_window_seconds`; "
        "beyond that, notifications are counted and reported by one summary message.",
    )
    notify_window_seconds: int = Field(
        300,
        ge=1,
        description="The sliding window (seconds) of `notify_rate_limit`, shared by every worker through the incident store.",
    )
    approval: Literal["always", "below_confidence", "never"] = Field(
        "never",
        description="When a validated patch waits for a person before publishing: 'always', "
        "'below_confidence' (when the triage confidence is below `approval_confidence`) or 'never'.",
    )
    approval_confidence: float = Field(
        0.9,
        ge=0,
        le=1,
        description="With approval = below_confidence: triage confidence below which approval is asked.",
    )
    replay_required: bool = Field(
        False,
        description="A validated patch whose failed callable could not be replayed (failing without the patch, "
        "passing with it in the sandbox) waits for a person's approval whatever `approval` says; "
        "false: such a patch is published on the other checks and shown as 'not replayed'.",
    )
    approval_timeout_hours: float = Field(
        72.0,
        gt=0,
        description="Hours an approval request waits for an answer; then the approval task fails and "
        "the patch is not published (there is no default answer: never auto-approved).",
    )
    ingest_uri_schemes: list[str] = Field(
        default_factory=lambda: ["s3", "gs", "https"],
        description="Comma-separated URI schemes the ingest API accepts in log_uri and artifact_uris "
        "(file:// and local paths never: events from other platforms cannot name files on this host).",
    )
    ingest_uri_hosts: list[str] = Field(
        default_factory=list,
        description="Comma-separated hosts (fnmatch patterns, e.g. *.s3.amazonaws.com) allowed in ingested "
        "URIs; empty: any host of the accepted schemes.",
    )
    vuln_deadline_critical_days: int = Field(
        15, ge=1, description="Days to remediate a vulnerable dependency of critical severity (CVSS 9.0-10.0)."
    )
    vuln_deadline_high_days: int = Field(30, ge=1, description="Days to remediate one of high severity (CVSS 7.0-8.9).")
    vuln_deadline_medium_days: int = Field(
        90, ge=1, description="Days to remediate one of medium severity (CVSS 4.0-6.9)."
    )
    vuln_deadline_low_days: int = Field(
        180,
        ge=1,
        description="Days to remediate one of low, none or unknown severity; also when an accepted finding without a fix expires.",
    )
    vuln_dag_criticality: dict[str, int] = Field(
        default_factory=dict,
        description='JSON object mapping DAG id or file glob to a criticality (higher = more critical), e.g. {"finance_*": 5}; '
        "wins over the DAG's tags (criticality:N, critical) and SLAs when ranking the DAGs a vulnerable package reaches.",
    )
    osv_dir: str = Field(
        "",
        description="Folder of OSV records (one JSON file per advisory, e.g. an unpacked OSV PyPI export) that "
        "pip-audit reports posted to /patchit/vulns/ingest are joined to; empty: the vulnerability ingest is refused (503).",
    )
    vuln_wheel_dir: str = Field(
        "",
        description="Folder of wheels (a local wheel cache, filled e.g. by `pip download` in CI) against which the "
        "`resolve` check resolves a patched requirements file inside the sandbox, which has no network; empty: the check "
        "cannot run and a requirements patch is not validated.",
    )

    @field_validator("ignore_dags", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("notify_conn_ids", mode="before")
    @classmethod
    def _split_notify_csv(cls, value: Any) -> Any:
        return cls._split_csv(value)

    @field_validator("sandbox_env", mode="before")
    @classmethod
    def _split_sandbox_env(cls, value: Any) -> Any:
        return cls._split_csv(value)

    @field_validator("ingest_uri_schemes", "ingest_uri_hosts", mode="before")
    @classmethod
    def _split_lower_csv(cls, value: Any) -> Any:
        value = cls._split_csv(value)
        return [str(v).lower() for v in value] if isinstance(value, list) else value

    @field_validator("repo_map", "vuln_dag_criticality", mode="before")
    @classmethod
    def _parse_json(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{info.field_name} must be a JSON object: {exc}") from exc
        return value

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "PatchitSettings":
        """Build from raw strings (Airflow config or environment), ignoring empty values."""
        return cls.model_validate({k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "PatchitSettings":
        """PATCHIT_<OPTION> or AIRFLOW__PATCHIT__<OPTION>, for the CLI outside Airflow."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            for key in (f"PATCHIT_{name.upper()}", f"AIRFLOW__PATCHIT__{name.upper()}"):
                if key in env:
                    values[name] = env[key]
                    break
        return cls.from_mapping(values)


def resolve_store_url(settings: PatchitSettings, *, airflow_home: str | os.PathLike[str] | None = None) -> str:
    """The one resolver of the store's URL from settings: `store_url`, else the SQLite file
    `store_path`, else {AIRFLOW_HOME}/patchit/patchit.db (AIRFLOW_HOME as Airflow reads it:
    the environment, else ~/airflow). A `store_conn_id` is the Airflow adapter's to turn into
    `store_url` (PatchitStoreHook), before it calls this."""
    from patchit_provider.engine.store.engine import default_sqlite_url

    if settings.store_url.strip():
        return settings.store_url.strip()
    if settings.store_path.strip():
        return "sqlite:///" + os.path.abspath(os.path.expanduser(settings.store_path.strip()))
    home = airflow_home or os.environ.get("AIRFLOW_HOME") or "~/airflow"
    return default_sqlite_url(os.path.expanduser(str(home)))


def config_section() -> dict[str, Any]:
    """The `[patchit]` section for provider info, generated from the model's fields."""
    options: dict[str, Any] = {}
    for name, field in PatchitSettings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, dict):
            text = json.dumps(default) if default else ""
        elif isinstance(default, list):
            text = ",".join(default)
        else:
            text = str(default)
        kind = {bool: "boolean", int: "integer", float: "float"}.get(type(default), "string")
        options[name] = {
            "description": field.description or "",
            "version_added": "0.1.0",
            "type": kind,
            "example": None,
            "default": text,
        }
    return {
        "patchit": {
            "description": "PATCHIT failure capture, incident store and remediation.",
            "options": options,
        }
    }
