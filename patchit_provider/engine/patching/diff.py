"""The canonical diff of a patch, produced and checked by git itself.

Whatever produced the edits, the diff that policy checks, validation applies and publishing
commits is regenerated here from the edited files, so it is always in the form `git apply`
accepts (`diff --git a/x b/x`). It is made in a scratch repository holding only the touched
files, never in the user's repository.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import git
from unidiff import PatchSet

from patchit_provider.engine.errors import PatchitError
from patchit_provider.engine.git.command import git_path_problem, run_git
from patchit_provider.engine.patching.edits import EditError, path_problem


class DiffError(PatchitError, RuntimeError):
    """git could not produce or re-apply the diff of an edit."""


def make_diff(root: Path, new_contents: dict[str, str]) -> str:
    """Unified diff from the files under `root` to `new_contents`, verified with `git apply --check`."""
    if not new_contents:
        raise DiffError("nothing to diff")
    with tempfile.TemporaryDirectory(prefix="patchit-diff-") as scratch:
        scratch_path = Path(scratch)
        for rel in new_contents:  # git's own files are never written, not even in this scratch repository
            problem = git_path_problem(rel)
            if problem:
                raise EditError(problem)
        run_git(scratch_path, "init", "--quiet", "--template=")
        existing = []
        for rel in new_contents:
            problem = path_problem(Path(root), rel)
            if problem:
                raise EditError(problem)
            target = scratch_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = Path(root) / rel
            if source.is_file():
                target.write_bytes(source.read_bytes())
                existing.append(rel)
        if existing:
            run_git(scratch_path, "add", "--", *existing)
        for rel, text in new_contents.items():
            (scratch_path / rel).write_bytes(text.encode("utf-8"))
        created = [rel for rel in new_contents if rel not in existing]
        if created:  # new files show up in `git diff` as "new file" once intended to be added
            run_git(scratch_path, "add", "--intent-to-add", "--", *created)
        diff = run_git(
            scratch_path,
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--",
            *sorted(new_contents),
        )
        if not diff.strip():
            raise DiffError("the edits change nothing")
        try:
            run_git(scratch_path, "apply", "--check", "--cached", "-", stdin=diff)
        except git.GitCommandError as exc:
            raise DiffError(f"git apply --check rejected the diff: {exc.stderr.strip()}") from exc
    return diff


def diff_stats(diff: str) -> tuple[int, int, int, int]:
    """(files, hunks, added lines, removed lines) of a unified diff."""
    patch = PatchSet(diff)
    hunks = sum(len(patched) for patched in patch)
    return len(patch), hunks, patch.added, patch.removed
