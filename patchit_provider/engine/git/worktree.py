"""Throwaway copies of the user's repository, shared by validation and publishing.

Both work in a detached `git worktree` of HEAD in a temporary directory (a plain copy when the
directory is not a git repository with a commit), so the user's work tree, index and branches
are never touched; the worktree's metadata is removed again afterwards. Hooks are disabled: a
checkout must not run the repository's own scripts.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import git

from patchit_provider.engine.errors import InputError
from patchit_provider.engine.git.command import diff_git_problems, run_git
from patchit_provider.engine.redaction import restore_diff


class UnsafeDiff(InputError, ValueError):
    """A diff that would write git's own files or links: refused before anything is written."""


def has_commit(root: Path) -> bool:
    try:
        repo = git.Repo(root)
        return repo.head.is_valid() and Path(repo.working_tree_dir or "").resolve() == Path(root).resolve()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return False


@contextmanager
def scratch_tree(repo_root: Path) -> Iterator[Path]:
    """A disposable checkout of the repository's HEAD (or a copy), removed on exit."""
    root = Path(repo_root).resolve()
    base = Path(tempfile.mkdtemp(prefix="patchit-"))
    tree = base / "tree"
    is_worktree = has_commit(root)
    try:
        if is_worktree:
            run_git(root, "worktree", "add", "--detach", str(tree), "HEAD")
        else:
            shutil.copytree(root, tree, symlinks=True, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        yield tree
    finally:
        # No `worktree remove`: it would run git in a tree that patched code may have changed.
        shutil.rmtree(base, ignore_errors=True)
        if is_worktree:
            run_git(root, "worktree", "prune")


def apply_diff(tree: Path, diff: str, check_only: bool = False, index: bool = False) -> None:
    """Apply a diff in a scratch tree, all or nothing (raises git.GitCommandError); `index`
    stages it too, ready to commit. Raises UnsafeDiff for git's own paths or links."""
    diff = restore_diff(diff, tree)  # a stored diff is redacted: the real lines come from the tree
    problems = diff_git_problems(diff, tree)
    if problems:
        raise UnsafeDiff("refused before anything was written: " + "; ".join(problems))
    # A plain copy is no repository: git must not find one above it (a /tmp/.git of another user).
    ceiling = {"GIT_CEILING_DIRECTORIES": str(Path(tree).resolve().parent)}
    run_git(tree, "apply", "--check", "--whitespace=nowarn", "-", stdin=diff, env=ceiling)
    if not check_only:
        run_git(tree, "apply", "--whitespace=nowarn", *(["--index"] if index else []), "-", stdin=diff, env=ceiling)
