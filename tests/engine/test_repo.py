"""Repository discovery and mapping of foreign absolute paths onto the checkout."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from patchit_provider.engine.repo import discover_repo, is_foreign, map_path


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "pipelines"
    for rel in ("dags/sales/etl.py", "dags/sales/__init__.py", "etl/transform.py", "main.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    git.Repo.init(root)
    return root.resolve()


def test_discover_from_code_path_in_a_subdirectory(repo):
    assert discover_repo(str(repo / "dags" / "sales" / "etl.py"), "sales_daily", {}) == repo


def test_repo_map_exact_then_pattern(repo, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    mapping = {"sales_*": str(repo), "sales_special": str(other)}
    assert discover_repo(None, "sales_special", mapping) == other.resolve()
    assert discover_repo(None, "sales_daily", mapping) == repo
    assert discover_repo(None, "marketing", mapping) is None


def test_repo_map_to_missing_dir_and_no_git(tmp_path):
    assert discover_repo(None, "x", {"x": str(tmp_path / "nope")}) is None
    (tmp_path / "loose.py").write_text("")
    assert discover_repo(str(tmp_path / "loose.py"), "x", {}) is None
    assert discover_repo(str(tmp_path / "missing.py"), "x", {}) is None
    assert discover_repo(None, "x", {}) is None


@pytest.mark.parametrize(
    "path,expected",
    [
        ("/opt/airflow/dags/repo/dags/sales/etl.py", "dags/sales/etl.py"),
        ("/home/runner/work/pipelines/etl/transform.py", "etl/transform.py"),
        ("C:\\build\\pipelines\\etl\\transform.py", "etl/transform.py"),
        ("file:///mnt/checkout/main.py", "main.py"),
        ("etl/transform.py", "etl/transform.py"),
        ("/opt/airflow/dags/repo/etl/missing.py", None),
        ("/usr/lib/python3.11/json/decoder.py", None),
        ("/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py", None),
        ("/srv/venv/lib/python3.11/site-packages/etl/transform.py", None),
        ("<frozen runpy>", None),
        ("<string>", None),
        ("", None),
    ],
)
def test_map_path(repo, path, expected):
    assert map_path(path, repo) == expected


def test_map_path_prefers_longest_suffix(repo):
    (repo / "sales").mkdir()
    (repo / "sales" / "etl.py").write_text("")
    assert map_path("/x/dags/sales/etl.py", repo) == "dags/sales/etl.py"
    assert map_path("/x/y/sales/etl.py", repo) == "sales/etl.py"


def test_map_path_inside_the_repo_itself(repo):
    assert map_path(str(repo / "etl" / "transform.py"), repo) == "etl/transform.py"
    assert map_path(str(repo / ".." / "pipelines" / "main.py"), repo) == "main.py"


def test_is_foreign():
    assert is_foreign("/usr/local/lib/python3.11/site-packages/pandas/core/frame.py")
    assert not is_foreign("/opt/airflow/dags/etl.py")


def test_dbt_models_lists_models_seeds_and_snapshots(tmp_path):
    from patchit_provider.engine.repo import dbt_models

    project = tmp_path / "analytics"
    (project / "sql").mkdir(parents=True)
    (project / "dbt_project.yml").write_text('name: a\nmodel-paths: ["sql"]\n')
    for rel in (
        "sql/marts/fct_orders.sql",
        "seeds/raw_orders.csv",
        "snapshots/orders_snap.sql",
        "models/ignored.sql",
        "target/compiled/stale.sql",
    ):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("select 1\n")
    assert dbt_models(tmp_path) == {
        "fct_orders": "analytics/sql/marts/fct_orders.sql",
        "raw_orders": "analytics/seeds/raw_orders.csv",
        "orders_snap": "analytics/snapshots/orders_snap.sql",
    }
    assert dbt_models(tmp_path / "analytics" / "sql") == {}  # no dbt project there
