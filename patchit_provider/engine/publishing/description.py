"""The PR-style description of a patch: what failed, why, the change and how it was checked.

Everything in it comes from logs and code we do not control: inline text is redacted, then
escaped (escaping first would hide a token such as `ghp_...` from the redaction patterns), blocks
are fenced so they cannot close their fence, and the whole text is redacted once more.
"""

from __future__ import annotations

from patchit_provider.engine.models import Incident, PatchProposal
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.report import md_escape, md_fence


def safe_inline(text: object) -> str:
    """Inline Markdown of untrusted text: redacted, then escaped."""
    return md_escape(redact(str(text))[0])


def title_of(proposal: PatchProposal, incident: Incident) -> str:
    triage = incident.triage
    if triage is None:
        return f"PATCHIT: fix {incident.event.pipeline_id}"
    where = triage.culprit.path if triage.culprit else incident.event.pipeline_id
    return f"PATCHIT: fix {triage.error.type} in {where}"


def render_description(proposal: PatchProposal, incident: Incident) -> str:
    event, triage, validation = incident.event, incident.triage, incident.validation
    task = event.pipeline_id + (f".{event.task_id}" if event.task_id else "")
    out = [f"# {safe_inline(title_of(proposal, incident))}", ""]
    out += [
        f"- **Incident:** {safe_inline(incident.incident_id)}",
        f"- **Failed task:** {safe_inline(task)} (run {safe_inline(event.run_id)})",
    ]
    if triage is not None:
        culprit = triage.culprit
        where = f"{culprit.path}:{culprit.line}" if culprit and culprit.line else culprit.path if culprit else "unknown"
        out += [
            "", "## Root cause", "", safe_inline(triage.summary), "",
            f"- **Error:** {safe_inline(triage.error.type)}: {safe_inline(triage.error.message[:500])}",
            f"- **Where:** {safe_inline(where)}",
            f"- **Category:** {safe_inline(triage.category.value)} (confidence {triage.confidence:.2f})",
            f"- **Fingerprint:** {safe_inline(triage.fingerprint)}",
        ]
        if triage.rationale:
            out += [f"- **Why:** {safe_inline(triage.rationale)}"]
        if triage.evidence_lines:
            out += ["", "## Evidence", "", md_fence("\n".join(triage.evidence_lines))]
    out += ["", "## The change", "", f"- **Produced by:** {safe_inline(proposal.producer)}"]
    if proposal.rationale:
        out += [f"- **Rationale:** {safe_inline(proposal.rationale)}"]
    out += ["", md_fence(proposal.diff.rstrip("\n"), "diff")]
    out += ["", "## Validation", ""]
    if validation is None:
        out += ["_Not validated._"]
    else:
        out += [f"**{'Passed' if validation.passed else 'Failed'}** (replay: {safe_inline(validation.replay)})", ""]
        out += ["| check | result | detail |", "|---|---|---|"]
        for check in validation.checks:
            first = next((line for line in check.output.splitlines() if line.strip()), "")
            out += [f"| {safe_inline(check.name)} | {'passed' if check.passed else 'failed'} | {safe_inline(first[:200])} |"]
    out += ["", "---", "", "_Opened by PATCHIT. Review the change before merging._"]
    return redact("\n".join(out) + "\n")[0]
