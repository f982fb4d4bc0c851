"""dbt checks for patches that touch a dbt project: `dbt parse` and `dbt build --select`.

A patch to a dbt model is only proven by dbt itself, so every changed file inside a project (a
`dbt_project.yml` at or above it, within the repository) makes validation run, from the project's
directory in the scratch tree: `dbt parse` (check `dbt_parse`) and `dbt build` of the changed
files' nodes with their parents and tests (check `dbt_build`). Parents are built because a fresh
worktree has an empty warehouse: a model cannot be built before the models and seeds it refs.
A change to macros or project files can affect any node, so it builds the whole project.

dbt runs in the validation's sandbox (sandbox.py): no network, so only a local warehouse (DuckDB)
can be built, and only the project's own profiles.yml is visible (a DBT_PROFILES_DIR elsewhere on
the host is not mounted). dbt's target and log directories go to the sandbox's private
directory, never into the user's repository. A relative DuckDB path resolves inside the scratch
tree.

When dbt is not installed where PATCHIT validates, the dbt checks fail: a dbt change that dbt
never saw is not validated, and must not pass on the other checks alone.

The replay for a dbt failure is the build: it fails on the unpatched tree and passes on the
patched one.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from patchit_provider.engine.errors import StagePreconditionError
from patchit_provider.engine.models import CheckResult
from patchit_provider.engine.validation.sandbox import Sandbox
from patchit_provider.engine.validation.workspace import bounded

DBT_MISSING = "dbt is not installed where PATCHIT validates"
PROJECT_FILE = "dbt_project.yml"
# Files whose change can affect every node: the whole project is built.
PROJECT_WIDE = {PROJECT_FILE, "packages.yml", "dependencies.yml", "selectors.yml", "profiles.yml"}
PROJECT_WIDE_DIRS = {"macros"}


def find_dbt() -> list[str] | None:
    """dbt in PATCHIT's own environment: the `dbt` script next to the interpreter (`-m
    dbt.cli.main` prints a runpy warning), else the module, found without importing it (slow)."""
    script = Path(sys.executable).with_name("dbt")
    if script.is_file():
        return [str(script)]
    try:
        spec = importlib.util.find_spec("dbt")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "cli" / "main.py").is_file():
            return [sys.executable, "-m", "dbt.cli.main"]
    return None


def _available(command: list[str] | None) -> bool:
    return bool(command and Path(command[0]).is_file())


@dataclass
class DbtProject:
    """A dbt project touched by the patch: its directory (relative to the tree) and selectors."""

    path: str
    files: list[str] = field(default_factory=list)

    def selectors(self) -> list[str]:
        """`+path:<file>` per changed file; none (= everything) for a project-wide change."""
        if any(Path(rel).name in PROJECT_WIDE or Path(rel).parts[0] in PROJECT_WIDE_DIRS for rel in self.files):
            return []
        return [f"+path:{rel}" for rel in self.files]


def dbt_projects(tree: Path, changed: list[str]) -> list[DbtProject]:
    """The dbt projects that contain changed files, found in `tree` (the unpatched one will do)."""
    tree = Path(tree)
    projects: dict[str, DbtProject] = {}
    for rel in changed:
        for parent in Path(rel).parents:
            if (tree / parent / PROJECT_FILE).is_file():
                key = parent.as_posix()
                project = projects.setdefault(key, DbtProject(path=key))
                project.files.append(Path(rel).relative_to(parent).as_posix())
                break
    return list(projects.values())


def _profiles_dir(project: Path, env: dict[str, str]) -> list[str]:
    if (project / "profiles.yml").is_file():
        return ["--profiles-dir", str(project)]
    if env.get("DBT_PROFILES_DIR"):
        return ["--profiles-dir", env["DBT_PROFILES_DIR"]]
    return []


def _prepare(tree: Path, root: Path, project: DbtProject) -> None:
    """Installed packages are usually untracked, so a worktree lacks them: copy the user's."""
    source, target = Path(root) / project.path / "dbt_packages", tree / project.path / "dbt_packages"
    if source.is_dir() and not target.exists():
        shutil.copytree(source, target, symlinks=True)


def run_dbt(
    box: Sandbox, project: DbtProject, command: str, env: dict[str, str], timeout: float, scratch: Path
) -> tuple[int | None, str, str]:
    """(exit status or None on timeout, bounded output, the command line shown in the check)."""
    dbt = find_dbt()
    if dbt is None:
        raise StagePreconditionError("dbt is not installed (DbtValidation.installed says so before any run)")
    directory = box.tree / project.path
    args = [command, "--project-dir", str(directory), *_profiles_dir(directory, env)]
    args += ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
    if command == "build" and project.selectors():
        args += ["--select", *project.selectors()]
    env = {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false", "DBT_PRINTER_WIDTH": "100"}
    status, output = box.run([*dbt, "--no-use-colors", *args], cwd=directory, timeout=timeout, env=env)
    shown = " ".join(["dbt", command, *(["--select", *project.selectors()] if command == "build" else [])])
    return status, output, f"$ {shown} (in {project.path or '.'})"


def _verdict(status: int | None) -> str:
    return "timed out" if status is None else f"exit status {status}"


class DbtValidation:
    """The dbt side of one validation: a baseline build before the patch lands, then the checks."""

    def __init__(self, tree: Path, root: Path, changed: list[str], env: dict[str, str], timeout: float, box: Sandbox):
        self.tree, self.root, self.env, self.timeout, self.box = Path(tree), Path(root), env, timeout, box
        self.projects = dbt_projects(self.tree, changed)
        self.installed = _available(find_dbt()) if self.projects else False
        self.baseline: dict[str, int | None] = {}

    def _dir(self, project: DbtProject, kind: str) -> Path:
        path = self.box.private / "dbt" / (project.path.replace("/", "_") or "_root") / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run_baseline(self) -> None:
        """Build the affected nodes on the unpatched tree: the failure should reproduce."""
        if not self.installed:
            return
        for project in self.projects:
            _prepare(self.tree, self.root, project)
            status, _, _ = run_dbt(self.box, project, "build", self.env, self.timeout, self._dir(project, "baseline"))
            self.baseline[project.path] = status

    def checks(self) -> tuple[list[CheckResult], bool]:
        """(dbt_parse and dbt_build per project, whether every build reproduced and was fixed)."""
        if not self.projects:
            return [], False
        if not self.installed:
            why = f"{DBT_MISSING}: the patch changes a dbt project ({', '.join(p.path or '.' for p in self.projects)})"
            why += ", so it cannot be validated without dbt; install dbt and its adapter next to PATCHIT"
            return [
                CheckResult(name="dbt_parse", passed=False, output=why),
                CheckResult(name="dbt_build", passed=False, output=why),
            ], False
        checks: list[CheckResult] = []
        fixed = True
        for project in self.projects:
            _prepare(self.tree, self.root, project)
            scratch = self._dir(project, "patched")  # shared: the build reuses the parse's manifest
            status, output, shown = run_dbt(self.box, project, "parse", self.env, self.timeout, scratch)
            checks.append(
                CheckResult(
                    name="dbt_parse", passed=status == 0, output=bounded(f"{shown} ({_verdict(status)})\n{output}")
                )
            )
            if status != 0:
                checks.append(
                    CheckResult(
                        name="dbt_build", passed=False, output=f"not run: dbt parse failed in {project.path or '.'}"
                    )
                )
                fixed = False
                continue
            status, output, shown = run_dbt(self.box, project, "build", self.env, self.timeout, scratch)
            before = self.baseline.get(project.path)
            reproduced = before not in (None, 0)  # a timeout reproduces nothing
            seen = (
                "not run"
                if project.path not in self.baseline
                else ("failed, " if reproduced else "") + _verdict(before)
            )
            note = f"unpatched: {seen}; patched: {_verdict(status)}"
            checks.append(
                CheckResult(name="dbt_build", passed=status == 0, output=bounded(f"{shown} — {note}\n{output}"))
            )
            fixed = fixed and reproduced and status == 0
        return checks, fixed
