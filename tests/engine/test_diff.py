import subprocess

import pytest

from patchit_provider.engine.patching.diff import DiffError, diff_stats, make_diff


def test_diff_is_git_format_and_applies(patch_repo, patch_snapshot):
    before = patch_snapshot(patch_repo)
    text = (patch_repo / "dags" / "orders.py").read_text().replace("return totl * 2", "return total * 2")
    diff = make_diff(patch_repo, {"dags/orders.py": text})
    assert diff.startswith("diff --git a/dags/orders.py b/dags/orders.py\nindex ")
    assert "-    return totl * 2\n+    return total * 2\n" in diff
    assert diff_stats(diff) == (1, 1, 1, 1)
    assert patch_snapshot(patch_repo) == before
    check = subprocess.run(["git", "apply", "--check", "-"], input=diff, text=True, cwd=patch_repo, capture_output=True)
    assert check.returncode == 0, check.stderr


def test_diff_stats_counts_files_and_hunks(patch_repo):
    dag = (patch_repo / "dags" / "orders.py").read_text()
    dag = dag.replace('"""Orders', '"""The orders').replace("return totl * 2", "return total * 2")
    helper = (patch_repo / "etl" / "text.py").read_text().replace("uper", "upper")
    diff = make_diff(patch_repo, {"dags/orders.py": dag, "etl/text.py": helper})
    assert diff_stats(diff) == (2, 3, 3, 3)


def test_no_change_is_an_error(patch_repo):
    with pytest.raises(DiffError):
        make_diff(patch_repo, {"etl/text.py": (patch_repo / "etl" / "text.py").read_text()})
