"""Moved to engine.git.command (git helpers shared by patching, validation and publishing)."""

from patchit_provider.engine.git.command import (  # noqa: F401 - the old import path keeps working
    GIT_NAMES,
    GIT_TIMEOUT,
    SAFE_CONFIG,
    SAFE_ENV,
    diff_git_problems,
    git_environment,
    git_path_problem,
    run_git,
)
