"""The fix of a finding as a requirements patch, a `PatchProposal` like any code patch, so it
goes through the same policy, validation and publishing.

Only the version of each `==` pin of the package is rewritten; extras, markers, comments and
the line's layout stay. A pin protected by `--hash` is refused: the hashes of the new version
must be regenerated (pip-compile --generate-hashes, `pip hash`), and a patch that kept the old
ones would fail to install.
"""

from __future__ import annotations

import re
from pathlib import Path

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.models import FileEdit, PatchProposal, VulnFinding
from patchit_provider.engine.patching.common import region_edit
from patchit_provider.engine.patching.diff import make_diff
from patchit_provider.engine.patching.edits import apply_edits
from patchit_provider.engine.vulns.requirements import Pin, parse_requirements


class PatchRefused(InputError, ValueError):
    """No requirements patch can be made for this finding; the message says why."""


def _rewrite(pin: Pin, new: str) -> str:
    written = next(s.version for s in pin.requirement.specifier if s.operator in ("==", "==="))
    pattern = re.compile(rf"(={{2,3}}\s*){re.escape(written)}(?=[\s;,\\#\]]|$)", re.MULTILINE)
    rewritten, count = pattern.subn(lambda m: m.group(1) + new, pin.text, count=1)
    if count != 1:
        raise PatchRefused(
            f"{pin.file}:{pin.line}: the pin `=={written}` is not written where it can be rewritten safely"
        )
    return rewritten


def requirements_patch(finding: VulnFinding, requirements: Path, repo_root: Path) -> PatchProposal:
    """Every `==` pin of the finding's package at its version, rewritten to the fixed version."""
    if finding.action != "upgrade" or not finding.fixed_version:
        raise PatchRefused(f"{finding.package} {finding.version} has no fixed version: accept or mitigate, no upgrade")
    root = Path(repo_root).resolve()
    reqs = parse_requirements(Path(requirements).resolve(), root)
    pins = [p for p in reqs.pins if p.name == finding.package and str(p.version) == finding.version]
    if not pins:
        raise PatchRefused(f"no `{finding.package}=={finding.version}` pin in {requirements}")
    hashed = [p for p in pins if p.hashes]
    if hashed:
        where = ", ".join(f"{p.file}:{p.line}" for p in hashed)
        raise PatchRefused(
            f"{where} pins {finding.package} with --hash: the hashes of {finding.fixed_version} must be "
            "regenerated (e.g. pip-compile --generate-hashes); a patch keeping the old hashes would not install"
        )
    texts: dict[str, str] = {}
    for pin in pins:
        texts.setdefault(pin.file, (root / pin.file).read_text("utf-8"))
    edits: list[FileEdit] = []
    for rel, old in texts.items():
        new = old
        for pin in (p for p in pins if p.file == rel):
            new = new.replace(pin.text, _rewrite(pin, finding.fixed_version), 1)
        edits.append(region_edit(rel, old, new))
    contents = apply_edits(root, edits)
    ids = ", ".join(finding.advisories)
    return PatchProposal(
        producer="fixer:vuln_upgrade",
        edits=edits,
        diff=make_diff(root, contents),
        files=sorted(contents),
        rationale=f"{finding.package} {finding.version} is affected by {ids} ({finding.severity}"
        f"{f', CVSS {finding.base_score}' if finding.base_score is not None else ''}); {finding.fixed_version} is the "
        f"{finding.fix_reason}. Remediate by {finding.deadline}.",
    )
