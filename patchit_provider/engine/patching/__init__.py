"""Patch proposals: deterministic fixers turned into search/replace edits and a canonical diff.

Only the triage's `patch` remediation gets here, and never for a category the taxonomy forbids
patching; the policy re-checks every proposal whatever produced it.
"""

from __future__ import annotations

from pathlib import Path

from patchit_provider.engine.models import Evidence, PatchProposal, Triage
from patchit_provider.engine.patching.diff import DiffError, diff_stats, make_diff
from patchit_provider.engine.patching.edits import EditError, apply_edits
from patchit_provider.engine.patching.fixers import FIXERS
from patchit_provider.engine.taxonomy import Remediation, patch_forbidden

__all__ = ["DiffError", "EditError", "apply_edits", "diff_stats", "make_diff", "propose_patch", "propose_patches"]


MAX_CANDIDATES = 3


def propose_patches(evidence: Evidence, triage: Triage, repo_root: Path) -> list[PatchProposal]:
    """Every fixer's proposal whose edits apply cleanly, in FIXERS order, distinct diffs only, at
    most MAX_CANDIDATES: validation replays each and keeps a passing one, so where two
    authoritative readings of the evidence disagree (Python's "Did you mean" names a dict, an
    unused local of the same function names the value) the re-run decides, not the order."""
    if triage.remediation is not Remediation.PATCH or patch_forbidden(triage.category):
        return []
    root = Path(repo_root)
    proposals: list[PatchProposal] = []
    for fixer in FIXERS:
        fix = fixer(evidence, triage, root)
        if fix is None:
            continue
        try:
            contents = apply_edits(root, fix.edits)
            diff = make_diff(root, contents)
        except (EditError, DiffError):
            continue
        if any(p.diff == diff for p in proposals):
            continue
        proposals.append(
            PatchProposal(
                producer=f"fixer:{fix.name}",
                edits=fix.edits,
                diff=diff,
                files=sorted(contents),
                rationale=fix.rationale,
            )
        )
        if len(proposals) == MAX_CANDIDATES:
            break
    return proposals


def propose_patch(evidence: Evidence, triage: Triage, repo_root: Path) -> PatchProposal | None:
    """The first fixer whose edits apply cleanly, as a proposal; None when no fixer applies."""
    found = propose_patches(evidence, triage, repo_root)
    return found[0] if found else None
