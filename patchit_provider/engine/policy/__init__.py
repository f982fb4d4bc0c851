"""The patch policy: what no patch may do, whoever produced it (a fixer, an LLM, a person).

Model output is untrusted text, so the policy reads both *where* a patch writes (paths.py: git
metadata, CI, secrets, build files, test configuration, the check command's files; small diffs,
text only) and *what* it adds, comparing each file before and after the patch: Python through
its syntax tree (python_ast.py), SQL through sqlglot (sql.py), shell, Dockerfiles and Makefiles
through a line grammar (shell.py), dependency files through their formats (deps.py), plus the
line critic for swallowed failures (critic.py). Every violation starts with its rule id
(rules.py), e.g. `[adds-network-call] etl/load.py: adds ...`.

Validation calls `check_policy` before anything runs; a refused patch is never executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from unidiff import PatchedFile, PatchSet
from unidiff.errors import UnidiffParseError

from patchit_provider.engine.models import PatchProposal, PolicyDecision, Triage
from patchit_provider.engine.patching.edits import path_problem
from patchit_provider.engine.policy import deps, paths, rules
from patchit_provider.engine.policy.critic import critic_findings
from patchit_provider.engine.policy.files import (
    FileChange,
    check_command_paths,
    file_change,
    runs_pytest,
)
from patchit_provider.engine.policy.python_ast import python_findings
from patchit_provider.engine.policy.rules import Finding, rule_of
from patchit_provider.engine.policy.shell import (
    DOCKERFILE,
    MAKEFILE,
    is_shell,
    shell_findings,
)
from patchit_provider.engine.policy.sql import sql_findings
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.taxonomy import Remediation, patch_forbidden

__all__ = ["DEFAULT_LIMITS", "PolicyLimits", "check_policy", "failing_names", "rule_of"]


@dataclass(frozen=True)
class PolicyLimits:
    max_files: int = 5
    max_hunks: int = 10
    max_changed_lines: int = 60


DEFAULT_LIMITS = PolicyLimits()

_FORBIDDEN_HEADERS = [
    (
        re.compile(r"^(new file mode|deleted file mode|new mode|old mode) 120000$", re.MULTILINE),
        rules.SYMLINK,
        "adds or changes a symlink",
    ),
    (
        re.compile(r"^(new file mode|deleted file mode|new mode|old mode) 160000$", re.MULTILINE),
        rules.SUBMODULE,
        "changes a submodule",
    ),
    (re.compile(r"^(GIT binary patch|Binary files .* differ)$", re.MULTILINE), rules.BINARY, "changes a binary file"),
    (re.compile(r"^deleted file mode ", re.MULTILINE), rules.DELETES_FILE, "deletes a file"),
    (re.compile(r"^(old|new) mode ", re.MULTILINE), rules.FILE_MODE, "changes a file mode"),
]
_QUOTED = re.compile(r"""['"`]([A-Za-z_][\w.$-]{0,80})['"`]""")
_SQL_FILE = re.compile(r"(?i)\.sql$")
_PY_FILE = re.compile(r"\.(py|pyw)$")


def failing_names(triage: Triage) -> set[str]:
    """Identifiers the failure names (`KeyError: 'quantity'`, `column "amount"`): the column or
    key a data-hiding idiom would paper over."""
    text = "\n".join([triage.error.message, triage.summary, *triage.evidence_lines])
    return {name for name in _QUOTED.findall(text) if len(name) > 1}


def _diff_paths(patched: PatchedFile) -> set[str]:
    found: set[str] = set()
    for name in (patched.source_file, patched.target_file):
        if name and name != "/dev/null":
            found.add(name[2:] if name.startswith(("a/", "b/")) else name)
    return found


def _content_findings(change: FileChange, triage: Triage, check_paths: set[str]) -> list[Finding]:
    path = change.path
    named = path in check_paths or any(path.startswith(p.rstrip("/") + "/") for p in check_paths)
    found = critic_findings(path, change.patched)
    if _PY_FILE.search(path):
        found += python_findings(change, failing_names(triage), check_entry=named)
    elif _SQL_FILE.search(path):
        found += sql_findings(change, failing_names(triage))
    if DOCKERFILE.search(path) or MAKEFILE.search(path) or is_shell(path, change.before or change.after):
        found += shell_findings(change, check_file=named)
    if deps.REQUIREMENTS.search(path):
        found += deps.requirements_findings(change)
    elif path.endswith("pyproject.toml"):
        found += deps.pyproject_findings(change)
    elif path.endswith("setup.cfg"):
        found += deps.setup_cfg_findings(change)
    elif re.search(r"(^|/)Pipfile$", path):
        found += deps.pipfile_findings(change)
    return found


def check_policy(
    proposal: PatchProposal,
    triage: Triage,
    repo_root: Path,
    limits: PolicyLimits = DEFAULT_LIMITS,
    *,
    check_command: str | None = None,
) -> PolicyDecision:
    """Every rule a patch breaks, each as one `[rule-id] message`; allowed only when there are none.

    `check_command` is the configured validation command: the files it names are the judge of
    the patch, so a patch may not rewrite them (Python entry points it runs may be fixed, but
    may not lose the calls the check relies on).
    """
    root = Path(repo_root)
    found: list[Finding] = []
    if patch_forbidden(triage.category):
        found.append(
            Finding(
                rules.FORBIDDEN_CATEGORY,
                f"category {triage.category.value} must never be patched (escalate or retry instead)",
            )
        )
    if triage.remediation is not Remediation.PATCH:
        found.append(Finding(rules.NOT_A_PATCH, f"the remediation is {triage.remediation.value}, not patch"))
    if not proposal.diff.strip():
        return _decision(found + [Finding(rules.EMPTY_DIFF, "the proposal has no diff")])
    try:
        patch = PatchSet(proposal.diff)
    except UnidiffParseError as exc:
        return _decision(found + [Finding(rules.UNPARSABLE_DIFF, f"the diff does not parse: {exc}")])
    if not len(patch):
        found.append(Finding(rules.UNPARSABLE_DIFF, "the diff changes no file"))
    found += [
        Finding(rule, f"the diff {what}") for pattern, rule, what in _FORBIDDEN_HEADERS if pattern.search(proposal.diff)
    ]

    check_paths = check_command_paths(check_command, root)
    pytest_check = runs_pytest(check_command)
    all_paths = set(proposal.files) | {edit.path for edit in proposal.edits}
    for patched in patch:
        all_paths |= _diff_paths(patched)
    for path in sorted(all_paths):
        found += paths.path_findings(path, triage.category, root, check_paths, pytest_check)

    hunks = sum(len(patched) for patched in patch)
    changed = patch.added + patch.removed
    if len(patch) > limits.max_files:
        found.append(Finding(rules.OVERSIZE, f"the patch changes {len(patch)} files (at most {limits.max_files})"))
    if hunks > limits.max_hunks:
        found.append(Finding(rules.OVERSIZE, f"the patch has {hunks} hunks (at most {limits.max_hunks})"))
    if changed > limits.max_changed_lines:
        found.append(Finding(rules.OVERSIZE, f"the patch changes {changed} lines (at most {limits.max_changed_lines})"))

    added_text = "\n".join(line.value for patched in patch for hunk in patched for line in hunk if line.is_added)
    secrets = redact(added_text)[1] if added_text else 0
    if secrets:
        found.append(Finding(rules.ADDS_SECRET, f"the added lines contain {secrets} value(s) that look like secrets"))
    for patched in patch:
        if path_problem(root, patched.path):
            continue  # never read a file outside the repository (or through a link) to judge it
        found += _content_findings(file_change(root, patched), triage, check_paths)
    return _decision(found)


def _decision(found: list[Finding]) -> PolicyDecision:
    violations = list(dict.fromkeys(f.text() for f in found))
    return PolicyDecision(allowed=not violations, violations=violations)
