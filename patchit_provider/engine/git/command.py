"""The one way PATCHIT runs git, hardened against the trees it works on.

A scratch tree holds text from a model or a log, and git executes what its configuration names
(`core.fsmonitor`, hooks, `filter.*` drivers selected by attributes, external diff, pager). So:
- no system or global configuration (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), no
  system attributes (`GIT_ATTR_NOSYSTEM`); command-line settings (which beat every config file)
  switch off hooks, fsmonitor, the global attributes file, line-ending conversion, submodule
  recursion, automatic gc and signing;
- a cleared environment: none of this process's `GIT_*` variables (GIT_DIR, GIT_CONFIG_*,
  GIT_EXTERNAL_DIFF, GIT_SSH_COMMAND, ...) reach git, and every call has a timeout;
- `git_path_problem()`: paths git treats as its own (`.git` in any component, `.gitmodules`,
  `.gitattributes`) and link modes are never written by PATCHIT, whatever the policy says.
Git 2.39 cannot ignore in-tree `.gitattributes`; refusing edits to them leaves only the user's
committed attributes, and no config a patch can write names a filter driver.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath

import git

SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.attributesFile=/dev/null",
    "-c",
    "core.autocrlf=false",
    "-c",
    "core.safecrlf=false",
    "-c",
    "core.pager=cat",
    "-c",
    "core.editor=false",
    "-c",
    "submodule.recurse=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "tag.gpgSign=false",
    "-c",
    "protocol.allow=never",
)
SAFE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}
GIT_TIMEOUT = 120.0
# Paths git gives meaning to: its directory, submodule and attribute files.
GIT_NAMES = {".git", ".gitmodules", ".gitattributes"}
# Modes a patch must never create: symbolic links and submodule links.
_LINK_MODE = re.compile(
    r"^(?:new file mode|new mode|old mode|deleted file mode|index \S+)\s+(120000|160000)\s*$", re.MULTILINE
)


def git_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any GIT_* variable, plus SAFE_ENV and `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**base, **SAFE_ENV, **(env or {})}


def run_git(
    cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = GIT_TIMEOUT
) -> str:
    """Output of `git ARGS` run in `cwd` (unstripped); raises git.GitCommandError on failure or
    timeout. `env` adds to the hardened environment (identity for a commit, for instance)."""
    command = ["git", *SAFE_CONFIG, *args]
    try:
        done = subprocess.run(
            command,
            cwd=str(cwd),
            input=(stdin or "").encode("utf-8"),
            capture_output=True,
            env=git_environment(env),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise git.GitCommandError(command, None, f"timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise git.GitCommandError(command, None, str(exc)) from exc
    if done.returncode != 0:
        raise git.GitCommandError(command, done.returncode, done.stderr, done.stdout)
    return done.stdout.decode("utf-8", "replace")


def git_path_problem(rel: str) -> str | None:
    """Why PATCHIT must not write `rel` (a repository-relative path), or None."""
    for part in PurePosixPath(rel.replace("\\", "/")).parts:
        name = part.lower().rstrip(". ")  # as case-insensitive and Windows file systems see it
        if name in GIT_NAMES or name.startswith(".git~") or name == "git~1":
            return f"{rel!r} is git's own file ({part}): a patch never writes git's configuration, hooks, submodules or attributes"
    return None


def diff_git_problems(diff: str, cwd: Path) -> list[str]:
    """Refusals for a diff that touches git's own paths or creates links, as git itself parses it
    (`git apply --numstat -z` unquotes paths and follows renames; nothing is written)."""
    problems = [
        f"the diff gives a path mode {mode} (a symbolic link or submodule)" for mode in _LINK_MODE.findall(diff)
    ]
    try:
        listing = run_git(cwd, "apply", "--numstat", "-z", "-", stdin=diff)
    except git.GitCommandError as exc:
        return [*problems, f"git cannot read the diff: {str(exc.stderr or exc).strip()[:300]}"]
    paths = [field for field in listing.split("\0") if field]
    for field in paths:
        path = field.split("\t")[-1]  # "added\tdeleted\tpath", or a bare path after a rename's header
        problem = path and git_path_problem(path)
        if problem:
            problems.append(problem)
    # Belt and braces: every path a header line names, as written.
    for header in re.findall(
        r"^(?:diff --git |--- |\+\+\+ |rename from |rename to |copy from |copy to )(.+)$", diff, re.MULTILINE
    ):
        for token in header.split():
            problem = git_path_problem(token.strip('"'))
            if problem and problem not in problems:
                problems.append(problem)
    return problems
