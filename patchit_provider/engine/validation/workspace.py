"""Bounded subprocesses for validation; the throwaway checkouts moved to engine.git.worktree
(shared with publishing) and are re-exported here for the old import path."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from patchit_provider.engine.git.worktree import UnsafeDiff, apply_diff, has_commit, scratch_tree  # noqa: F401 - re-exported

MAX_OUTPUT = 4000


def bounded(text: str, limit: int = MAX_OUTPUT) -> str:
    """The end of a long output (where errors are), marked as cut."""
    return text if len(text) <= limit else f"[... {len(text) - limit} characters cut ...]\n" + text[-limit:]


def run_bounded(
    args: list[str] | str, cwd: Path, timeout: float, env: dict[str, str] | None = None, shell: bool = False
) -> tuple[int | None, str]:
    """(exit status or None on timeout, bounded output). Output goes to a file, so a chatty
    process cannot fill memory; on timeout the whole process group is killed."""
    with tempfile.TemporaryFile() as sink:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            shell=shell,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            status: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status = None
        size = sink.seek(0, os.SEEK_END)
        sink.seek(max(0, size - MAX_OUTPUT * 2))
        text = sink.read().decode("utf-8", "replace")
    output = bounded(text) if size <= MAX_OUTPUT * 2 else bounded(f"[... output cut ...]\n{text}")
    if status is None:
        output += f"\n[timed out after {timeout:g} s]"
    return status, output
