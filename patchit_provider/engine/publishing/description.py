"""The PR-style description of a patch: what failed, why, the change and how it was checked.

Everything in it comes from logs and code we do not control: inline text is redacted, then
escaped (escaping first would hide a token such as `ghp_...` from the redaction patterns), blocks
are fenced so they cannot close their fence, and the whole text is redacted once more.
"""

from __future__ import annotations

from patchit_provider.engine.constants import task_label
from patchit_provider.engine.models import Incident, PatchProposal
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.report import md_escape, md_fence


def title_of(proposal: PatchProposal, incident: Incident) -> str:
    triage = incident.triage
    if triage is None:
        return f"PATCHIT: fix {incident.event.pipeline_id}"
    where = triage.culprit.path if triage.culprit else incident.event.pipeline_id
    return f"PATCHIT: fix {triage.error.type} in {where}"


def render_description(proposal: PatchProposal, incident: Incident) -> str:
    event, triage, validation = incident.event, incident.triage, incident.validation
    task = task_label(event.pipeline_id, event.task_id)
    out = [f"# {md_escape(title_of(proposal, incident))}", ""]
    out += [
        f"- **Incident:** {md_escape(incident.incident_id)}",
        f"- **Failed task:** {md_escape(task)} (run {md_escape(event.run_id)})",
    ]
    if triage is not None:
        culprit = triage.culprit
        where = f"{culprit.path}:{culprit.line}" if culprit and culprit.line else culprit.path if culprit else "unknown"
        out += [
            "",
            "## Root cause",
            "",
            md_escape(triage.summary),
            "",
            f"- **Error:** {md_escape(triage.error.type)}: {md_escape(triage.error.message[:500])}",
            f"- **Where:** {md_escape(where)}",
            f"- **Category:** {md_escape(triage.category.value)} (confidence {triage.confidence:.2f})",
            f"- **Fingerprint:** {md_escape(triage.fingerprint)}",
        ]
        if triage.rationale:
            out += [f"- **Why:** {md_escape(triage.rationale)}"]
        if triage.evidence_lines:
            out += ["", "## Evidence", "", md_fence("\n".join(triage.evidence_lines))]
    out += ["", "## The change", "", f"- **Produced by:** {md_escape(proposal.producer)}"]
    if proposal.rationale:
        out += [f"- **Rationale:** {md_escape(proposal.rationale)}"]
    out += ["", md_fence(proposal.diff.rstrip("\n"), "diff")]
    out += ["", "## Validation", ""]
    if validation is None:
        out += ["_Not validated._"]
    else:
        out += [f"**{'Passed' if validation.passed else 'Failed'}** (replay: {md_escape(validation.replay)})", ""]
        if validation.passed and validation.not_replayed:
            out += [f"**Not replayed:** {md_escape(validation.not_replayed)}", ""]
        out += ["| check | result | detail |", "|---|---|---|"]
        for check in validation.checks:
            first = next((line for line in check.output.splitlines() if line.strip()), "")
            out += [f"| {md_escape(check.name)} | {check.status.replace('_', ' ')} | {md_escape(first[:200])} |"]
    out += ["", "---", "", "_Opened by PATCHIT. Review the change before merging._"]
    return redact("\n".join(out) + "\n")[0]
