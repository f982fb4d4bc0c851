"""The patch policy: what no patch may do, whoever produced it (a fixer, an LLM, a person).

Two kinds of rule. Hard limits on *where* and *how much* a patch may change (no CI files,
secrets or the provider itself; small diffs; text only). And a critic of *what* it does: a
patch that makes the failure disappear by swallowing it (removing a `raise`, adding a broad
`except` or a handler that only logs, weakening asserts or tests) hides the problem instead of
fixing it, which is the worst outcome PATCHIT can have.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from unidiff import PatchedFile, PatchSet
from unidiff.errors import UnidiffParseError

from patchit_provider.engine.models import PatchProposal, PolicyDecision, Triage
from patchit_provider.engine.patching.edits import path_problem
from patchit_provider.engine.redaction import redact
from patchit_provider.engine.taxonomy import Category, Remediation, patch_forbidden


@dataclass(frozen=True)
class PolicyLimits:
    max_files: int = 5
    max_hunks: int = 10
    max_changed_lines: int = 60


DEFAULT_LIMITS = PolicyLimits()

_DENIED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(^|/)\.git(/|$)"), "git metadata"),
    (
        re.compile(
            r"^(\.github|\.gitlab|\.ci|\.circleci|\.buildkite)/|^\.gitlab-ci\.ya?ml$|(^|/)Jenkinsfile$"
            r"|^\.travis\.ya?ml$|^azure-pipelines\.ya?ml$|^bitbucket-pipelines\.ya?ml$|^\.pre-commit-config\.ya?ml$"
        ),
        "CI configuration",
    ),
    (re.compile(r"(^|/)\.env($|[./])|(^|/)[^/]*\.env$"), "an environment file"),
    (
        re.compile(
            r"(?i)(^|/)[^/]*(secret|credential|passw)[^/]*($|/)|\.(pem|key|p12|pfx|jks|keystore|gpg|asc)$"
            r"|(^|/)(id_rsa|id_dsa|id_ecdsa|id_ed25519)[^/]*$|(^|/)\.(netrc|pgpass|npmrc|pypirc|htpasswd)$|(^|/)kubeconfig"
        ),
        "a secrets, credentials or key file",
    ),
    (re.compile(r"(^|/)patchit_provider/"), "PATCHIT's own package"),
]
_DEPENDENCY_FILE = re.compile(
    r"(?i)(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt|pyproject\.toml|setup\.(py|cfg)|Pipfile(\.lock)?"
    r"|poetry\.lock|uv\.lock|environment\.ya?ml|packages\.yml)$"
)
_TEST_FILE = re.compile(r"(^|/)tests?/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
_FORBIDDEN_HEADERS = [
    (re.compile(r"^(new file mode|deleted file mode|new mode|old mode) 120000$", re.M), "adds or changes a symlink"),
    (re.compile(r"^(new file mode|deleted file mode|new mode|old mode) 160000$", re.M), "changes a submodule"),
    (re.compile(r"^(GIT binary patch|Binary files .* differ)$", re.M), "changes a binary file"),
    (re.compile(r"^deleted file mode ", re.M), "deletes a file"),
    (re.compile(r"^(old|new) mode ", re.M), "changes a file mode"),
]

_RAISE = re.compile(r"(?:^|[:;])\s*raise\b")
_ASSERT = re.compile(r"^\s*assert\b|\bself\.assert\w*\(|\bpytest\.raises\(|\bassert_\w+\(")
_TRIVIAL_ASSERT = re.compile(r"^\s*assert\s+(True|1|not\s+False)\b|^\s*assert\b.*\bor\s+True\b")
_SKIP_TEST = re.compile(r"pytest\.(mark\.)?(skip|xfail)|unittest\.skip|@skip\b")
_SUPPRESS = re.compile(r"\bsuppress\(\s*(Base)?Exception\b|\bsuppress\(\s*\)")
_EXCEPT = re.compile(r"^(?P<indent>\s*)except\b(?P<clause>[^:]*):(?P<rest>.*)$")
_BROAD = re.compile(r"^\s*$|^\s*\(?\s*(builtins\.)?(Base)?Exception\b|[(,]\s*(builtins\.)?(Base)?Exception\b")
_LOG_FUNC = re.compile(r"^(print|warnings\.warn|(self\.)?_?(log|logger|logging|LOG|LOGGER)(\.\w+)+)$")


def _is_log_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and bool(_LOG_FUNC.match(ast.unparse(node.func)))


def _is_log_line(line: str) -> bool:
    head = line.strip().split("(", 1)[0].strip()
    return "(" in line and bool(_LOG_FUNC.match(head))


def _path_violations(path: str, triage: Triage, repo_root: Path) -> list[str]:
    problem = path_problem(repo_root, path)
    if problem:
        return [problem]
    found = [f"{path}: patches {what}, which is never allowed" for pattern, what in _DENIED if pattern.search(path)]
    if _DEPENDENCY_FILE.search(path) and triage.category is not Category.DEPENDENCY_MISSING:
        found.append(f"{path}: dependency files may change only for dependency.missing failures")
    return found


def _parse_body(lines: list[str]) -> list[ast.stmt] | None:
    """Statements of a handler body as seen in a hunk; a body cut off by the hunk's end is
    shortened until it parses."""
    text = textwrap.dedent("\n".join(lines))
    body = text.splitlines()
    for end in range(len(body), 0, -1):
        try:
            return ast.parse("\n".join(body[:end])).body
        except SyntaxError:
            continue
    return None


def _swallows(stmt: ast.stmt) -> bool:
    """A statement that does nothing about an error: pass, continue, break, `...`, a bare
    `return`/`return None`, or a log/print call."""
    if isinstance(stmt, (ast.Pass, ast.Continue, ast.Break)):
        return True
    if isinstance(stmt, ast.Return):
        return stmt.value is None or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) or _is_log_call(stmt.value)
    return False


def _handler_violations(path: str, patched: PatchedFile) -> list[str]:
    """Exception handlers that the patch adds or changes and that swallow the error."""
    found: list[str] = []
    for hunk in patched:
        target = [(line.value.rstrip("\r\n"), line.is_added) for line in hunk if not line.is_removed]
        for i, (text, added) in enumerate(target):
            match = _EXCEPT.match(text)
            if not match:
                continue
            indent = len(match["indent"])
            body = [match["rest"]] if match["rest"].strip() and not match["rest"].strip().startswith("#") else []
            touched = added
            for following, following_added in target[i + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
                touched = touched or following_added
            statements = _parse_body(body) if touched else None
            if not statements:
                continue
            reraises = any(isinstance(node, ast.Raise) for stmt in statements for node in ast.walk(stmt))
            if reraises:
                continue
            clause = match["clause"].strip() or "bare"
            if _BROAD.search(match["clause"]):
                found.append(f"{path}: `except {clause}:` catches everything and does not re-raise (hides failures)")
            elif all(_swallows(stmt) for stmt in statements):
                found.append(f"{path}: the `except {clause}:` handler only passes, returns or logs (swallows the error)")
    return found


def _critic(path: str, patched: PatchedFile) -> list[str]:
    added = [line.value for hunk in patched for line in hunk if line.is_added]
    removed = [line.value for hunk in patched for line in hunk if line.is_removed]
    found: list[str] = []
    removed_raises = sum(bool(_RAISE.search(line)) for line in removed)
    if removed_raises > sum(bool(_RAISE.search(line)) for line in added):
        if any(_is_log_line(line) for line in added):
            found.append(f"{path}: turns a failure into a log line (a `raise` is replaced by logging)")
        else:
            found.append(f"{path}: removes a `raise`")
    found += _handler_violations(path, patched)
    if any(_SUPPRESS.search(line) for line in added):
        found.append(f"{path}: adds `contextlib.suppress` of every exception")
    removed_asserts = [line for line in removed if _ASSERT.search(line)]
    if _TEST_FILE.search(path) and removed_asserts:
        found.append(f"{path}: a test loses assertion lines (tests may not be weakened)")
    elif len(removed_asserts) > sum(bool(_ASSERT.search(line)) for line in added):
        found.append(f"{path}: deletes an assert")
    if any(_TRIVIAL_ASSERT.search(line) for line in added):
        found.append(f"{path}: weakens an assert into one that always holds")
    if any(_SKIP_TEST.search(line) for line in added):
        found.append(f"{path}: skips or xfails a test")
    return found


def _diff_paths(patched: PatchedFile) -> set[str]:
    paths = set()
    for name in (patched.source_file, patched.target_file):
        if name and name != "/dev/null":
            paths.add(name[2:] if name.startswith(("a/", "b/")) else name)
    return paths


def check_policy(
    proposal: PatchProposal, triage: Triage, repo_root: Path, limits: PolicyLimits = DEFAULT_LIMITS
) -> PolicyDecision:
    """Every rule a patch breaks, each as one message; allowed only when there are none."""
    root = Path(repo_root)
    violations: list[str] = []
    if patch_forbidden(triage.category):
        violations.append(f"category {triage.category.value} must never be patched (escalate or retry instead)")
    if triage.remediation is not Remediation.PATCH:
        violations.append(f"the remediation is {triage.remediation.value}, not patch")
    if not proposal.diff.strip():
        return PolicyDecision(allowed=False, violations=violations + ["the proposal has no diff"])
    try:
        patch = PatchSet(proposal.diff)
    except UnidiffParseError as exc:
        return PolicyDecision(allowed=False, violations=violations + [f"the diff does not parse: {exc}"])
    if not len(patch):
        violations.append("the diff changes no file")
    violations += [f"the diff {what}" for pattern, what in _FORBIDDEN_HEADERS if pattern.search(proposal.diff)]

    paths = set(proposal.files) | {edit.path for edit in proposal.edits}
    for patched in patch:
        paths |= _diff_paths(patched)
    for path in sorted(paths):
        violations += _path_violations(path, triage, root)

    hunks = sum(len(patched) for patched in patch)
    changed = patch.added + patch.removed
    if len(patch) > limits.max_files:
        violations.append(f"the patch changes {len(patch)} files (at most {limits.max_files})")
    if hunks > limits.max_hunks:
        violations.append(f"the patch has {hunks} hunks (at most {limits.max_hunks})")
    if changed > limits.max_changed_lines:
        violations.append(f"the patch changes {changed} lines (at most {limits.max_changed_lines})")

    added_text = "\n".join(line.value for patched in patch for hunk in patched for line in hunk if line.is_added)
    secrets = redact(added_text)[1] if added_text else 0
    if secrets:
        violations.append(f"the added lines contain {secrets} value(s) that look like secrets")
    for patched in patch:
        violations += _critic(patched.path, patched)
    return PolicyDecision(allowed=not violations, violations=violations)
