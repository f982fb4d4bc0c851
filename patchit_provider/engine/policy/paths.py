"""Rules on *where* a patch writes: files no fix of a pipeline failure ever needs to touch.

Whatever the content, a patch may not edit git metadata, CI, secrets, PATCHIT itself, the
build (Dockerfiles, Makefiles, setup.py), the test configuration, or the files the configured
check command runs or reads: each of those changes what judges the patch, or what runs outside
validation, instead of the pipeline's code.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from patchit_provider.engine.patching.edits import path_problem
from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.rules import Finding
from patchit_provider.engine.taxonomy import Category

_DENIED: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"(^|/)\.git(/|$)"), rules.GIT_METADATA, "git metadata"),
    (
        re.compile(
            r"^(\.github|\.gitlab|\.ci|\.circleci|\.buildkite|\.woodpecker|\.drone)/|^\.gitlab-ci\.ya?ml$|(^|/)Jenkinsfile$"
            r"|^\.travis\.ya?ml$|^azure-pipelines\.ya?ml$|^bitbucket-pipelines\.ya?ml$|^\.pre-commit-config\.ya?ml$"
            r"|^\.drone\.ya?ml$|^cloudbuild\.ya?ml$|^buildspec\.ya?ml$"
        ),
        rules.CI_FILES,
        "CI configuration",
    ),
    (re.compile(r"(^|/)\.env($|[./])|(^|/)[^/]*\.env$"), rules.SECRETS_FILE, "an environment file"),
    (
        re.compile(
            r"(?i)(^|/)[^/]*(secret|credential|passw)[^/]*($|/)|\.(pem|key|p12|pfx|jks|keystore|gpg|asc)$"
            r"|(^|/)(id_rsa|id_dsa|id_ecdsa|id_ed25519)[^/]*$|(^|/)\.(netrc|pgpass|npmrc|pypirc|htpasswd)$|(^|/)kubeconfig"
        ),
        rules.SECRETS_FILE,
        "a secrets, credentials or key file",
    ),
    (re.compile(r"(^|/)patchit_provider/"), rules.PATCHIT_PACKAGE, "PATCHIT's own package"),
    (
        re.compile(
            r"(?i)(^|/)(Dockerfile|Containerfile)([.-][^/]*)?$|\.(dockerfile|containerfile)$|(^|/)\.dockerignore$"
            r"|(^|/)(docker-)?compose(\.[^/]*)?\.ya?ml$|(^|/)(GNU)?[Mm]akefile$|\.mk$|(^|/)(Justfile|justfile|Taskfile\.ya?ml)$"
            r"|(^|/)setup\.py$|(^|/)(MANIFEST\.in|build\.gradle|pom\.xml|CMakeLists\.txt)$|(^|/)\.(bazelrc|buildkite)$"
        ),
        rules.BUILD_FILES,
        "a build file (container image, Makefile, setup script)",
    ),
    (
        re.compile(r"(^|/)(conftest\.py|pytest\.ini|tox\.ini|\.coveragerc|noxfile\.py|\.pytest\.ini)$"),
        rules.TEST_CONFIG,
        "the test configuration",
    ),
]
_DEPENDENCY_FILE = re.compile(
    r"(?i)(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt|pyproject\.toml|setup\.cfg|Pipfile(\.lock)?"
    r"|poetry\.lock|uv\.lock|environment\.ya?ml|packages\.yml)$"
)
LOCK_FILE = re.compile(r"(?i)(^|/)(Pipfile\.lock|poetry\.lock|uv\.lock)$")
TEST_FILE = re.compile(r"(^|/)tests?/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
_PIPELINE_SOURCE = re.compile(r"\.(py|sql)$")


def is_dependency_file(path: str) -> bool:
    return bool(_DEPENDENCY_FILE.search(path))


def _named_by_check(path: str, check_paths: set[str]) -> bool:
    pure = PurePosixPath(path)
    return any(path == named or PurePosixPath(named) in pure.parents for named in check_paths)


def path_findings(
    path: str, triage_category: Category, repo_root: Path, check_paths: set[str], pytest_check: bool
) -> list[Finding]:
    problem = path_problem(repo_root, path)
    if problem:
        return [Finding(rules.PATH_TRAVERSAL, problem)]
    found = [
        Finding(rule, f"{path}: patches {what}, which is never allowed")
        for pattern, rule, what in _DENIED
        if pattern.search(path)
    ]
    if _DEPENDENCY_FILE.search(path) and triage_category is not Category.DEPENDENCY_MISSING:
        found.append(
            Finding(rules.DEPENDENCY_FILE, f"{path}: dependency files may change only for dependency.missing failures")
        )
    if LOCK_FILE.search(path):
        found.append(
            Finding(rules.DEPENDENCY_SOURCE, f"{path}: lock files pin sources and hashes; a patch may not rewrite them")
        )
    if _named_by_check(path, check_paths) and (not _PIPELINE_SOURCE.search(path) or TEST_FILE.search(path)):
        found.append(Finding(rules.CHECK_FILES, f"{path}: the configured check command runs or reads this file"))
    elif pytest_check and TEST_FILE.search(path):
        found.append(
            Finding(rules.CHECK_FILES, f"{path}: a test of the configured pytest check (the judge of the patch)")
        )
    return found
