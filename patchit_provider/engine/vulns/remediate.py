"""A finding's remediation: the requirements patch through the SAME policy, validation and
publishing as a code patch, then the rollout plan; or, without a fix, an escalation.

States (models.VulnState): a finding with no fixed version is `accepted_or_mitigated` until its
expiry date (the deadline), escalated to a person, never rolled out. An upgrade is `open` until
its patch validates (`patch_validated`: every check passed AND the `resolve` check really
resolved the requirements in the sandbox, see validation/resolve.py), `published` once on its
branch `patchit/<finding id>`, `rollout_planned` once a valid plan over the affected DAGs (least
critical first, due by the deadline, a person's approval before the first wave: the deployment)
exists; `rollout.start_upgrade_rollout` then stores its run for `patchit_rollout`. What stops a
finding on the way is said in its `escalation`, and it stays where it was.

The patch is judged as a `dependency.missing` change (the taxonomy's dependency category, the
only one the policy lets touch requirements files), with the advisories as the fact it rests on.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from patchit_provider.engine.models import (
    Culprit,
    ErrorSummary,
    FailureEvent,
    Incident,
    Platform,
    Triage,
    VulnFinding,
    VulnRecord,
)
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.engine.vulns.patch import PatchRefused, requirements_patch
from patchit_provider.engine.vulns.rollout import UPGRADE_APPROVAL, plan_fix_rollout

PUBLISHING = ("branch", "mock_pr", "github")


def finding_id(repo: str, finding: VulnFinding) -> str:
    """Same repository, package, version and advisories -> same id (idempotent ingest)."""
    key = "\x1f".join([repo, finding.package, finding.version, *sorted(finding.advisories)])
    return "vf-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def new_record(finding: VulnFinding, repo: str, source: str) -> VulnRecord:
    """The record a finding starts as: open, or accepted-or-mitigated with an expiry and an escalation."""
    record = VulnRecord(finding_id=finding_id(repo, finding), repo=repo, finding=finding, source=source)
    if finding.action != "upgrade":
        record.state = "accepted_or_mitigated"
        record.expires = finding.deadline
        record.escalation = (
            f"{finding.package} {finding.version}: no fixed version of {', '.join(finding.advisories)} "
            f"({finding.fix_reason or 'none named'}). A person must accept the risk or mitigate it (remove or "
            f"replace the package, disable the affected code path) before {finding.deadline}; no upgrade is rolled out."
        )
    return record


def _context(finding: VulnFinding, requirement_file: str, fingerprint: str) -> tuple[FailureEvent, Triage]:
    ids = ", ".join(finding.advisories)
    event = FailureEvent(
        platform=Platform.GENERIC,
        pipeline_id=f"vulns:{finding.package}"[:250],
        run_id=f"{finding.version}->{finding.fixed_version}"[:250],
        code_path=None,
    )
    triage = Triage(
        category=Category.DEPENDENCY_MISSING,
        remediation=Remediation.PATCH,
        fingerprint=fingerprint,
        confidence=1.0,
        summary=f"{finding.package} {finding.version} is vulnerable ({ids}); {finding.fixed_version} fixes it",
        error=ErrorSummary(type="VulnerableDependency", message=f"{finding.package}=={finding.version}: {ids}"),
        culprit=Culprit(path=requirement_file),
        decided_by=f"OSV {ids}",
        source="osv",
        next_step=f"upgrade to {finding.fixed_version} by {finding.deadline}",
    )
    return event, triage


def remediate(
    record: VulnRecord,
    requirements: Path,
    repo_root: Path,
    settings: PatchitSettings,
    *,
    publish_mode: str | None = None,
    now: datetime | None = None,
) -> VulnRecord:
    """Patch, validate, publish and plan an upgrade finding; returns the record with its new state."""
    from patchit_provider.engine.publishing import publish
    from patchit_provider.engine.validation import validate
    from patchit_provider.engine.validation.resolve import resolved

    record = record.model_copy(deep=True)
    finding = record.finding
    if finding.action != "upgrade" or record.state not in ("open", "patch_validated"):
        return record
    root = Path(repo_root).resolve()
    try:
        proposal = requirements_patch(finding, requirements, root)
    except PatchRefused as exc:
        record.escalation = f"no requirements patch: {exc}"
        return record
    rel = Path(requirements).resolve().relative_to(root).as_posix()
    event, triage = _context(finding, rel, record.finding_id)
    result = validate(proposal, event, triage, root, settings)
    record.validation = result
    if not result.passed or not resolved(result.checks):
        failed = [
            f"{c.name}: {c.output.splitlines()[0] if c.output else ''}"
            for c in result.checks
            if not c.passed or (c.name == "resolve" and not resolved([c]))
        ]
        record.escalation = "the requirements patch is not validated: " + "; ".join(failed or ["no resolve check ran"])
        return record
    record.state, record.escalation, record.patch_diff = "patch_validated", "", proposal.diff
    mode = publish_mode or settings.publish_mode
    if result.approval_reason:
        record.escalation = f"a person must approve before publishing: {result.approval_reason}"
        return record
    if mode in PUBLISHING:
        incident = Incident(
            incident_id=record.finding_id,
            event=event,
            fingerprint=triage.fingerprint,
            triage=triage,
            patch=proposal,
            validation=result,
        )
        publication = publish(proposal, incident, root, mode)
        record.branch, record.commit, record.state = publication.branch, publication.commit, "published"
        record.patch_url = publication.url
    plan = plan_fix_rollout(finding, now=now, approval_points=UPGRADE_APPROVAL)
    record.rollout_plan = plan
    if plan is not None and plan.valid and record.state == "published":
        record.state = "rollout_planned"
    elif plan is not None and not plan.valid:
        record.escalation = "the rollout plan is invalid: " + " ".join(plan.problems)
    return record
