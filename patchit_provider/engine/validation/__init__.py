"""Validation: a patch is offered only if it passes policy and real checks in a throwaway tree.

Checks, each a CheckResult with bounded output (a failing check never raises):
`policy`, `apply` (git apply), `compile` (changed .py files), `import` (the patched DAG file
defines the failed DAG, in a subprocess with an isolated AIRFLOW_HOME), `replay` (the failed
task's callable, called with what the failed try received (its upstream XComs and rendered
template fields, `ReplayInputs` fetched with the evidence) once on the unpatched tree, where it
must fail with the recorded error class, and once on the patched tree, where it must succeed), `dbt_parse` / `dbt_build` for a change inside a dbt project (see dbt_checks), `resolve` for a
requirements change (see resolve.py), and `check` (the configured command).
A policy-rejected patch is never executed. When the callable cannot be called faithfully outside a
real task run (other operators, the task context, XComs that are not plain JSON or were not
fetched, mapped inputs), the verdict rests on the other checks: replay is then `checks_only`, the
replay check's status is `not_run` (never shown as passed) and `ValidationResult.not_replayed`
says why. With `[patchit] replay_required`, such a patch needs a person's approval
(`approval_reason`).

Everything that executes code of the tree (import, replay, dbt, the check command) runs in the
sandbox (sandbox.py). Where no sandbox works, nothing of the patch is executed: with
`sandbox = auto` the verdict rests on the static checks (policy, git paths, apply, compile, parse), a
`sandbox` check says "not run" and why, and `approval_reason` makes a person approve before
anything is published; with `sandbox = required` validation fails.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import git
from unidiff import PatchSet

from patchit_provider.engine.models import (
    CheckResult,
    FailureEvent,
    PatchProposal,
    PolicyDecision,
    ReplayInputs,
    ReplayKind,
    Triage,
    ValidationResult,
)
from patchit_provider.engine.policy import check_policy
from patchit_provider.engine.repo import map_path
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.validation.dbt_checks import DbtValidation
from patchit_provider.engine.validation.resolve import resolve_checks
from patchit_provider.engine.validation.sandbox import Limits, Sandbox, probe
from patchit_provider.engine.git.command import diff_git_problems
from patchit_provider.engine.git.worktree import UnsafeDiff, apply_diff, scratch_tree
from patchit_provider.engine.validation.workspace import bounded

__all__ = ["validate"]

RUNNER = Path(__file__).with_name("runner.py")


MAX_RESULT_BYTES = 1 << 20


def isolated_env(airflow_home: Path, tree: Path) -> dict[str, str]:
    """Validation's own variables for every sandboxed process (the sandbox adds its allow-list
    and nothing else of this process): a fresh AIRFLOW_HOME (no real metadata DB, connections or
    variables), the patched tree first on the path."""
    return dict(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AIRFLOW__CORE__DAGS_FOLDER=str(tree),
        PYTHONPATH=str(tree),
        PYTHONDONTWRITEBYTECODE="1",
    )


def _read_result(path: Path, private: Path) -> dict[str, Any] | None:
    """The runner's result file, written inside the sandbox: a regular file where it should be
    (no link out of the private directory), at most MAX_RESULT_BYTES, of the expected shape."""
    try:
        if Path(os.path.realpath(path)) != path or not str(path).startswith(str(private) + os.sep):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            if not os.path.isfile(path):
                return None
            result = json.loads(handle.read(MAX_RESULT_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict):
        return None
    imported = result.get("import")
    replay = result.get("replay")
    if (
        not isinstance(imported, dict)
        or not isinstance(imported.get("ok"), bool)
        or not isinstance(imported.get("detail"), str)
    ):
        return None
    if replay is not None and not (isinstance(replay, dict) and isinstance(replay.get("status"), str)):
        return None
    return result


def _run_dag(
    box: Sandbox,
    tree: Path,
    dag_rel: str,
    event: FailureEvent,
    env: dict[str, str],
    timeout: float,
    inputs: ReplayInputs | None = None,
) -> tuple[dict[str, Any], str]:
    """Import the DAG file (and replay the task with `inputs`) in a sandboxed subprocess:
    (runner result, output)."""
    run_dir = box.private / f"run-{uuid.uuid4().hex[:12]}"
    run_dir.mkdir()
    out = run_dir / "result.json"
    args = [
        sys.executable,
        str(RUNNER),
        str(tree / dag_rel),
        event.pipeline_id,
        event.task_id or "",
        str(tree),
        str(out),
    ]
    if inputs is not None and event.task_id:
        given = run_dir / "inputs.json"  # data for the runner's json.load, never code
        given.write_text(inputs.model_dump_json(), encoding="utf-8")
        args.append(str(given))
    status, output = box.run(args, cwd=tree, timeout=timeout, env=env)
    result = _read_result(out, box.private)
    if result is not None:
        return result, output
    reason = "timed out" if status is None else f"exited with status {status} without a readable result"
    return {"import": {"ok": False, "detail": f"the DAG runner {reason}"}, "replay": None}, output


def _apply(tree: Path, diff: str, check_only: bool = False) -> CheckResult | None:
    """None when the diff applies, else the failed `apply` check."""
    try:
        apply_diff(tree, diff, check_only=check_only)
    except UnsafeDiff as exc:
        return CheckResult(name="apply", passed=False, output=bounded(str(exc)))
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


def _parse(tree: Path, files: list[str]) -> CheckResult:
    """Changed YAML, JSON and TOML files still parse (safe loaders: nothing is executed)."""
    import tomllib

    import yaml

    loaders = {".yml": yaml.safe_load, ".yaml": yaml.safe_load, ".json": json.loads, ".toml": tomllib.loads}
    errors, parsed = [], 0
    for rel in files:
        loader, path = loaders.get(Path(rel).suffix.lower()), tree / rel
        if loader is None or not path.is_file() or path.is_symlink():
            continue
        parsed += 1
        try:
            loader(path.read_text(encoding="utf-8"))
        except (ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{rel}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    return CheckResult(
        name="parse", passed=not errors, output=bounded("\n".join(errors) or f"{parsed} YAML/JSON/TOML file(s) parse")
    )


NOT_REPLAYED = "not replayed"


def _not_replayed(why: str) -> tuple[CheckResult, ReplayKind]:
    """A replay that could not be made: it does not block the patch, and is never shown as passed."""
    return CheckResult(
        name="replay", passed=True, status="not_run", output=bounded(f"{NOT_REPLAYED}: {why}")
    ), "checks_only"


def _replay_check(
    baseline: dict[str, Any] | None, patched: dict[str, Any] | None, error_type: str | None
) -> tuple[CheckResult, ReplayKind]:
    """Reproduced-and-fixed needs the unpatched run to fail with the recorded error type."""
    if not baseline or not patched:
        return _not_replayed("the DAG could not be imported for a replay")
    if baseline["status"] == "not_possible":
        return _not_replayed(str(baseline["detail"]))
    expected = (error_type or "").rsplit(".", 1)[-1]
    if baseline["status"] != "failed" or (expected and baseline.get("error_type") != expected):
        seen = baseline.get("error_type") or "no error"
        return _not_replayed(
            f"the unpatched callable did not reproduce the failure ({seen}, expected {expected or 'an error'})"
        )
    if patched["status"] == "ok":
        given = baseline.get("inputs") or ""
        out = f"unpatched: {baseline['error_type']} reproduced{given}; patched: {patched['detail']}"
        return CheckResult(name="replay", passed=True, output=bounded(out)), "reproduced_and_fixed"
    out = f"the failure was reproduced but the patched callable still fails:\n{patched.get('detail', '')}"
    return CheckResult(name="replay", passed=False, output=bounded(out)), "not_possible"


def validate(
    proposal: PatchProposal,
    event: FailureEvent,
    triage: Triage,
    repo_root: Path,
    settings: PatchitSettings,
    replay_inputs: ReplayInputs | None = None,
) -> ValidationResult:
    """Run every check on `proposal` in a throwaway tree; passed = all checks passed (without a
    sandbox: the static checks, see the module's docstring). `replay_inputs`: what the failed try
    received, given to the replayed callable."""
    return _replay_policy(_validate(proposal, event, triage, Path(repo_root), settings, replay_inputs), settings)


def _replay_policy(result: ValidationResult, settings: PatchitSettings) -> ValidationResult:
    """Say why a patch was not replayed; with `replay_required`, a person must approve it."""
    if result.replayed:
        return result
    check = next((c for c in result.checks if c.name == "replay"), None)
    if check is not None and check.status == "not_run":
        why = check.output.removeprefix(f"{NOT_REPLAYED}: ")
    elif not result.passed:
        return result  # not offered anyway; a failed replay says so in its check
    elif not result.sandboxed and any(c.name == "sandbox" for c in result.checks):
        why = "no sandbox: nothing of the patch was run"
    else:
        why = "no failed Python task to replay (no DAG file or task id)"
    update: dict[str, Any] = {"not_replayed": why}
    if result.passed and settings.replay_required and not result.approval_reason:
        update["approval_reason"] = (
            f"{NOT_REPLAYED} ({why}): [patchit] replay_required = true, so a person must approve before publishing"
        )
    return result.model_copy(update=update)


def _validate(
    proposal: PatchProposal,
    event: FailureEvent,
    triage: Triage,
    root: Path,
    settings: PatchitSettings,
    replay_inputs: ReplayInputs | None,
) -> ValidationResult:
    decision = check_policy(proposal, triage, root, check_command=settings.check_command)
    checks = [
        CheckResult(name="policy", passed=decision.allowed, output=bounded("\n".join(decision.violations) or "allowed"))
    ]
    if not decision.allowed:
        return ValidationResult(passed=False, checks=checks, replay="not_possible", policy=decision)
    # Defence in depth, whatever the policy says: git's own files are refused before any write.
    refused = diff_git_problems(proposal.diff, root)
    if refused:
        output = "refused before anything was written: " + "; ".join(refused)
        checks.append(CheckResult(name="apply", passed=False, output=bounded(output)))
        return ValidationResult(passed=False, checks=checks, replay="not_possible", policy=decision)
    unavailable = probe(settings.sandbox_bwrap)
    if unavailable:
        return _static_only(proposal, root, checks, decision, settings, unavailable)
    timeout = settings.validation_timeout
    limits = Limits(
        memory_mb=settings.sandbox_memory_mb,
        cpu_seconds=math.ceil(2 * timeout) + 10,
        processes=settings.sandbox_max_processes,
    )
    dag_rel = map_path(event.code_path, root) if event.code_path else None
    with scratch_tree(root) as tree, tempfile.TemporaryDirectory(prefix="patchit-sandbox-") as private:
        box = Sandbox(
            tree=tree,
            private=Path(private),
            bwrap=settings.sandbox_bwrap,
            allow_env=settings.sandbox_env,
            limits=limits,
        )
        (box.private / "airflow").mkdir()
        env = isolated_env(box.private / "airflow", tree)
        baseline = None
        changed = sorted({patched.path for patched in PatchSet(proposal.diff)})
        dbt = DbtValidation(tree, root, changed, env, timeout, box)
        failed = _apply(tree, proposal.diff, check_only=True)
        if failed is None:
            # The unpatched runs come first, in the same tree, before the patch lands.
            if dag_rel and event.task_id and (tree / dag_rel).is_file():
                baseline = _run_dag(box, tree, dag_rel, event, env, timeout, replay_inputs)[0].get("replay")
            dbt.run_baseline()
            failed = _apply(tree, proposal.diff)
        if failed is not None:
            return ValidationResult(
                passed=False, checks=[*checks, failed], replay="not_possible", policy=decision, sandboxed=True
            )
        checks, replay = _checks_after_apply(
            checks, box, changed, dag_rel, event, env, baseline, dbt, settings, replay_inputs
        )
        checks += resolve_checks(
            box,
            root,
            changed,
            env,
            settings.vuln_wheel_dir,
            timeout,
            lambda rel, dag_id, run_env: _run_dag(
                box, tree, rel, event.model_copy(update={"pipeline_id": dag_id, "task_id": None}), run_env, timeout
            ),
        )
    passed = all(check.passed for check in checks)
    return ValidationResult(passed=passed, checks=checks, replay=replay, policy=decision, sandboxed=True)


def _static_only(
    proposal: PatchProposal,
    root: Path,
    checks: list[CheckResult],
    decision: PolicyDecision,
    settings: PatchitSettings,
    why: str,
) -> ValidationResult:
    """No working sandbox: apply and compile only, nothing of the patch is executed."""
    with scratch_tree(root) as tree:
        failed = _apply(tree, proposal.diff)
        if failed is not None:
            checks = [*checks, failed]
        else:
            changed = sorted({patched.path for patched in PatchSet(proposal.diff)})
            checks = [
                *checks,
                CheckResult(name="apply", passed=True, output=f"{len(changed)} file(s) patched: {', '.join(changed)}"),
                _compile(tree, changed),
                _parse(tree, changed),
            ]
    skipped = "the DAG import, the replay, dbt and the check command"
    if settings.sandbox == "required":
        note = f"not run: {why}. [patchit] sandbox = required, so the patch is not validated without a sandbox."
        checks.append(CheckResult(name="sandbox", passed=False, status="not_run", output=note))
        return ValidationResult(passed=False, checks=checks, replay="not_possible", policy=decision, sandboxed=False)
    note = (
        f"not run: {why}. Nothing of the patch was executed ({skipped} were skipped): "
        "static checks only (policy, apply, compile, parse), so a person must approve before it is published."
    )
    checks.append(CheckResult(name="sandbox", passed=False, status="not_run", output=note))
    passed = all(check.passed for check in checks if check.name != "sandbox")
    reason = f"validated by static checks only, without a sandbox ({why}): the patched code was never run"
    return ValidationResult(
        passed=passed,
        checks=checks,
        replay="not_possible",
        policy=decision,
        sandboxed=False,
        approval_reason=reason if passed else None,
    )


def _checks_after_apply(
    checks: list[CheckResult],
    box: Sandbox,
    changed: list[str],
    dag_rel: str | None,
    event: FailureEvent,
    env: dict[str, str],
    baseline: dict[str, Any] | None,
    dbt: DbtValidation,
    settings: PatchitSettings,
    replay_inputs: ReplayInputs | None = None,
) -> tuple[list[CheckResult], ReplayKind]:
    """The checks on the patched tree, and the replay verdict."""
    tree = box.tree
    timeout = settings.validation_timeout
    replay: ReplayKind = "checks_only"
    checks.append(
        CheckResult(name="apply", passed=True, output=f"{len(changed)} file(s) patched: {', '.join(changed)}")
    )
    checks.append(_compile(tree, changed))
    if dag_rel and (tree / dag_rel).is_file():
        result, output = _run_dag(box, tree, dag_rel, event, env, timeout, replay_inputs)
        imported = result["import"]
        detail = imported["detail"] if imported["ok"] else f"{imported['detail']}\n{output}"
        checks.append(CheckResult(name="import", passed=imported["ok"], output=bounded(detail)))
        if event.task_id:
            replay_check, replay = _replay_check(
                baseline, result.get("replay"), event.error.type if event.error else None
            )
            checks.append(replay_check)
    dbt_checks, dbt_fixed = dbt.checks()
    checks.extend(dbt_checks)
    if dbt_fixed and replay == "checks_only":
        replay = "reproduced_and_fixed"
    if settings.check_command:
        status, output = box.run(settings.check_command, cwd=tree, timeout=timeout, env=env, shell=True)
        verdict = "timed out" if status is None else f"exit status {status}"
        checks.append(
            CheckResult(
                name="check", passed=status == 0, output=bounded(f"$ {settings.check_command} ({verdict})\n{output}")
            )
        )
    return checks, replay
