"""Import PATCHIT's capture and remediation code once in the scheduler, before it forks.

With the LocalExecutor every task process is a fork of a worker that is a fork of the scheduler,
so whatever the scheduler has imported, each task starts with. Without this, every failing task
pays for importing capture's store path (pydantic models, the stage framework, redaction) inside
its `capture_timeout`, and every remediation task pays for the engine again before its first
line of work: measured on a busy 2-core host, seconds per process, and capture missed its bound
(benchmarks/latency.py, docs/architecture.md "Latency"). Importing is all this does: no
connection, thread or file is opened, so nothing is shared with the forks but code.

Called from the listener's `on_starting` hook (plugins/listener.py), which Airflow calls in every
component, task processes included: only the scheduler with a LocalExecutor preloads.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time

log = logging.getLogger(__name__)

# What a failing task's capture and the remediation tasks import (their heavy dependencies come along).
MODULES = (
    "patchit_provider.config",
    "patchit_provider.capture",
    "patchit_provider.capture.event",
    "patchit_provider.capture.trigger",
    "patchit_provider.capture.reference",
    "patchit_provider.capture.analyse",
    "patchit_provider.engine.evidence_inputs",
    "patchit_provider.engine.pipeline",
    "patchit_provider.engine.store",
    "patchit_provider.engine.redaction",
    "patchit_provider.engine.evidence",
    "patchit_provider.engine.triage",
    "patchit_provider.engine.report",
    "patchit_provider.engine.patching",
    "patchit_provider.engine.policy",
    "patchit_provider.engine.validation",
    "patchit_provider.hooks.store",
    "patchit_provider.hooks.api",
    "patchit_provider.hooks.masking",
    "patchit_provider.notifications.webhook",
    "patchit_provider.operators.remediation",
    "patchit_provider.dags.remediation",
)

_done: list[float] = []


def forks_tasks(argv: list[str] | None = None, executor: str | None = None) -> bool:
    """Whether this process is a scheduler whose executor forks task processes from it."""
    argv = sys.argv if argv is None else argv
    if len(argv) < 2 or argv[1] != "scheduler":
        return False
    if executor is None:
        try:
            from airflow.configuration import conf

            executor = conf.get("core", "executor", fallback="") or ""
        except Exception:  # noqa: BLE001 - no configuration: do nothing
            return False
    return "LocalExecutor" in executor


def preload(modules: tuple[str, ...] = MODULES) -> list[str]:
    """Import `modules`; returns those that failed (logged, never raised). Once per process."""
    if _done:
        return []
    started = time.monotonic()
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a task imports it again and reports it there
            failed.append(name)
            log.warning("PATCHIT: could not preload %s: %s: %s", name, type(exc).__name__, exc)
    _done.append(time.monotonic() - started)
    log.info("PATCHIT: preloaded capture and remediation code for task processes in %.2fs", _done[0])
    return failed


def warm_if_scheduler() -> bool:
    """Preload in a scheduler with a LocalExecutor; True when it did."""
    if not forks_tasks():
        return False
    preload()
    return True
