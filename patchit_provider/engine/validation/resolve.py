"""The `resolve` check of a requirements change: the patched requirements must resolve, install,
and every DAG file importing an upgraded package must still import with the new version.

All inside the validation's sandbox, which has no network: pip resolves against the local wheel
cache of `[patchit] vuln_wheel_dir` (copied into the sandbox's private directory), wheels only,
never the host's pip configuration (`PIP_CONFIG_FILE=/dev/null`), never a cache. Steps:

1. `pip install --dry-run --ignore-installed --report` of each changed requirements file: what
   would be installed, or why it does not resolve;
2. the same set installed with `--target` into the private directory (wheels are unpacked,
   nothing of them runs);
3. each DAG file of the tree that imports a package whose pin changed (engine/vulns/blast.py)
   is imported by validation's runner with that directory first on the path.

Without a wheel directory the check cannot run: like a replay that is not possible it passes
with "not run" and why (a missing package added by the dependency fixer stays validated as
before), and `resolved(result)` is false, which a vulnerability fix requires.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from patchit_provider.engine.models import CheckResult
from patchit_provider.engine.policy.deps import REQUIREMENTS
from patchit_provider.engine.validation.sandbox import Sandbox
from patchit_provider.engine.validation.workspace import bounded

MAX_WHEELS = 5_000
MAX_WHEEL_BYTES = 2 << 30  # the whole cache copied into the sandbox
# rel path, DAG id, extra environment -> (runner result, output): validation's sandboxed DAG runner.
DagRunner = Callable[[str, str, dict[str, str]], tuple[dict[str, Any], str]]


NOT_RUN = "not run"


def resolved(checks: list[CheckResult]) -> bool:
    """The patched requirements were resolved, installed and imported by the DAGs, all passing."""
    ran = [c for c in checks if c.name == "resolve"]
    return bool(ran) and all(c.passed and not c.output.startswith(NOT_RUN) for c in ran)


def requirements_files(changed: list[str]) -> list[str]:
    return [rel for rel in changed if REQUIREMENTS.search(rel)]


def _pins(path: Path, root: Path) -> dict[str, str]:
    from patchit_provider.engine.vulns.requirements import parse_requirements

    if not path.is_file():
        return {}
    return {pin.name: str(pin.version) for pin in parse_requirements(path, root).pins}


def changed_pins(original: Path, tree: Path, files: list[str]) -> dict[str, str]:
    """package -> new version, for every `==` pin the patch changed in `files`."""
    new: dict[str, str] = {}
    for rel in files:
        before, after = _pins(original / rel, original), _pins(tree / rel, tree)
        new.update({name: version for name, version in after.items() if before.get(name) != version})
    return new


def _copy_wheels(source: Path, target: Path) -> tuple[int, str | None]:
    target.mkdir()
    count = size = 0
    for wheel in sorted(source.glob("*.whl")):
        if wheel.is_symlink() or not wheel.is_file():
            continue
        count, size = count + 1, size + wheel.stat().st_size
        if count > MAX_WHEELS or size > MAX_WHEEL_BYTES:
            return count, f"the wheel directory holds more than {MAX_WHEELS} wheels or {MAX_WHEEL_BYTES >> 30} GiB"
        shutil.copyfile(wheel, target / wheel.name)
    return count, None


def _pip(wheels: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--find-links",
        str(wheels),
        "--only-binary",
        ":all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        *args,
    ]


def _report(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text("utf-8"))
        return sorted(f"{item['metadata']['name']}=={item['metadata']['version']}" for item in data.get("install", []))
    except (OSError, ValueError, KeyError, TypeError):
        return []


def resolve_checks(
    box: Sandbox,
    original: Path,
    changed: list[str],
    env: dict[str, str],
    wheel_dir: str,
    timeout: float,
    run_dag: DagRunner,
) -> list[CheckResult]:
    """The checks of a patch's changed requirements files (none when it changes none)."""
    files = requirements_files(changed)
    if not files:
        return []
    if not wheel_dir:
        # As a replay that is not possible: the verdict rests on the other checks, and says so.
        # A vulnerability fix needs this proof (engine/vulns/remediate.py requires `resolved`).
        return [
            CheckResult(
                name="resolve",
                passed=True,
                status="not_run",
                output=(
                    f"{NOT_RUN}: [patchit] vuln_wheel_dir is not set. The sandbox has no network, so the patched requirements "
                    "can be resolved only against a local wheel cache."
                ),
            )
        ]
    if not Path(wheel_dir).is_dir():
        return [
            CheckResult(
                name="resolve",
                passed=False,
                output=f"the wheel directory {wheel_dir} ([patchit] vuln_wheel_dir) does not exist",
            )
        ]
    if importlib.util.find_spec("pip") is None:
        return [
            CheckResult(
                name="resolve",
                passed=False,
                output=f"pip is not installed in {sys.executable}: the requirements cannot be resolved",
            )
        ]
    wheels = box.private / "wheels"
    count, problem = _copy_wheels(Path(wheel_dir), wheels)
    if problem:
        return [CheckResult(name="resolve", passed=False, output=problem)]
    pip_env = env | {"PIP_CONFIG_FILE": "/dev/null", "PIP_NO_CACHE_DIR": "1", "PYTHONNOUSERSITE": "1"}
    checks: list[CheckResult] = []
    site = box.private / "site"
    for rel in files:
        report = box.private / f"resolve-{len(checks)}.json"
        status, output = box.run(
            _pip(wheels, "--dry-run", "--ignore-installed", "--report", str(report), "-r", str(box.tree / rel)),
            cwd=box.tree,
            timeout=timeout,
            env=pip_env,
        )
        if status != 0:
            verdict = "timed out" if status is None else f"exit status {status}"
            checks.append(
                CheckResult(
                    name="resolve",
                    passed=False,
                    output=bounded(
                        f"{rel} does not resolve against {count} wheel(s) of the local cache ({verdict}):\n{output}"
                    ),
                )
            )
            continue
        resolved = _report(report)
        status, output = box.run(
            _pip(
                wheels,
                "--ignore-installed",
                "--no-warn-script-location",
                "--target",
                str(site),
                "-r",
                str(box.tree / rel),
            ),
            cwd=box.tree,
            timeout=timeout,
            env=pip_env,
        )
        passed = status == 0
        text = f"{rel} resolves ({len(resolved)} package(s)): {', '.join(resolved)}"
        checks.append(
            CheckResult(
                name="resolve",
                passed=passed,
                output=bounded(
                    text
                    if passed
                    else f"{text}\nbut does not install into the sandbox (exit status {status}):\n{output}"
                ),
            )
        )
    if not all(check.passed for check in checks):
        return checks
    return checks + _import_checks(box, original, files, env, site, run_dag)


def _import_checks(
    box: Sandbox, original: Path, files: list[str], env: dict[str, str], site: Path, run_dag: DagRunner
) -> list[CheckResult]:
    """Every DAG file that imports an upgraded package, imported with the installed set first."""
    from patchit_provider.engine.vulns import blast

    upgraded = changed_pins(original, box.tree, files)
    dags = {info.path: info for info in blast.dag_files(box.tree)}
    affected = sorted({d.path for name in upgraded for d in blast.importers(list(dags.values()), name)})
    if not affected:
        return [
            CheckResult(
                name="import",
                passed=True,
                output=f"no DAG file imports {', '.join(sorted(upgraded)) or 'a changed package'}",
            )
        ]
    run_env = env | {"PYTHONPATH": f"{box.tree}:{site}"}
    checks = []
    for rel in affected:
        for dag_id in dags[rel].dag_ids or [""]:
            result, output = run_dag(rel, dag_id, run_env)
            imported = result["import"]
            detail = f"{rel}: {imported['detail']}" + ("" if imported["ok"] else f"\n{output}")
            checks.append(CheckResult(name="import", passed=imported["ok"], output=bounded(detail)))
    return checks
