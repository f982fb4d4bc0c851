"""A model's reading of a failure the catalogs left `unknown`, checked and applied to the triage.

The model only chooses: one taxonomy category other than `unknown`, a remediation the taxonomy
allows for it, and one line of the evidence it rests on, quoted verbatim. What it chose is checked
here, never trusted: the quoted line must be in the evidence (a reading rests on text a person
can find), `patch` is refused for the categories that may never be patched, and the confidence
is a fixed low one. The fingerprint and the culprit stay the catalogs': grouping
and the culprit line must not change with a model's answer.
"""

from __future__ import annotations

import re

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.taxonomy import Category, Remediation, patch_forbidden
from patchit_provider.engine.triage.rules import NEXT_STEPS

CONFIDENCE = 0.3  # a lead, not a fact: `approval = below_confidence` holds any patch that follows it
MIN_QUOTE_CHARS = 12
MAX_QUOTE_CHARS = 400
MAX_WHY_CHARS = 300
_SPACE = re.compile(r"\s+")


DECIDED_BY = "model reading"


def is_model_reading(triage: object) -> bool:
    """Whether the triage's category rests on a model's reading (a patch that follows it always
    waits for a person: stages/approve.py)."""
    return str(getattr(triage, "decided_by", "") or "").startswith(DECIDED_BY)


class ReadingRefused(ValueError):
    """The model's reading breaks a rule; the triage stays `unknown`."""


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def evidence_text(evidence: Evidence) -> str:
    """The text a quote must come from: the error, its traceback and the log excerpt."""
    error = evidence.error
    parts = [f"{error.type}: {error.message}\n{error.traceback or ''}" if error else "", evidence.log_excerpt or ""]
    return "\n".join(parts)


def apply_reading(
    triage: Triage,
    evidence: Evidence,
    *,
    category: Category,
    remediation: Remediation,
    quote: str,
    why: str,
    model: str,
) -> Triage:
    """`triage` (an `unknown` one) with the model's category and remediation; raises
    ReadingRefused when the reading breaks a rule of this module's docstring."""
    if triage.category is not Category.UNKNOWN:
        raise ReadingRefused(f"only an unknown triage is read by a model, not {triage.category.value}")
    if category is Category.UNKNOWN:
        raise ReadingRefused("the model could not name a category either")
    if remediation is Remediation.PATCH and patch_forbidden(category):
        raise ReadingRefused(f"{category.value} is never patched, and the model asked for a patch")
    line = _flat(quote)
    if not MIN_QUOTE_CHARS <= len(line) <= MAX_QUOTE_CHARS:
        raise ReadingRefused(f"the quoted line must be {MIN_QUOTE_CHARS}-{MAX_QUOTE_CHARS} characters, not {len(line)}")
    if line not in _flat(evidence_text(evidence)):  # evidence is redacted (collect_evidence): as the model saw it
        raise ReadingRefused("the quoted line is not in the evidence")
    reason = redact(_flat(why)[:MAX_WHY_CHARS])[0] or "(no reason given)"
    summary = triage.summary.removesuffix(f" [{Category.UNKNOWN.value}]")
    return triage.model_copy(
        update={
            "category": category,
            "remediation": remediation,
            "confidence": CONFIDENCE,
            "summary": f"{summary} [{category.value}, read by a model]"[:300],
            "rationale": f"{reason} (model reading by {model}: no catalog entry matched; quoted line: {line!r})",
            "next_step": NEXT_STEPS[category],
            "decided_by": f"{DECIDED_BY} ({model})",
            "source": "the model's answer; its quoted line was found in the evidence",
            "evidence_lines": [line, *[l for l in triage.evidence_lines if _flat(l) != line]][:20],
        }
    )
