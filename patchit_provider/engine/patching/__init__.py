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

__all__ = ["DiffError", "EditError", "apply_edits", "diff_stats", "make_diff", "propose_patch"]


def propose_patch(evidence: Evidence, triage: Triage, repo_root: Path) -> PatchProposal | None:
    """The first fixer whose edits apply cleanly, as a proposal; None when no fixer applies."""
    if triage.remediation is not Remediation.PATCH or patch_forbidden(triage.category):
        return None
    root = Path(repo_root)
    for fixer in FIXERS:
        fix = fixer(evidence, triage, root)
        if fix is None:
            continue
        try:
            contents = apply_edits(root, fix.edits)
            diff = make_diff(root, contents)
        except (EditError, DiffError):
            continue
        return PatchProposal(
            producer=f"fixer:{fix.name}", edits=fix.edits, diff=diff, files=sorted(contents), rationale=fix.rationale
        )
    return None
