"""Validation: a patch is offered only if it passes policy and real checks in a throwaway tree.

Checks, each a CheckResult with bounded output (a failing check never raises):
`policy`, `apply` (git apply), `compile` (changed .py files), `import` (the patched DAG file
defines the failed DAG, in a subprocess with an isolated AIRFLOW_HOME), `replay` (the failed
task's callable, called once on the unpatched tree, where it must fail with the recorded error,
and once on the patched tree, where it must succeed), `dbt_parse` / `dbt_build` for a change inside a dbt project (see dbt_checks), and `check` (the
configured command).
A policy-rejected patch is never executed. When the callable cannot be called outside a real task
run (other operators, context, XCom or templated arguments), the verdict rests on the other
checks: replay is then `checks_only`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import git
from unidiff import PatchSet

from patchit_provider.engine.models import (
    CheckResult,
    FailureEvent,
    PatchProposal,
    ReplayKind,
    Triage,
    ValidationResult,
)
from patchit_provider.engine.policy import check_policy
from patchit_provider.engine.repo import map_path
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.validation.dbt_checks import DbtValidation
from patchit_provider.engine.validation.workspace import apply_diff, bounded, run_bounded, scratch_tree

__all__ = ["validate"]

RUNNER = Path(__file__).with_name("runner.py")


def isolated_env(airflow_home: Path, tree: Path) -> dict[str, str]:
    """The environment of every validation subprocess: no AIRFLOW_* from this process (no real
    metadata DB, connections or variables), a fresh AIRFLOW_HOME, the patched tree first on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AIRFLOW__CORE__DAGS_FOLDER=str(tree),
        PYTHONPATH=os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH", "")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _run_dag(tree: Path, dag_rel: str, event: FailureEvent, env: dict[str, str], timeout: float) -> tuple[dict, str]:
    """Import the DAG file (and replay the task) in a subprocess: (runner result, output)."""
    with tempfile.TemporaryDirectory(prefix="patchit-run-") as scratch:
        out = Path(scratch) / "result.json"
        args = [sys.executable, str(RUNNER), str(tree / dag_rel), event.pipeline_id, event.task_id or "", str(tree), str(out)]
        status, output = run_bounded(args, cwd=tree, timeout=timeout, env=env)
        if out.is_file():
            return json.loads(out.read_text(encoding="utf-8")), output
    reason = "timed out" if status is None else f"exited with status {status}"
    return {"import": {"ok": False, "detail": f"the DAG runner {reason}"}, "replay": None}, output


def _apply(tree: Path, diff: str, check_only: bool = False) -> CheckResult | None:
    """None when the diff applies, else the failed `apply` check."""
    try:
        apply_diff(tree, diff, check_only=check_only)
    except git.GitCommandError as exc:
        return CheckResult(name="apply", passed=False, output=bounded(str(exc.stderr or exc)))
    return None


def _compile(tree: Path, files: list[str]) -> CheckResult:
    errors = []
    for rel in files:
        path = tree / rel
        if rel.endswith(".py") and path.is_file():
            try:
                compile(path.read_bytes(), rel, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                errors.append(f"{rel}: {type(exc).__name__}: {exc}")
    python = [rel for rel in files if rel.endswith(".py")]
    return CheckResult(
        name="compile", passed=not errors, output=bounded("\n".join(errors) or f"{len(python)} Python file(s) compile")
    )


def _replay_check(baseline: dict | None, patched: dict | None, error_type: str | None) -> tuple[CheckResult, ReplayKind]:
    """Reproduced-and-fixed needs the unpatched run to fail with the recorded error type."""
    if not baseline or not patched:
        return CheckResult(name="replay", passed=True, output="not possible: the DAG could not be imported for a replay"), "checks_only"
    if baseline["status"] == "not_possible":
        return CheckResult(name="replay", passed=True, output=f"not possible: {baseline['detail']}"), "checks_only"
    expected = (error_type or "").rsplit(".", 1)[-1]
    if baseline["status"] != "failed" or (expected and baseline.get("error_type") != expected):
        seen = baseline.get("error_type") or "no error"
        note = f"not possible: the unpatched callable did not reproduce the failure ({seen}, expected {expected or 'an error'})"
        return CheckResult(name="replay", passed=True, output=note), "checks_only"
    if patched["status"] == "ok":
        out = f"unpatched: {baseline['error_type']} reproduced; patched: {patched['detail']}"
        return CheckResult(name="replay", passed=True, output=bounded(out)), "reproduced_and_fixed"
    out = f"the failure was reproduced but the patched callable still fails:\n{patched.get('detail', '')}"
    return CheckResult(name="replay", passed=False, output=bounded(out)), "not_possible"


def validate(
    proposal: PatchProposal, event: FailureEvent, triage: Triage, repo_root: Path, settings: PatchitSettings
) -> ValidationResult:
    """Run every check on `proposal` in a throwaway tree; passed = all checks passed."""
    root = Path(repo_root)
    decision = check_policy(proposal, triage, root, check_command=settings.check_command)
    checks = [CheckResult(name="policy", passed=decision.allowed, output=bounded("\n".join(decision.violations) or "allowed"))]
    if not decision.allowed:
        return ValidationResult(passed=False, checks=checks, replay="not_possible", policy=decision)
    timeout = settings.validation_timeout
    dag_rel = map_path(event.code_path, root) if event.code_path else None
    with scratch_tree(root) as tree, tempfile.TemporaryDirectory(prefix="patchit-home-") as home:
        env = isolated_env(Path(home), tree)
        baseline = None
        changed = sorted({patched.path for patched in PatchSet(proposal.diff)})
        dbt = DbtValidation(tree, root, changed, env, timeout)
        try:
            failed = _apply(tree, proposal.diff, check_only=True)
            if failed is None:
                # The unpatched runs come first, in the same tree, before the patch lands.
                if dag_rel and event.task_id and (tree / dag_rel).is_file():
                    baseline = _run_dag(tree, dag_rel, event, env, timeout)[0].get("replay")
                dbt.run_baseline()
                failed = _apply(tree, proposal.diff)
            if failed is not None:
                return ValidationResult(passed=False, checks=[*checks, failed], replay="not_possible", policy=decision)
            checks, replay = _checks_after_apply(checks, tree, changed, dag_rel, event, env, baseline, dbt, settings)
        finally:
            dbt.close()
    passed = all(check.passed for check in checks)
    return ValidationResult(passed=passed, checks=checks, replay=replay, policy=decision)


def _checks_after_apply(
    checks: list[CheckResult], tree: Path, changed: list[str], dag_rel: str | None, event: FailureEvent,
    env: dict[str, str], baseline: dict | None, dbt: DbtValidation, settings: PatchitSettings,
) -> tuple[list[CheckResult], ReplayKind]:
    """The checks on the patched tree, and the replay verdict."""
    timeout = settings.validation_timeout
    replay: ReplayKind = "checks_only"
    checks.append(CheckResult(name="apply", passed=True, output=f"{len(changed)} file(s) patched: {', '.join(changed)}"))
    checks.append(_compile(tree, changed))
    if dag_rel and (tree / dag_rel).is_file():
        result, output = _run_dag(tree, dag_rel, event, env, timeout)
        imported = result["import"]
        detail = imported["detail"] if imported["ok"] else f"{imported['detail']}\n{output}"
        checks.append(CheckResult(name="import", passed=imported["ok"], output=bounded(detail)))
        if event.task_id:
            replay_check, replay = _replay_check(baseline, result.get("replay"), event.error.type if event.error else None)
            checks.append(replay_check)
    dbt_checks, dbt_fixed = dbt.checks()
    checks.extend(dbt_checks)
    if dbt_fixed and replay == "checks_only":
        replay = "reproduced_and_fixed"
    if settings.check_command:
        status, output = run_bounded(settings.check_command, cwd=tree, timeout=timeout, env=env, shell=True)
        verdict = "timed out" if status is None else f"exit status {status}"
        checks.append(CheckResult(name="check", passed=status == 0, output=bounded(f"$ {settings.check_command} ({verdict})\n{output}")))
    return checks, replay
