"""Dependency sources and test sections: requirements files, pyproject.toml, setup.cfg, Pipfile.

A missing package may be added to a requirements file (dependency.missing), but only as a
name and version from the configured index: a URL, `git+`, a local path, `-e`, `--index-url`,
`--extra-index-url`, `--find-links`, `--trusted-host` or an include (`-r`/`-c`) changes where code
comes from, which is how a fork or a typo-squat gets installed. In pyproject.toml and setup.cfg
the test sections (`[tool.pytest.ini_options]`, `[tool:pytest]`, coverage, tox) configure the
judge of the patch and may not change; other sections are build configuration.
"""

from __future__ import annotations

import configparser
import re
from typing import Any

import tomllib
from packaging.requirements import InvalidRequirement, Requirement

from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.files import FileChange
from patchit_provider.engine.policy.rules import Finding

REQUIREMENTS = re.compile(r"(?i)(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt)$")
_OPTION = re.compile(r"^\s*(-[a-zA-Z]|--[a-z-]+)")
_SOURCE_WORDS = re.compile(r"(?i)(git\+|hg\+|svn\+|bzr\+|https?://|file:|ftp://|\s@\s|^\s*[./~])")
_TEST_TOOLS = ("pytest", "coverage", "tox", "nox", "hatch.envs", "unittest")
_CFG_TEST = re.compile(r"^(tool:pytest|pytest|coverage:.*|tox|tox:.*|testenv.*|flake8)$")


def _requirement_problem(line: str) -> str | None:
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith("#"):
        return None
    if _OPTION.match(text):
        return f"`{text}` changes where packages come from (an install option)"
    if _SOURCE_WORDS.search(text):
        return f"`{text}` installs from a URL, a repository or a local path instead of the index"
    try:
        requirement = Requirement(text.split(";", 1)[0].split(" --", 1)[0].strip())
    except InvalidRequirement:
        return f"`{text}` is not a requirement specifier"
    if requirement.url:
        return f"`{text}` installs from {requirement.url}"
    return None


def requirements_findings(change: FileChange) -> list[Finding]:
    before = set((change.before or "").splitlines())
    found = []
    for line in change.added:
        line = line.rstrip("\r\n")
        if line in before:
            continue
        problem = _requirement_problem(line)
        if problem:
            found.append(Finding(rules.DEPENDENCY_SOURCE, f"{change.path}: {problem}"))
    return found


def _toml(text: str | None) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text or "")
    except tomllib.TOMLDecodeError:
        return None


def _pyproject_dependencies(doc: dict[str, Any]) -> list[str]:
    project = doc.get("project", {})
    deps = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        deps += group
    for group in doc.get("dependency-groups", {}).values():
        deps += [d for d in group if isinstance(d, str)]
    return [d for d in deps if isinstance(d, str)]


def _sources_anywhere(value: Any) -> bool:
    """Poetry/uv/Pipfile style tables: `{git = ...}`, `{path = ...}`, `{url = ...}`, index tables."""
    if isinstance(value, dict):
        if any(
            key in value for key in ("git", "path", "url", "file", "editable", "index", "index-url", "extra-index-url")
        ):
            return True
        return any(_sources_anywhere(v) for v in value.values())
    if isinstance(value, list):
        return any(_sources_anywhere(v) for v in value)
    return False


def pyproject_findings(change: FileChange) -> list[Finding]:
    before, after = _toml(change.before), _toml(change.after)
    if after is None or before is None:
        return (
            [Finding(rules.BUILD_FILES, f"{change.path}: the patched file is not valid TOML")] if after is None else []
        )
    found = []
    tool_before, tool_after = before.get("tool", {}), after.get("tool", {})
    for name in sorted(set(tool_before) | set(tool_after)):
        if any(name == t.split(".")[0] for t in _TEST_TOOLS) and tool_before.get(name) != tool_after.get(name):
            found.append(Finding(rules.TEST_CONFIG, f"{change.path}: changes [tool.{name}] (the test configuration)"))
    old = set(_pyproject_dependencies(before))
    for dep in _pyproject_dependencies(after):
        problem = None if dep in old else _requirement_problem(dep)
        if problem:
            found.append(Finding(rules.DEPENDENCY_SOURCE, f"{change.path}: {problem}"))
    for section in ("poetry", "uv", "pdm", "hatch"):
        if _sources_anywhere(tool_after.get(section)) and tool_after.get(section) != tool_before.get(section):
            found.append(
                Finding(
                    rules.DEPENDENCY_SOURCE,
                    f"{change.path}: [tool.{section}] gains a package source (git, path, URL or index)",
                )
            )
    if before.get("build-system") != after.get("build-system"):
        found.append(Finding(rules.BUILD_FILES, f"{change.path}: changes [build-system]"))
    return found


def setup_cfg_findings(change: FileChange) -> list[Finding]:
    def sections(text: str | None) -> dict[str, dict[str, str]] | None:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text or "")
        except configparser.Error:
            return None
        return {name: dict(parser[name]) for name in parser.sections()}

    before, after = sections(change.before), sections(change.after)
    if before is None or after is None:
        return (
            [Finding(rules.TEST_CONFIG, f"{change.path}: the patched configuration does not parse")]
            if after is None
            else []
        )
    found = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        if _CFG_TEST.match(name):
            found.append(Finding(rules.TEST_CONFIG, f"{change.path}: changes [{name}] (the test configuration)"))
        elif name == "options":
            for key in ("install_requires", "dependency_links"):
                added = set((after.get(name, {}).get(key) or "").splitlines()) - set(
                    (before.get(name, {}).get(key) or "").splitlines()
                )
                for dep in added:
                    problem = _requirement_problem(dep) if dep.strip() else None
                    if problem or key == "dependency_links":
                        found.append(
                            Finding(
                                rules.DEPENDENCY_SOURCE,
                                f"{change.path}: {problem or f'adds a dependency link {dep.strip()}'}",
                            )
                        )
    return found


def pipfile_findings(change: FileChange) -> list[Finding]:
    before, after = _toml(change.before) or {}, _toml(change.after)
    if after is None:
        return [Finding(rules.DEPENDENCY_SOURCE, f"{change.path}: the patched Pipfile is not valid TOML")]
    found = []
    if after.get("source") != before.get("source"):
        found.append(Finding(rules.DEPENDENCY_SOURCE, f"{change.path}: changes the package index ([[source]])"))
    for section in ("packages", "dev-packages"):
        for name, spec in (after.get(section) or {}).items():
            if spec != (before.get(section) or {}).get(name) and _sources_anywhere(
                {name: spec} if isinstance(spec, dict) else None
            ):
                found.append(
                    Finding(rules.DEPENDENCY_SOURCE, f"{change.path}: `{name}` installs from git, a path or a URL")
                )
    return found
