"""The one way PATCHIT runs git: through gitpython, with the repository's hooks and line-ending
conversions switched off, so a scratch checkout or commit never runs the user's scripts and
keeps bytes exactly as written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import git

SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.autocrlf=false", "-c", "core.safecrlf=false")


def run_git(cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Output of `git ARGS` run in `cwd` (unstripped); raises git.GitCommandError on failure.
    `env` adds to (overrides) this process's environment."""
    command = ["git", *SAFE_CONFIG, *args]
    runner = git.Git(str(cwd))
    if stdin is None:
        return runner.execute(command, strip_newline_in_stdout=False, env=env)
    with tempfile.TemporaryFile() as stream:
        stream.write(stdin.encode("utf-8"))
        stream.seek(0)
        return runner.execute(command, istream=stream, strip_newline_in_stdout=False, env=env)
