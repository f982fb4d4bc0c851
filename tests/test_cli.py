"""`patchit triage` / `patchit remediate` as ../shared/cli-contract.md defines them, run as a
user would: the installed console script on real logs of really failing code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from patchit_testing import failure_log

import git

PATCHIT = [sys.executable, "-m", "patchit_provider.cli"]


def _patchit(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATCHIT_VALIDATION_TIMEOUT": "120"}
    return subprocess.run([*PATCHIT, *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=300)


def _repo_state(root: Path) -> dict:
    repo = git.Repo(root)
    return {
        "head": repo.head.commit.hexsha,
        "branches": sorted(b.name for b in repo.branches),
        "status": repo.git.status("--porcelain", "--untracked-files=all"),
        "worktrees": repo.git.worktree("list"),
        "files": {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and ".git" not in p.parts
        },
    }


def test_triage_names_category_culprit_and_fingerprint(pipeline_repo: Path, tmp_path: Path):
    log = failure_log(pipeline_repo, tmp_path / "job.log")
    proc = _patchit("triage", str(log), "--repo", str(pipeline_repo), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one JSON object"
    result = json.loads(lines[0])
    assert result["category"] == "code.error"
    assert result["remediation"] == "patch"
    assert result["error"]["type"] == "NameError"
    assert result["culprit"] == {"path": "etl/transform.py", "line": 21}
    assert len(result["fingerprint"]) >= 8 and 0 < result["confidence"] <= 1
    assert "transform" in result["summary"]


def test_triage_maps_paths_from_another_machine_and_reads_stdin(pipeline_repo: Path, tmp_path: Path):
    log = failure_log(pipeline_repo, tmp_path / "job.log").read_text()
    container_log = log.replace(str(pipeline_repo), "/opt/airflow/dags/repo")
    proc = _patchit("triage", "-", "--repo", str(pipeline_repo), "--json", stdin=container_log.encode())
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["culprit"] == {"path": "etl/transform.py", "line": 21}
    same = json.loads(_patchit("triage", str(tmp_path / "job.log"), "--repo", str(pipeline_repo), "--json").stdout)
    assert same["fingerprint"] == result["fingerprint"], "same cause on another host, same fingerprint"


def test_triage_without_repo_and_of_garbage(tmp_path: Path):
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(os.urandom(200_000) + b"\x00\xff\xfe")
    proc = _patchit("triage", str(garbage), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["category"] == "unknown"
    missing = _patchit("triage", str(tmp_path / "nope.log"), "--json")
    assert missing.returncode == 2 and b"not found" in missing.stderr and missing.stdout == b""


def test_remediate_validates_a_patch_that_fixes_the_job_and_leaves_repo_untouched(pipeline_repo: Path, tmp_path: Path):
    log = failure_log(pipeline_repo, tmp_path / "job.log")
    before = _repo_state(pipeline_repo)
    check = f"{sys.executable} run_orders.py data/orders.csv"
    proc = _patchit("remediate", str(log), "--repo", str(pipeline_repo), "--check", check, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert _repo_state(pipeline_repo) == before, "remediate must never change --repo"
    assert result["triage"]["category"] == "code.error"
    assert result["outcome"] == "patch_validated", result
    assert result["patch"]["files"] == ["etl/transform.py"]
    assert result["validation"]["passed"] is True
    assert any(c["name"] == "check" and c["passed"] for c in result["validation"]["checks"])

    # The diff applies from the repository root and the job then succeeds.
    clone = tmp_path / "clone"
    shutil.copytree(pipeline_repo, clone)
    subprocess.run(["git", "apply", "-"], input=result["patch"]["diff"].encode(), cwd=clone, check=True)
    rerun = subprocess.run(
        [sys.executable, "run_orders.py", "data/orders.csv"], cwd=clone, capture_output=True, text=True
    )
    assert rerun.returncode == 0 and rerun.stdout.strip() == "2"


def test_remediate_rejects_a_patch_whose_check_fails(pipeline_repo: Path, tmp_path: Path):
    log = failure_log(pipeline_repo, tmp_path / "job.log")
    proc = _patchit("remediate", str(log), "--repo", str(pipeline_repo), "--check", "exit 3", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["outcome"] == "patch_rejected"
    assert result["patch"]["diff"] is None, "a rejected patch is not offered"
    assert result["validation"]["passed"] is False


def test_remediate_never_patches_bad_data(pipeline_repo: Path, tmp_path: Path):
    (pipeline_repo / "load.py").write_text("import json\nrows = json.load(open('data/orders.json'))\n")
    (pipeline_repo / "data" / "orders.json").write_text('[{"order_id": 1, "quantity": 2}, {"order_id": 2, "quan')
    proc = subprocess.run([sys.executable, "load.py"], cwd=pipeline_repo, capture_output=True, text=True)
    log = tmp_path / "load.log"
    log.write_text(proc.stderr)
    result = json.loads(_patchit("remediate", str(log), "--repo", str(pipeline_repo), "--json").stdout)
    assert result["triage"]["category"] == "data.malformed"
    assert result["triage"]["remediation"] == "escalate"
    assert result["outcome"] == "no_patch" and result["patch"] is None
