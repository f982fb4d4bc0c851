"""Rule ids and the one shape every policy check returns.

A refusal always names its rule (`[adds-network-call] etl/x.py: ...`) so the audit trail, the UI
and the hostile-patch benchmark can count refusals per rule, and a person reading a rejection
knows which rule to look up without parsing prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where and how much a patch changes.
FORBIDDEN_CATEGORY = "forbidden-category"
NOT_A_PATCH = "not-a-patch-remediation"
EMPTY_DIFF = "empty-diff"
UNPARSABLE_DIFF = "unparsable-diff"
PATH_TRAVERSAL = "path-traversal"
GIT_METADATA = "changes-git-metadata"
CI_FILES = "changes-ci-files"
SECRETS_FILE = "changes-secrets-file"
PATCHIT_PACKAGE = "changes-patchit"
SYMLINK = "changes-symlink"
SUBMODULE = "changes-submodule"
BINARY = "changes-binary-file"
DELETES_FILE = "deletes-file"
FILE_MODE = "changes-file-mode"
OVERSIZE = "oversize"
ADDS_SECRET = "adds-secret"
DEPENDENCY_FILE = "changes-dependency-file"
DEPENDENCY_SOURCE = "changes-dependency-source"
TEST_CONFIG = "changes-test-config"
CHECK_FILES = "changes-check-command-files"
BUILD_FILES = "changes-build-files"
# What the added code does.
NETWORK = "adds-network-call"
SUBPROCESS = "adds-subprocess"
NATIVE_CODE = "adds-native-code"
ENVIRONMENT = "reads-environment"
WRITES_OUTSIDE = "writes-outside-repo"
READS_OUTSIDE = "reads-outside-repo"
EVAL_EXEC = "adds-eval-exec"
DYNAMIC_IMPORT = "adds-dynamic-import"
DESERIALIZATION = "adds-deserialization"
FORCES_EXIT = "forces-exit-status"
# Hiding the failure instead of fixing it.
HIDES_BAD_DATA = "hides-bad-data"
BROAD_EXCEPT = "broad-except"
SWALLOWS_ERROR = "swallows-error"
EARLY_RETURN = "early-return-on-failing-path"
WEAKENS_CHECK = "weakens-check-script"
REMOVES_RAISE = "removes-raise"
WEAKENS_TESTS = "weakens-tests"

_TAGGED = re.compile(r"^\[([a-z][a-z-]+)\] ")


@dataclass(frozen=True)
class Finding:
    """One broken rule: its id and a sentence saying where and why."""

    rule: str
    message: str

    def text(self) -> str:
        return f"[{self.rule}] {self.message}"


def rule_of(violation: str) -> str | None:
    """The rule id a violation string starts with (`[rule] ...`), or None."""
    match = _TAGGED.match(violation)
    return match.group(1) if match else None
