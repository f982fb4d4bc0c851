"""The `patchit` console script: the engine from a shell, with no Airflow deployment needed.

`triage`, `remediate`, `rollout plan` and `vulns scan` are a machine-readable contract
(../shared/cli-contract.md); the other subcommands read the incident store for people.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Sequence

from patchit_provider.engine.errors import PatchitError
from patchit_provider.engine.models import FailureEvent, Incident, Outcome, Platform, RemediationResult
from patchit_provider.engine.settings import PatchitSettings

CLI_PIPELINE = "cli"


class CliError(PatchitError):
    """A problem with the command's input: printed as one clear line, exit status 2."""


def _cli_event(log: str, scratch: Path) -> FailureEvent:
    """An event whose log the engine streams from a file; standard input is spooled to one
    first, so a log of any size is read the same bounded way."""
    if log == "-":
        path = scratch / "stdin.log"
        with path.open("wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
    else:
        path = Path(log).resolve()
        if not path.is_file():
            raise CliError(f"log file not found: {log}")
    return FailureEvent(platform=Platform.GENERIC, pipeline_id=CLI_PIPELINE, run_id="cli", log_uri=str(path))


def _repo_dir(repo: str | None) -> Path | None:
    if repo is None:
        return None
    path = Path(repo).resolve()
    if not path.is_dir():
        raise CliError(f"--repo is not a directory: {repo}")
    return path


def _settings(repo: Path | None, check: str | None = None) -> PatchitSettings:
    settings = PatchitSettings.from_env()
    update: dict[str, Any] = {"repo_map": {CLI_PIPELINE: str(repo)} if repo else {}, "publish_mode": "none"}
    if check is not None:
        update["check_command"] = check
    return settings.model_copy(update=update)


def cmd_triage(args: argparse.Namespace) -> int:
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.triage import triage

    repo = _repo_dir(args.repo)
    with tempfile.TemporaryDirectory(prefix="patchit-cli-") as scratch:
        event = _cli_event(args.log, Path(scratch))
        result = triage(collect_evidence(event, repo, _settings(repo)))
    if args.json:
        _print_json(result.contract_dict())
    else:
        culprit = f"{result.culprit.path}:{result.culprit.line or '?'}" if result.culprit else "-"
        print(f"{result.category.value} -> {result.remediation.value} (confidence {result.confidence:.2f})")
        print(f"  {result.summary}")
        print(f"  culprit: {culprit}   fingerprint: {result.fingerprint}")
        if result.next_step:
            print(f"  next step: {result.next_step}")
    return 0


def remediation_result(incident: Incident) -> RemediationResult:
    """The contract's view of an incident that went through every stage."""
    assert incident.triage is not None
    outcome = incident.outcome or Outcome.NO_PATCH
    patch = None
    if incident.patch is not None:
        validated = outcome is Outcome.PATCH_VALIDATED
        patch = {"diff": incident.patch.diff if validated else None, "files": incident.patch.files}
    return RemediationResult(triage=incident.triage, outcome=outcome, patch=patch, validation=incident.validation)


# `remediate`'s model, named by flags or these variables; the API key only ever by environment.
LLM_ENV = {
    "kind": "PATCHIT_LLM_KIND",
    "url": "PATCHIT_LLM_URL",
    "model": "PATCHIT_LLM_MODEL",
    "extra": "PATCHIT_LLM_EXTRA",
    "api_key": "PATCHIT_LLM_API_KEY",
}
LLM_KINDS = ("openai", "anthropic", "inhouse")
VENDOR_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def _airflow_configured(conn_id: str) -> bool:
    """Whether this shell points at an Airflow installation whose connections may hold `conn_id`:
    AIRFLOW_HOME set, an AIRFLOW_CONN_<ID> variable, or ~/airflow/airflow.cfg. Without one, the CLI
    never imports Airflow (it would create ~/airflow and cost seconds)."""
    return bool(
        os.environ.get("AIRFLOW_HOME")
        or os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        or (Path.home() / "airflow" / "airflow.cfg").is_file()
    )


# Seconds the Airflow connection lookup may take (a secrets backend or metadata database that
# does not answer must not hang the command).
CONNECTION_LOOKUP_TIMEOUT = 30.0


def _bounded(call: Any, timeout: float) -> Any:
    """call() in a daemon thread; TimeoutError when it has not returned within `timeout` seconds."""
    import threading

    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=run, name="patchit-connection-lookup", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout:.0f} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def _llm_config(args: argparse.Namespace, settings: PatchitSettings) -> tuple[Any, str] | None:
    """(the LLM connection config, where it came from) for `remediate`, or None: deterministic
    fixes only. --llm-* flags (or PATCHIT_LLM_* variables) first, else the Airflow connection
    `llm_conn_id` (PATCHIT_LLM_CONN_ID, default patchit_llm). The config is the hook's, so the CLI
    builds its backend, budget and proposer exactly as the remediation DAG does."""
    if args.no_llm:
        return None
    flags = {name: getattr(args, f"llm_{name}", None) or os.environ.get(env) for name, env in LLM_ENV.items()}
    named = any(flags[name] for name in ("kind", "url", "model"))
    if not named and not (settings.llm_conn_id and _airflow_configured(settings.llm_conn_id)):
        return None
    # Airflow may log while it loads: never onto stdout, which --json owns.
    with contextlib.redirect_stdout(sys.stderr):
        from patchit_provider.hooks.llm import LLMConnectionConfig

        if named:
            try:
                extra = json.loads(flags["extra"]) if flags["extra"] else {}
            except json.JSONDecodeError as exc:
                raise CliError(f"--llm-extra / {LLM_ENV['extra']} is not JSON: {exc}") from exc
            if not isinstance(extra, dict):
                raise CliError(f"--llm-extra / {LLM_ENV['extra']} must be a JSON object")
            kind = str(flags["kind"] or extra.get("backend") or "openai").lower()
            extra = {**extra, "backend": kind, "model": flags["model"] or extra.get("model") or ""}
            key = flags["api_key"] or os.environ.get(VENDOR_KEY_ENV.get(kind, ""), "")
            try:
                return LLMConnectionConfig.from_connection(flags["url"], key, extra), "--llm-* options"
            except ValueError as exc:
                raise CliError(f"LLM settings: {exc}") from exc
        conn_id = settings.llm_conn_id
        # The lookup `airflow connections get` makes (environment, secrets backends, metadata
        # database): the task SDK's would skip the database outside a task.
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection

        try:
            conn = _bounded(lambda: Connection.get_connection_from_secrets(conn_id), CONNECTION_LOOKUP_TIMEOUT)
        except AirflowNotFoundException:
            return None
        except Exception as exc:  # a broken or unreachable installation: say so, go on without a model
            print(
                f"patchit: cannot read the Airflow connection {conn_id} ({type(exc).__name__}: {exc}); "
                "deterministic fixes only",
                file=sys.stderr,
            )
            return None
        try:
            config = LLMConnectionConfig.from_connection(conn.host, conn.password, conn.extra_dejson)
        except ValueError as exc:
            raise CliError(f"Airflow connection {conn_id}: {exc}") from exc
        return config, f"Airflow connection {conn_id}"


def _llm_collaborators(args: argparse.Namespace, settings: PatchitSettings) -> tuple[Any, Any]:
    """The model's proposer (asked when no deterministic fixer applies) and reader (asked when
    the catalogs classify a failure as unknown, unless `triage_model_reading` is off), or
    (None, None). One line on standard error says which model, so a person knows a model was asked."""
    found = _llm_config(args, settings)
    if found is None:
        return None, None
    config, source = found
    try:
        proposer = config.proposer()
        reader = config.reader() if settings.triage_model_reading else None
    except ValueError as exc:
        raise CliError(f"LLM settings ({source}): {exc}") from exc
    where = config.base_url or "the vendor's default URL"
    print(f"patchit: model {config.backend}/{config.model or '-'} at {where} ({source})", file=sys.stderr)
    return proposer, reader


def cmd_remediate(args: argparse.Namespace) -> int:
    from patchit_provider.engine.models import AuditKind
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.store import open_store

    repo = _repo_dir(args.repo)
    settings = _settings(repo, args.check)
    llm, reader = _llm_collaborators(args, settings)
    with tempfile.TemporaryDirectory(prefix="patchit-cli-") as scratch:
        event = _cli_event(args.log, Path(scratch))
        store = open_store(f"sqlite:///{scratch}/store.db")
        try:
            incident = Remediator(store, settings, llm=llm, reader=reader).run_all(event)
            trail = store.audit_trail(incident.incident_id)
        finally:
            store.close()
    for entry in trail:
        if entry.kind == AuditKind.LLM_FAILED:
            print(f"patchit: the model gave no usable answer: {entry.message}", file=sys.stderr)
        elif entry.kind == AuditKind.TRIAGE_READ:
            print(f"patchit: the catalogs found no cause; the model read: {entry.message}", file=sys.stderr)
    result = remediation_result(incident)
    if args.json:
        _print_json(result.model_dump(mode="json"))
    else:
        print(f"{result.triage.category.value} -> {result.outcome.value}: {result.triage.summary}")
        if incident.patch is not None:
            print(f"  patch by {incident.patch.producer}")
        if result.validation:
            for check in result.validation.checks:
                mark = {"passed": "ok", "failed": "FAILED", "not_run": "not run"}[check.status]
                print(f"  [{mark}] {check.name}")
                if not check.passed and check.output:
                    print("    " + check.output.strip().splitlines()[-1][:300])
        if result.patch and result.patch["diff"]:
            print(result.patch["diff"])
    return 0


def _store_url(explicit: str | None) -> str:
    """--store, else PATCHIT_STORE_URL, else the store this Airflow installation writes, resolved
    as its hooks resolve it (`[patchit] store_url` / `store_conn_id` / `store_path`, AIRFLOW_HOME)."""
    explicit = explicit or os.environ.get("PATCHIT_STORE_URL")
    if explicit:
        return explicit
    # Airflow may log while it loads its configuration: never onto stdout, which --json owns.
    with contextlib.redirect_stdout(sys.stderr):
        from patchit_provider.hooks.store import store_url

        return store_url()


def cmd_incidents(args: argparse.Namespace) -> int:
    from patchit_provider.engine.store import open_store

    from pydantic import ValidationError

    from patchit_provider.engine.models import IncidentFilter

    try:
        flt = IncidentFilter(pipeline_id=args.dag, state=args.state)
    except ValidationError as exc:
        raise CliError(f"bad filter: {'; '.join(e['msg'] for e in exc.errors())}") from None
    with open_store(_store_url(args.store)) as store:
        incidents = store.list_incidents(flt, limit=args.limit)
    if args.json:
        _print_json([incident.model_dump(mode="json") for incident in incidents])
        return 0
    if not incidents:
        print("no incidents")
    for incident in incidents:
        triage = incident.triage
        publication = incident.publication
        print(
            f"{incident.incident_id}  {incident.created_at:%Y-%m-%d %H:%M:%S}  "
            f"{incident.event.pipeline_id}.{incident.event.task_id or '-'}  state={incident.state.value}  "
            f"category={triage.category.value if triage else '-'}  "
            f"remediation={triage.remediation.value if triage else '-'}  "
            f"outcome={incident.outcome.value if incident.outcome else '-'}"
        )
        if triage is not None:
            culprit = f"{triage.culprit.path}:{triage.culprit.line}" if triage.culprit else "-"
            print(f"    {triage.summary}\n    culprit: {culprit}  fingerprint: {triage.fingerprint}")
        if publication is not None:
            print(f"    branch: {publication.branch} in {publication.repo_root}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from patchit_provider.engine.store import open_store

    with open_store(_store_url(args.store)) as store:
        incident = store.get_incident(args.incident_id)
        if incident is None:
            raise CliError(f"no incident {args.incident_id}")
        trail = store.audit_trail(incident.incident_id)
        rca = store.get_artifact(incident.incident_id, "rca.md")
    if args.json:
        _print_json({"incident": incident.model_dump(mode="json"), "audit": [a.model_dump(mode="json") for a in trail]})
        return 0
    print(rca.content if rca else f"{incident.incident_id}: {incident.state.value}")
    print("\nAudit trail:")
    for entry in trail:
        print(f"  {entry.seq:>3}  {entry.at:%H:%M:%S}  {entry.kind:<24} {entry.message}")
    return 0


MAX_SPEC_BYTES = 32 << 20


def _read_spec_json(path: str) -> Any:
    """The spec file's JSON (or standard input's for `-`); CliError when it cannot be read."""
    try:
        raw = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1) if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the spec {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_SPEC_BYTES:
        raise CliError(f"the spec {path} is larger than {MAX_SPEC_BYTES >> 20} MiB")

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise CliError(f"the spec {path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except ValueError as exc:
        raise CliError(f"the spec {path} is not valid JSON: {exc}") from exc


def cmd_rollout_plan(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from patchit_provider.engine.rollout import plan_rollout

    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CliError(f"--now is not an ISO 8601 date-time: {args.now}") from exc
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    plan = plan_rollout(_read_spec_json(args.spec), now=now)
    if args.json:
        _print_json(plan.contract_dict())
        return 0
    if not plan.valid:
        print("invalid plan:")
        for problem in plan.problems:
            print(f"  - {problem}")
    else:
        print(f"valid plan: {len(plan.waves)} wave(s), {sum(len(w.members) for w in plan.waves)} member(s)")
        for wave, slot in zip(plan.waves, plan.schedule):
            gate = " (approval first)" if wave.approval_before else ""
            print(
                f"  wave {wave.index}{gate}: {len(wave.members)} member(s), ~{wave.seconds} s, "
                f"{slot.start:%Y-%m-%d %H:%M}Z: {', '.join(wave.members[:8])}{' ...' if len(wave.members) > 8 else ''}"
            )
        print(
            f"  max_errors {plan.max_errors} (stops when failures exceed it); worst case "
            f"{plan.worst_case_failures} failed member(s); min duration {plan.min_duration_seconds} s"
        )
        if plan.needs_out_of_window_approval:
            print(f"  needs an out-of-window approval: {plan.out_of_window_reason}")
    for note in plan.notes:
        print(f"  note: {note}")
    return 0


def _vuln_inputs(args: argparse.Namespace) -> tuple[Any, Path | None, PatchitSettings, dict[str, int]]:
    """(today, repo, settings, deadline days) of a `vulns` command; CliError for bad input."""
    from datetime import date, datetime, timezone

    osv = Path(args.osv)
    if not osv.is_dir():
        raise CliError(f"--osv is not a directory: {args.osv}")
    try:
        today = date.fromisoformat(args.today) if args.today else datetime.now(timezone.utc).date()
    except ValueError as exc:
        raise CliError(f"--today is not a date (YYYY-MM-DD): {args.today}") from exc
    settings = PatchitSettings.from_env()
    days = {
        "critical": settings.vuln_deadline_critical_days,
        "high": settings.vuln_deadline_high_days,
        "medium": settings.vuln_deadline_medium_days,
        "low": settings.vuln_deadline_low_days,
    }
    # plans count from --today (midnight UTC) when given, so a run is reproducible
    args.plan_now = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) if args.today else None
    return today, _repo_dir(args.repo), settings, days


def _vuln_output(args: argparse.Namespace, result: Any, requirements: Path | None, repo: Path | None) -> int:
    """Print a scan (contract keys first); --patch / --rollout add each finding's patch and plan."""
    from patchit_provider.engine.vulns import (
        PatchRefused,
        plan_fix_rollout,
        requirements_patch,
    )

    data = result.contract_dict()
    for finding, out in zip(result.findings, data["findings"]):
        if getattr(args, "patch", False):
            try:
                proposal = requirements_patch(finding, requirements, repo or requirements.parent)
                out["patch"] = {"producer": proposal.producer, "files": proposal.files, "diff": proposal.diff}
            except PatchRefused as exc:
                out["patch"], out["patch_refused"] = None, str(exc)
        if getattr(args, "rollout", False):
            plan = plan_fix_rollout(finding, now=args.plan_now)
            out["rollout"] = plan.contract_dict() if plan else None
    if args.json:
        _print_json(data)
        return 0
    if not result.findings:
        print(f"no known vulnerability in {result.scanned} pinned requirement(s)")
    for finding, out in zip(result.findings, data["findings"]):
        score = f"CVSS {finding.base_score}" if finding.base_score is not None else "no CVSS score"
        fix = f"upgrade to {finding.fixed_version}" if finding.fixed_version else "no fix: accept or mitigate"
        print(
            f"{finding.package} {finding.version}: {finding.severity} ({score}) {', '.join(finding.advisories)}; "
            f"{fix} by {finding.deadline}"
        )
        for dag in finding.dag_details:
            print(
                f"    {dag.path} (criticality {dag.criticality}, {dag.criticality_from}): {', '.join(dag.imports[:4])}"
            )
        if out.get("patch_refused"):
            print(f"    patch refused: {out['patch_refused']}")
        elif out.get("patch"):
            print(out["patch"]["diff"])
    for skip in result.skipped:
        print(f"  skipped {skip.item}: {skip.reason}")
    return 0


def _marker_environment(python: str | None) -> dict[str, str] | None:
    """Marker values of the target interpreter: this one, or Python `python` (X.Y or X.Y.Z)."""
    if python is None:
        return None
    from packaging.markers import default_environment
    from packaging.version import InvalidVersion, Version

    try:
        release = Version(python).release
    except InvalidVersion as exc:
        raise CliError(f"--python is not a version (X.Y or X.Y.Z): {python}") from exc
    if len(release) < 2:
        raise CliError(f"--python needs at least X.Y: {python}")
    full = ".".join(map(str, release + (0,) * (3 - len(release))))
    return dict(default_environment()) | {"python_version": f"{release[0]}.{release[1]}", "python_full_version": full}


def cmd_vulns_scan(args: argparse.Namespace) -> int:
    from patchit_provider.engine.vulns import scan_requirements

    today, repo, settings, days = _vuln_inputs(args)
    requirements = Path(args.requirements).resolve()
    if not requirements.is_file():
        raise CliError(f"--requirements is not a file: {args.requirements}")
    if repo is not None and not requirements.is_relative_to(repo):
        raise CliError(f"--requirements {args.requirements} is not inside --repo {args.repo}")
    result = scan_requirements(
        requirements,
        Path(args.osv),
        repo=repo,
        today=today,
        deadline_days=days,
        dag_criticality=settings.vuln_dag_criticality,
        environment=_marker_environment(args.python),
    )
    return _vuln_output(args, result, requirements, repo)


def cmd_vulns_pip_audit(args: argparse.Namespace) -> int:
    from patchit_provider.engine.vulns import import_pip_audit
    from patchit_provider.engine.vulns.pip_audit import ReportError
    from patchit_provider.engine.vulns.requirements import parse_requirements

    today, repo, settings, days = _vuln_inputs(args)
    report = Path(args.report)
    if not report.is_file():
        raise CliError(f"report not found: {args.report}")
    requirements = Path(args.requirements).resolve() if args.requirements else None
    if requirements is not None and not requirements.is_file():
        raise CliError(f"--requirements is not a file: {args.requirements}")
    constraints = parse_requirements(requirements, repo or requirements.parent) if requirements else None
    try:
        result = import_pip_audit(
            report,
            Path(args.osv),
            repo=repo,
            today=today,
            deadline_days=days,
            dag_criticality=settings.vuln_dag_criticality,
            constraints=constraints,
        )
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    if args.patch and requirements is None:
        raise CliError("--patch needs --requirements (the file whose pins are rewritten)")
    return _vuln_output(args, result, requirements, repo)


def _print_json(value: Any) -> None:
    from patchit_provider.engine.redaction import redact_obj

    sys.stdout.write(json.dumps(redact_obj(value)[0], indent=None, default=str) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patchit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("triage", help="classify a failed task's log")
    p.add_argument("log", help="path to the log, or - for standard input")
    p.add_argument("--repo", help="the pipeline repository the failure came from")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_triage)

    p = sub.add_parser("remediate", help="triage, propose and validate a patch; never changes --repo")
    p.add_argument("log", help="path to the log, or - for standard input")
    p.add_argument("--repo", required=True, help="the pipeline repository the failure came from")
    p.add_argument("--check", help="shell command that must exit 0 in the patched copy")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    llm = p.add_argument_group(
        "model",
        "asked only when no deterministic fixer applies; its patch goes through the same policy, sandboxed "
        "validation and budget as in the remediation DAG. Default: the Airflow connection PATCHIT_LLM_CONN_ID "
        "(patchit_llm) when AIRFLOW_HOME is set. The API key comes only from PATCHIT_LLM_API_KEY "
        "(or OPENAI_API_KEY / ANTHROPIC_API_KEY), never from a flag.",
    )
    llm.add_argument("--llm-kind", choices=LLM_KINDS, help="the API the server speaks (env PATCHIT_LLM_KIND)")
    llm.add_argument(
        "--llm-url",
        help="base URL, e.g. http://127.0.0.1:11434/v1 (OpenAI-compatible) or https://api.anthropic.com "
        "(env PATCHIT_LLM_URL; default: the vendor's)",
    )
    llm.add_argument("--llm-model", help="model name (env PATCHIT_LLM_MODEL)")
    llm.add_argument(
        "--llm-extra",
        help="JSON with the patchit_llm connection's extra keys: budget_tokens, budget_usd, prices, candidates, "
        "max_tokens, timeout, max_retries, max_prompt_chars (env PATCHIT_LLM_EXTRA)",
    )
    llm.add_argument("--no-llm", action="store_true", help="deterministic fixes only, whatever is configured")
    p.set_defaults(func=cmd_remediate)

    p = sub.add_parser("incidents", help="list incidents in the store, newest first")
    p.add_argument("--store", help="store URL (default: PATCHIT_STORE_URL or SQLite under AIRFLOW_HOME)")
    p.add_argument("--dag")
    p.add_argument("--state")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_incidents)

    p = sub.add_parser("show", help="an incident's RCA report and audit trail")
    p.add_argument("incident_id")
    p.add_argument("--store")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    rollout = sub.add_parser("rollout", help="progressive rollouts").add_subparsers(
        dest="rollout_command", required=True
    )
    p = rollout.add_parser("plan", help="plan waves, budget and schedule from a spec (JSON); no Airflow, no network")
    p.add_argument("spec", help="path to the spec (JSON), or - for standard input")
    p.add_argument("--now", help="plan as if it were this time (ISO 8601; default: now, UTC)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_rollout_plan)

    vulns = sub.add_parser("vulns", help="known vulnerabilities of a repository's pinned requirements (offline)")
    vulns_sub = vulns.add_subparsers(dest="vulns_command", required=True)
    p = vulns_sub.add_parser("scan", help="scan a requirements file against a folder of OSV records")
    p.add_argument("--requirements", required=True, help="a pip requirements file (its -r/-c includes are followed)")
    p.add_argument("--osv", required=True, help="folder of OSV records (one JSON file per advisory)")
    p.add_argument("--repo", help="the pipeline repository: DAG files importing an affected package are listed")
    p.add_argument("--today", help="the date deadlines count from (YYYY-MM-DD; default: today, UTC)")
    p.add_argument("--python", help="the target interpreter's version for environment markers (default: this one)")
    p.add_argument("--patch", action="store_true", help="add each fix as a requirements patch (a diff)")
    p.add_argument("--rollout", action="store_true", help="add each fix's rollout plan over the affected DAGs")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_vulns_scan)
    p = vulns_sub.add_parser(
        "import-pip-audit", help="findings from a `pip-audit -f json` report joined to OSV records"
    )
    p.add_argument("report", help="the pip-audit JSON report")
    p.add_argument("--osv", required=True, help="folder of OSV records (one JSON file per advisory)")
    p.add_argument("--repo", help="the pipeline repository: DAG files importing an affected package are listed")
    p.add_argument("--requirements", help="the audited requirements file: its constraints bound the fixed version")
    p.add_argument("--today", help="the date deadlines count from (YYYY-MM-DD; default: today, UTC)")
    p.add_argument("--patch", action="store_true", help="add each fix as a patch of --requirements")
    p.add_argument("--rollout", action="store_true", help="add each fix's rollout plan over the affected DAGs")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_vulns_pip_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from patchit_provider.engine.redaction.stream import redacted_output

    with redacted_output():  # every line printed, the final exception's included, is redacted
        args = build_parser().parse_args(argv)
        try:
            return args.func(args)
        except CliError as exc:
            print(f"patchit: {exc}", file=sys.stderr)
            return 2
        except Exception:
            traceback.print_exc()
            return 1


if __name__ == "__main__":
    sys.exit(main())
