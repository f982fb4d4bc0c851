"""Vulnerable dependencies in the UI: the Vulnerabilities page, its JSON twin, and the ingest of
pip-audit reports (`POST /vulns/ingest`).

Who sees a finding: a user who may read at least one DAG it affects, and then only those DAGs
(the others are counted, never named); a finding that reaches no DAG is for admins only (users
allowed to change Airflow's configuration: FAB's Admin, the simple auth manager's op and admin).

The ingest follows the event ingest's rules (ingest.py): a bearer token of a user who may trigger
the remediation DAG, no foreign Origin, JSON only (415), a size limit (413), JSON syntax (400),
the strict `VulnIngest` schema (422 with field errors), a repository of `[patchit] repo_map` only.
Each finding is joined to the OSV records of `[patchit] osv_dir` and stored by finding id:
201 when the report brought a new finding, 200 when every finding was already known.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from patchit_provider.engine.constants import REMEDIATION_DAG_ID
from patchit_provider.engine.models import RolloutRun, VulnIngest, VulnRecord, utcnow
from patchit_provider.engine.store.vulns import VulnStore
from patchit_provider.engine.vulns.audit import record_audit
from patchit_provider.www import ingest, links, rollouts
from patchit_provider.www.auth import ScopeDep, UserDep, require_trigger_remediation

router = APIRouter()
MAX_REPORT_BYTES = 4 << 20
_LOCK = threading.Lock()


def vuln_store(request: Request) -> VulnStore:
    """The findings, in the incident store's database (one VulnStore per app, opened on first use)."""
    state = request.app.state
    if getattr(state, "vuln_store", None) is None:
        with _LOCK:
            if getattr(state, "vuln_store", None) is None:
                state.vuln_store = VulnStore(state.stores.get().url)
    return state.vuln_store


def is_admin(user) -> bool:
    from airflow.api_fastapi.app import get_auth_manager

    return bool(get_auth_manager().is_authorized_configuration(method="PUT", user=user))


def advisory_links(ident: str) -> list[dict[str, str]]:
    out = [{"label": "osv.dev", "url": f"https://osv.dev/vulnerability/{ident}"}]
    if ident.startswith("GHSA-"):
        out.append({"label": "GitHub", "url": f"https://github.com/advisories/{ident}"})
    elif ident.startswith("CVE-"):
        out.append({"label": "CVE", "url": f"https://www.cve.org/CVERecord?id={ident}"})
    return out


def rollout_view(run: RolloutRun | None, visible: bool) -> dict[str, Any] | None:
    """A finding's rollout: its progress (engine records, the Rollouts page's figures) and, when
    the user may open it, its page."""
    if run is None:
        return None
    figures = rollouts.progress(run)
    return {
        "rollout_id": run.rollout_id,
        "visible": visible,
        "state": figures["state"],
        "reason": figures["reason"],
        "finished": figures["finished"],
        "succeeded": figures["succeeded"],
        "failed": figures["failed"],
        "total": figures["total"],
        "percent": figures["percent"],
        "deploy": run.upgrade.deploy if run.upgrade else None,
        "waves": [
            {"index": w["index"], "status": w["status"], "finished": w["finished"], "total": w["total"]}
            for w in figures["waves"]
        ],
    }


def view(
    record: VulnRecord,
    dag_ids: frozenset[str],
    admin: bool,
    run: RolloutRun | None = None,
    run_visible: bool = False,
) -> dict[str, Any] | None:
    """What this user may see of a finding (None: nothing), with its rollout's progress."""
    finding = record.finding
    all_dags = {d for dag in finding.dag_details for d in dag.dag_ids}
    visible = sorted(all_dags) if admin else sorted(all_dags & dag_ids)
    if not visible and not admin:
        return None
    dags = [
        {"dag_id": d, "path": dag.path, "criticality": dag.criticality}
        for dag in finding.dag_details
        for d in dag.dag_ids
        if d in visible
    ]
    plan = record.rollout_plan
    waves = [[m for m in wave.members if m in visible] for wave in plan.waves] if plan else []
    return {
        "finding_id": record.finding_id,
        "package": finding.package,
        "version": finding.version,
        "advisories": [{"id": a, "links": advisory_links(a)} for a in finding.advisories],
        "aliases": [{"id": a, "links": advisory_links(a)} for a in finding.aliases],
        "base_score": finding.base_score,
        "vector": finding.vector,
        "severity": finding.severity,
        "severity_source": finding.severity_source,
        "fixed_version": finding.fixed_version,
        "action": finding.action,
        "deadline": finding.deadline,
        "state": record.state,
        "expires": record.expires,
        "escalation": record.escalation,
        "dags": dags,
        "hidden_dags": len(all_dags) - len(visible),
        "branch": record.branch,
        "commit": record.commit,
        "patch_url": record.patch_url,
        "patch_diff": record.patch_diff,
        "validated": bool(record.validation and record.validation.passed),
        "incident_id": record.incident_id,
        "plan": None
        if plan is None
        else {
            "valid": plan.valid,
            "problems": plan.problems,
            "waves": waves,
            "deadline": plan.deadline.isoformat() if plan.deadline else None,
            "finish_at": plan.finish_at.isoformat() if plan.finish_at else None,
        },
        "rollout_id": record.rollout_id,
        "rollout": rollout_view(run, run_visible),
        "source": record.source,
    }


def _visible(request: Request, scope, user, finding_id: str | None = None) -> list[dict[str, Any]]:
    store = vuln_store(request)
    records = [r for r in [store.get(finding_id)] if r] if finding_id else store.list()
    admin = is_admin(user)
    runs = rollouts.run_records(request) if any(r.rollout_id for r in records) else None
    out = []
    for record in records:
        run = runs.get(record.rollout_id) if runs is not None and record.rollout_id else None
        shown = view(record, scope.dag_ids, admin, run, run is not None and rollouts.can_see(scope, run))
        if shown is not None:
            out.append(shown)
    return out


@router.get("/vulns", name="vulns_page", response_class=HTMLResponse, summary="Vulnerable dependencies")
async def vulns_page(
    request: Request, scope: ScopeDep, user: UserDep, state: Annotated[str | None, Query(max_length=32)] = None
) -> HTMLResponse:
    rows = await run_in_threadpool(_visible, request, scope, user)
    if state:
        rows = [r for r in rows if r["state"] == state]
    return request.app.state.templates.TemplateResponse(
        request, "vulns.html", {"rows": rows, "one": None, "state": state or "", "refresh": None, "embedded": False}
    )


@router.get("/vulns/{finding_id}", name="vuln_page", response_class=HTMLResponse, summary="One vulnerable dependency")
async def vuln_page(request: Request, scope: ScopeDep, user: UserDep, finding_id: str) -> HTMLResponse:
    rows = await run_in_threadpool(_visible, request, scope, user, finding_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Finding not found (or not visible to you)")
    return request.app.state.templates.TemplateResponse(
        request, "vulns.html", {"rows": rows, "one": rows[0], "state": "", "refresh": None, "embedded": False}
    )


@router.get("/api/vulns", name="api_vulns", tags=["vulns"], summary="Vulnerable dependencies the caller may see")
async def api_vulns(request: Request, scope: ScopeDep, user: UserDep) -> dict[str, Any]:
    rows = await run_in_threadpool(_visible, request, scope, user)
    return {"total": len(rows), "findings": rows}


@router.get("/api/vulns/{finding_id}", name="api_vuln", tags=["vulns"], summary="One vulnerable dependency")
async def api_vuln(request: Request, scope: ScopeDep, user: UserDep, finding_id: str) -> dict[str, Any]:
    rows = await run_in_threadpool(_visible, request, scope, user, finding_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Finding not found (or not visible to you)")
    return rows[0]


def _notifier(incidents, settings):
    """The webhook notifier of `[patchit] notify_conn_ids` (None when none is configured)."""
    from patchit_provider.notifications.webhook import build_notifier

    return build_notifier(incidents, settings)


def _unprocessable(loc: list[str], msg: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body", *loc], "msg": msg, "type": "ingest_refused"}]
    )


def parse_body(body: bytes) -> VulnIngest:
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=ingest._reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Body is not a JSON document: {exc}"[:300]) from None
    if not isinstance(payload, dict):
        raise _unprocessable([], "Input should be a JSON object (repository, report)")
    try:
        return VulnIngest.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, ingest._field_errors(exc.errors())) from None


def _repository(doc: VulnIngest, settings) -> tuple[Path, Path | None]:
    """The repository (a repo_map value) and the requirements file inside it; 422 otherwise."""
    known = {Path(p).resolve() for p in settings.repo_map.values()}
    repo = Path(doc.repository).resolve()
    if repo not in known:
        raise _unprocessable(["repository"], "not a repository of [patchit] repo_map")
    if doc.requirements is None:
        return repo, None
    path = (repo / doc.requirements).resolve()
    if not path.is_relative_to(repo) or not path.is_file():
        raise _unprocessable(["requirements"], "not a file inside the repository")
    return repo, path


def record_report(
    store: VulnStore,
    doc: VulnIngest,
    repo: Path,
    requirements: Path | None,
    settings,
    caller: str,
    incidents=None,
    notifier=None,
) -> dict[str, Any]:
    """Store the report's findings; a finding without a fix opens (once) its accept-or-mitigate
    incident in `incidents`, told through `notifier`."""
    deps = [d.model_dump(exclude_none=True) for d in doc.report.dependencies]
    scan, stored = record_audit(
        store,
        deps,
        repo,
        requirements,
        settings,
        f"ingest:{caller}",
        today=utcnow().date(),
        incidents=incidents,
        notifier=notifier,
    )
    out = [
        {
            "finding_id": r.finding_id,
            "package": r.finding.package,
            "version": r.finding.version,
            "state": r.state,
            "created": created,
            "incident_id": r.incident_id,
        }
        for r, created in stored
    ]
    return {"findings": out, "skipped": [s.model_dump() for s in scan.skipped], "scanned": scan.scanned}


@router.post(
    "/vulns/ingest",
    name="ingest_vulns",
    status_code=status.HTTP_201_CREATED,
    tags=["vulns"],
    dependencies=[Depends(ingest.require_bearer)],
    summary="Ingest a pip-audit JSON report",
    description='`{"repository": <a repo_map path>, "requirements": <relative path, optional>, "report": <pip-audit -f json>}`. '
    "Each vulnerability is joined to the OSV records of `[patchit] osv_dir` (score, fix, deadline) and stored as a "
    "finding (idempotent: 201 when a finding is new, 200 when all were known). Bearer JWT of a user allowed to trigger "
    f"`{REMEDIATION_DAG_ID}`; `Content-Type: application/json`.",
    responses={
        200: {"description": "Every finding was already stored"},
        400: {"description": "Body is not JSON"},
        401: {"description": "Not authenticated"},
        403: {"description": "Not allowed, or a foreign Origin"},
        413: {"description": "Body over the size limit"},
        415: {"description": "Not application/json"},
        422: {"description": "Schema violation or a repository outside repo_map"},
        503: {"description": "[patchit] osv_dir is not configured"},
    },
)
async def ingest_vulns(request: Request, user: UserDep, _: None = Depends(require_trigger_remediation)) -> JSONResponse:
    ingest._check_request(request)
    doc = parse_body(await ingest.read_body(request, MAX_REPORT_BYTES))
    settings = request.app.state.settings()
    if not settings.osv_dir or not Path(settings.osv_dir).is_dir():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "[patchit] osv_dir is not configured: no OSV records to join the report to",
        )
    repo, requirements = _repository(doc, settings)
    store = await run_in_threadpool(vuln_store, request)
    incidents = request.app.state.stores.get()
    notifier = await run_in_threadpool(_notifier, incidents, settings)
    body = await run_in_threadpool(
        record_report, store, doc, repo, requirements, settings, user.get_name(), incidents, notifier
    )
    for item in body["findings"]:
        item["url"] = links.absolute_for(request, "api_vuln", finding_id=item["finding_id"])
    created = any(item["created"] for item in body["findings"])
    return JSONResponse(body, status_code=201 if created else 200)
