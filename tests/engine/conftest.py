"""Shared fixtures of the engine tests. Each group prefixes its fixtures (patch_*: patching,
policy, validation, publishing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from patchit_provider.engine.models import (
    Culprit,
    ErrorInfo,
    ErrorSummary,
    Evidence,
    FailureEvent,
    Frame,
    RepoRef,
    Triage,
)
from patchit_provider.engine.taxonomy import Category, Remediation

PATCH_DAG = textwrap.dedent(
    '''\
    """Orders pipeline: a real Airflow 3 DAG whose callables carry real bugs."""
    from __future__ import annotations

    import pendulum

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, task


    def compute_total(prices):
        total = sum(prices)
        return totl * 2


    def dump_report():
        return json.dumps({"status": "ok"})


    with DAG("orders", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False) as dag:
        PythonOperator(task_id="compute_total", python_callable=compute_total, op_kwargs={"prices": [1, 2, 3]})
        PythonOperator(task_id="dump_report", python_callable=dump_report)

        @task
        def greet(**context):
            return context["ti"].task_id

        greet()
    '''
)

PATCH_HELPER = textwrap.dedent(
    '''\
    """Plain helpers of the pipeline (no Airflow)."""


    def shout(word):
        return word.uper()
    '''
)


def patch_git(root: Path, *args: str) -> str:
    return git.Repo(root).git.execute(["git", *args])


def patch_make_repo(root: Path) -> Path:
    """A small pipeline repository with one commit on `main`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dags").mkdir()
    (root / "etl").mkdir()
    (root / "dags" / "orders.py").write_text(PATCH_DAG)
    (root / "etl" / "__init__.py").write_text("")
    (root / "etl" / "text.py").write_text(PATCH_HELPER)
    (root / "tests").mkdir()
    (root / "tests" / "test_text.py").write_text("def test_upper():\n    assert 'a'.upper() == 'A'\n")
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Dev")
        config.set_value("user", "email", "dev@example.com")
        config.set_value("commit", "gpgsign", "false")
    repo.git.add("--all")
    repo.git.commit("-m", "initial pipeline")
    return root


def _snapshot(root: Path) -> dict[str, object]:
    """Everything about the user's repository that PATCHIT must leave as it was."""
    repo = git.Repo(root)
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    return {
        "status": repo.git.status("--porcelain", "--ignored"),
        "head": repo.head.commit.hexsha,
        "head_ref": repo.git.symbolic_ref("HEAD"),
        "branches": sorted(ref.name for ref in repo.branches),
        "worktrees": repo.git.worktree("list", "--porcelain"),
        "index": (root / ".git" / "index").read_bytes(),
        "files": files,
    }


def patch_airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__UNIT_TEST_MODE="True")
    return env


_RUN_TASKS = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("orders", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for task_id in sys.argv[2:]:
    task = module.dag.task_dict[task_id]
    try:
        task.python_callable(*task.op_args, **task.op_kwargs)
    except Exception:
        sys.__excepthook__(*sys.exc_info())  # the interpreter's own hook: on 3.11 only it prints "Did you mean"
    print("=====", flush=True, file=sys.stderr)
"""


@pytest.fixture(scope="session")
def patch_tracebacks(tmp_path_factory) -> dict[str, str]:
    """The real tracebacks of the fixture's bugs (task id or 'shout' -> formatted traceback)."""
    base = tmp_path_factory.mktemp("patch_tb")
    root = patch_make_repo(base / "repo")
    done = subprocess.run(
        [sys.executable, "-c", _RUN_TASKS, str(root / "dags" / "orders.py"), "compute_total", "dump_report"],
        capture_output=True,
        text=True,
        timeout=300,
        env=patch_airflow_env(base / "home"),
        cwd=root,
    )
    parts = [part.strip() for part in done.stderr.split("=====")]
    assert "NameError" in parts[0] and "NameError" in parts[1], done.stderr
    shout = subprocess.run(
        [sys.executable, "-c", "from etl.text import shout; shout('a')"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
    )
    return {
        "compute_total": parts[0][parts[0].index("Traceback") :],
        "dump_report": parts[1][parts[1].index("Traceback") :],
        "shout": shout.stderr,
    }


@dataclass
class PatchCase:
    root: Path
    event: FailureEvent
    evidence: Evidence
    triage: Triage


def _case(root: Path, traceback: str, task_id: str | None = "compute_total") -> PatchCase:
    """Event, evidence and triage built by hand from a real traceback, as the engine would."""
    last = traceback.strip().splitlines()[-1]
    error_type, _, message = last.partition(": ")
    frames = [
        Frame(path=path, line=int(line), function=func)
        for path, line, func in re.findall(r'File "([^"]+)", line (\d+), in (\S+)', traceback)
    ]
    mapped = []
    for frame in frames:
        for marker in ("dags/", "etl/"):
            if marker in frame.path:
                mapped.append(frame.model_copy(update={"path": marker + frame.path.split(marker, 1)[1]}))
    message = message.split(". Did you mean")[0]
    event = FailureEvent(
        pipeline_id="orders",
        run_id="manual__2024-01-01",
        task_id=task_id,
        try_number=1,
        code_path="/opt/airflow/dags/repo/dags/orders.py",
        error=ErrorInfo(type=error_type, message=message, traceback=traceback, frames=frames),
    )
    evidence = Evidence(
        event_id=event.event_id,
        error=event.error,
        repo=RepoRef(root=str(root)),
        mapped_frames=mapped,
    )
    culprit = mapped[-1]
    triage = Triage(
        category=Category.CODE_ERROR,
        remediation=Remediation.PATCH,
        fingerprint="f1e2d3c4b5a69788",
        summary=f"{error_type} in {culprit.path}:{culprit.line}",
        error=ErrorSummary(type=error_type, message=message),
        culprit=Culprit(path=culprit.path, line=culprit.line),
        confidence=0.9,
        evidence_lines=[last],
    )
    return PatchCase(root=root, event=event, evidence=evidence, triage=triage)


@pytest.fixture
def patch_repo(tmp_path) -> Path:
    return patch_make_repo(tmp_path / "pipelines")


@pytest.fixture
def patch_nameerror(patch_repo, patch_tracebacks) -> PatchCase:
    """compute_total's real `NameError: name 'totl' is not defined. Did you mean: 'total'?`."""
    return _case(patch_repo, patch_tracebacks["compute_total"])


@pytest.fixture
def patch_snapshot():
    """snapshot(root) -> the state of a repository that PATCHIT must leave untouched."""
    return _snapshot


@pytest.fixture
def patch_case():
    """case(root, traceback, task_id) -> PatchCase built by hand from a real traceback."""
    return _case
