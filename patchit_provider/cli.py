"""The `patchit` console script: the engine from a shell, with no Airflow deployment needed.

`triage` and `remediate` are a machine-readable contract (../shared/cli-contract.md); the other
subcommands read the incident store for people.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from patchit_provider.engine.models import FailureEvent, Incident, Outcome, Platform, RemediationResult
from patchit_provider.engine.settings import PatchitSettings

CLI_PIPELINE = "cli"


class CliError(Exception):
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


def cmd_remediate(args: argparse.Namespace) -> int:
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.store import open_store

    repo = _repo_dir(args.repo)
    with tempfile.TemporaryDirectory(prefix="patchit-cli-") as scratch:
        event = _cli_event(args.log, Path(scratch))
        store = open_store(f"sqlite:///{scratch}/store.db")
        try:
            incident = Remediator(store, _settings(repo, args.check)).run_all(event)
        finally:
            store.close()
    result = remediation_result(incident)
    if args.json:
        _print_json(result.model_dump(mode="json"))
    else:
        print(f"{result.triage.category.value} -> {result.outcome.value}: {result.triage.summary}")
        if result.validation:
            for check in result.validation.checks:
                print(f"  [{'ok' if check.passed else 'FAILED'}] {check.name}")
        if result.patch and result.patch["diff"]:
            print(result.patch["diff"])
    return 0


def _store_url(explicit: str | None) -> str:
    from patchit_provider.engine.store import default_sqlite_url

    url = explicit or os.environ.get("PATCHIT_STORE_URL")
    if url:
        return url
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return default_sqlite_url(home)


def cmd_incidents(args: argparse.Namespace) -> int:
    from patchit_provider.engine.store import open_store

    with open_store(_store_url(args.store)) as store:
        incidents = store.list_incidents(pipeline_id=args.dag, state=args.state, limit=args.limit)
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


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=None, default=str) + "\n")


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"patchit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
