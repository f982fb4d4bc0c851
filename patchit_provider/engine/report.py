"""render_rca(incident) -> (markdown, json): the root-cause report attached to every incident.

Everything shown comes from logs and code we do not control. Identifiers (task, run, paths,
fingerprints, packages) go into code spans (`md_code`), which every Markdown renderer shows
literally; prose is escaped only where a character could start Markdown or HTML (`md_escape`),
so `orders_etl` and `2026-12-02` stay as they are in the raw text too; log text is fenced with a
fence longer than any backtick run inside it. Everything is redacted once more on the way out.
"""

from __future__ import annotations

import re
from typing import Any

from patchit_provider.engine.constants import task_label
from patchit_provider.engine.models import Evidence, Incident
from patchit_provider.engine.redaction import redact, redact_obj

# Characters that can start Markdown anywhere in a line (emphasis, code, links, tables,
# strikethrough, math on GitHub). `_` only counts at a word boundary: CommonMark never opens or
# closes emphasis with an underscore run between two letters or digits (`orders_etl`).
# (`]` needs no escape: with every `[` escaped, no link or image can open.)
_MD_INLINE = re.compile(r"[\\`*\[|~$]|_+")
# How a line could become a block when the text starts it: a heading, a quote, a list item
# (bullet or `1.`), a thematic break or setext underline (a line of only `-` or `=`). The
# escape goes before the marker (after the digits of an ordered one).
_MD_BLOCK_START = re.compile(r"^(?:#{1,6}(?= |$)|>|[-+](?= |$)|[-=](?=[-= ]*$)|\d{1,9}(?=[.)](?: |$)))")
# `&` only matters when it starts an entity reference (`&lt;`, `&#60;`, `&#x3C;`).
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def _one_line(text: object) -> str:
    """Redacted first (escaping would hide a token from the patterns), then one line."""
    return " ".join(redact(str(text))[0].split())


def _escape_inline(match: re.Match[str]) -> str:
    run = match.group(0)
    if run[0] == "_":
        text, start, end = match.string, match.start(), match.end()
        intraword = 0 < start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
        return run if intraword else "\\_" * len(run)
    if run == "\\":  # a backslash escapes only the punctuation after it (or breaks a line at the end)
        nxt = match.string[match.end() : match.end() + 1]
        return run if nxt and nxt.isalnum() or nxt == " " else "\\\\"
    return "\\" + run


def md_escape(text: object) -> str:
    """Inline-safe prose, one line: no HTML (`<` is an entity), no Markdown syntax, and no
    backslash where none is needed, so the raw text reads as the rendered one."""
    line = _ENTITY.sub("&amp;", _one_line(text)).replace("<", "&lt;")
    line = _MD_INLINE.sub(_escape_inline, line)
    return _MD_BLOCK_START.sub(lambda m: "\\" + m.group(0) if not m.group(0).isdigit() else m.group(0) + "\\", line)


def md_code(text: object) -> str:
    """An identifier as a code span, shown literally by every renderer: its delimiter outruns
    every backtick run inside, and a space pads text that starts or ends with a backtick."""
    line = _one_line(text)
    if not line:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def md_fence(text: str, info: str = "text") -> str:
    """A fenced block that the text cannot close: the fence outruns every backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def rca_dict(incident: Incident) -> dict[str, Any]:
    event, evidence, triage = incident.event, incident.evidence, incident.triage
    data: dict[str, Any] = {
        "incident_id": incident.incident_id,
        "state": incident.state.value,
        "pipeline_id": event.pipeline_id,
        "run_id": event.run_id,
        "task_id": event.task_id,
        "try_number": event.try_number,
        "platform": event.platform.value,
        "detected_at": event.detected_at.isoformat(),
        "occurrences": incident.occurrences,
        "triage": triage.contract_dict() if triage else None,
        "log_format": evidence.log_format if evidence else None,
        "repo": evidence.repo.model_dump(mode="json") if evidence and evidence.repo else None,
        "recent_changes": list(evidence.recent_changes) if evidence else [],
        "blame": [b.model_dump(mode="json") for b in evidence.blame] if evidence else [],
        "input_peeks": [p.model_dump(mode="json") for p in evidence.input_peeks] if evidence else [],
        "dbt_nodes": [n.model_dump(mode="json") for n in evidence.dbt_nodes] if evidence else [],
        "packages": dict(evidence.packages) if evidence else {},
        "packages_source": "the environment where PATCHIT runs",
        "notes": list(evidence.notes) if evidence else [],
        "redactions": evidence.redactions if evidence else 0,
    }
    redacted: dict[str, Any] = redact_obj(data)[0]
    return redacted


def render_rca(incident: Incident) -> tuple[str, dict[str, Any]]:
    data = rca_dict(incident)
    triage, evidence = incident.triage, incident.evidence
    task = task_label(incident.event.pipeline_id, incident.event.task_id)
    out = [f"# Root-cause analysis: {md_code(task)}", ""]
    out += [
        f"- **Run:** {md_code(incident.event.run_id)}"
        + (f" (try {incident.event.try_number})" if incident.event.try_number is not None else ""),
        f"- **Detected:** {md_escape(incident.event.detected_at.isoformat(timespec='seconds'))}",
        f"- **Occurrences:** {incident.occurrences}",
    ]
    if triage is None:
        out += ["", "_Not triaged yet._"]
    else:
        culprit = triage.culprit
        where = (
            f"{culprit.path}:{culprit.line}"
            if culprit and culprit.line
            else culprit.path
            if culprit
            else "no repository location"
        )
        out += [
            "",
            "## What failed",
            "",
            md_escape(triage.summary),
            "",
            f"- **Error:** {md_code(triage.error.type)}: {md_escape(triage.error.message[:500])}",
            f"- **Where:** {md_code(where)}",
            "",
            "## Category",
            "",
            f"- **Category:** {md_code(triage.category.value)}",
            f"- **Remediation:** {md_code(triage.remediation.value)}",
            f"- **Confidence:** {triage.confidence:.2f}",
            f"- **Why:** {md_escape(triage.rationale)}",
            *([f"- **Decided by:** {md_escape(triage.decided_by)}"] if triage.decided_by else []),
            f"- **Fingerprint:** {md_code(triage.fingerprint)} (v{triage.fingerprint_version})",
            "",
            "## Next step",
            "",
            md_escape(triage.next_step),
        ]
        if triage.evidence_lines:
            out += ["", "## Evidence", "", md_fence("\n".join(triage.evidence_lines))]
    if evidence is not None:
        if evidence.code_context:
            out += ["", "## Code"]
            for snippet in evidence.code_context:
                numbered = "\n".join(
                    f"{'>' if n == snippet.focus_line else ' '}{n:5d}  {line}"
                    for n, line in enumerate(snippet.lines, snippet.start_line)
                )
                out += ["", md_code(snippet.path), "", md_fence(numbered)]
        out += _recent_changes(evidence)
        out += _dbt_nodes(evidence)
        out += _input_peeks(evidence)
        if evidence.packages:
            out += [
                "",
                "## Packages involved",
                "",
                "_Versions installed where PATCHIT runs (the worker's may differ)._",
                "",
            ]
            out += [f"- {md_code(name)} {md_escape(version)}" for name, version in sorted(evidence.packages.items())]
        if evidence.log_excerpt:
            out += ["", "## Log excerpt", "", md_fence(evidence.log_excerpt[-8000:])]
        if evidence.notes:
            out += ["", "## Notes", ""] + [f"- {md_escape(note)}" for note in evidence.notes]
    return redact("\n".join(out) + "\n")[0], data


def _recent_changes(evidence: Evidence) -> list[str]:
    """Who changed the failing lines and when (blame), then the culprit file's last commits."""
    if not evidence.blame and not evidence.recent_changes:
        return []
    out = ["", "## Recent changes"]
    if evidence.blame:
        out += ["", "Lines involved (git blame):", ""]
        rows = [
            f"{b.line:5d}  {b.commit[:8]}  {b.date[:10]}  {b.author[:30]:30}  {b.summary[:60]}\n       | {b.code}"
            for b in evidence.blame
        ]
        out += [md_fence("\n".join(rows))]
    if evidence.recent_changes:
        out += ["", "Last commits of the culprit file (git log):", ""]
        out += [f"- {md_escape(change)}" for change in evidence.recent_changes]
    return out


def _dbt_nodes(evidence: Evidence) -> list[str]:
    out: list[str] = []
    for node in evidence.dbt_nodes:
        out += ["", f"## dbt node {md_code(node.unique_id)}", "", f"- **Status:** {md_escape(node.status)}"]
        if node.path:
            out.append(f"- **File:** {md_code(node.path)}")
        if node.depends_on:
            out.append("- **Upstream:** " + ", ".join(md_code(d) for d in node.depends_on))
        if node.message:
            out += ["", md_fence(node.message[:2000])]
        if node.compiled_sql:
            out += ["", "Compiled SQL:", "", md_fence(node.compiled_sql[:3000], "sql")]
    return out


def _input_peeks(evidence: Evidence) -> list[str]:
    if not evidence.input_peeks:
        return []
    out = ["", "## Input files (header only)"]
    for peek in evidence.input_peeks:
        size = f", {peek.size} bytes" if peek.size is not None else ""
        out += ["", f"{md_code(peek.path)} ({md_escape(peek.kind)}{size})"]
        if peek.columns:
            out += ["", "- **Columns:** " + ", ".join(md_code(c) for c in peek.columns[:60])]
        if peek.header:
            out += ["", md_fence("\n".join(peek.header))]
    return out
