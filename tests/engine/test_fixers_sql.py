"""Renamed columns and relations edited through the SQL parser, on small real repositories.

DuckDB really runs the SQL and prints its own Binder / Catalog errors with their candidates
(the shapes of the corpus cases py_duckdb_binder_column and the external
dw_postgrex_createdat_hint_created_at, https://github.com/electric-sql/electric/issues/2587,
where PostgreSQL's hint names the one close column). The replay is the pipeline's script: it
fails before the patch and must pass in the patched copy.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
import textwrap

import pytest

from patchit_provider.cli import main
from patchit_provider.engine.patching.sql_rename import rename_identifier

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None, reason="duckdb (test extra) is not installed"
)
GIT = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]

RUNNER = """\
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE orders AS SELECT 1 AS customer_id, 'DE' AS country, 10.0 AS amount")
    con.execute("CREATE TABLE customers AS SELECT 1 AS customer_id, 'ACME' AS name")
    print(con.execute(open("sql/report.sql").read()).fetchall())
    """


def remediate(tmp_path, capsys, sql: str) -> tuple[dict, str, str]:
    repo = tmp_path / "repo"
    (repo / "sql").mkdir(parents=True)
    (repo / "run.py").write_text(textwrap.dedent(RUNNER))
    (repo / "sql" / "report.sql").write_text(sql)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pipeline"]):
        subprocess.run([*GIT, *cmd], cwd=repo, check=True)
    before = subprocess.run([sys.executable, "run.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert before.returncode != 0
    log = tmp_path / "attempt=1.log"
    log.write_text(before.stderr)
    check = shlex.join([sys.executable, "run.py"])
    assert main(["remediate", str(log), "--repo", str(repo), "--check", check, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (repo / "sql" / "report.sql").read_text() == sql
    return result, before.stderr, repo


def _patched(repo, diff: str) -> str:
    subprocess.run([*GIT, "apply", "-"], input=diff, text=True, cwd=repo, check=True)
    return (repo / "sql" / "report.sql").read_text()


def test_renamed_column_in_a_sql_file(tmp_path, capsys):
    sql = (
        "-- revenue per customer; cust_id was renamed upstream\n"
        "SELECT cust_id,\n       SUM(amount) AS revenue, 'cust_id' AS label\n"
        "FROM orders\nGROUP BY cust_id\n"
    )
    result, log, repo = remediate(tmp_path, capsys, sql)
    assert 'Referenced column "cust_id" not found' in log
    assert result["triage"]["culprit"]["path"] == "sql/report.sql"
    checks = {c["name"]: c for c in result["validation"]["checks"]}
    assert result["outcome"] == "patch_validated", json.dumps(checks, indent=1)[:3000]
    assert checks["check"]["passed"]
    # Only the two column references change: the comment, the string value and the alias stay
    assert _patched(repo, result["patch"]["diff"]) == sql.replace("SELECT cust_id", "SELECT customer_id").replace(
        "BY cust_id", "BY customer_id"
    )


def test_renamed_relation_in_a_sql_file(tmp_path, capsys):
    sql = "SELECT c.name, o.amount\nFROM orders o\nJOIN customer c ON c.customer_id = o.customer_id  -- customer\n"
    result, log, repo = remediate(tmp_path, capsys, sql)
    assert "Table with name customer does not exist" in log
    checks = {c["name"]: c for c in result["validation"]["checks"]}
    assert result["outcome"] == "patch_validated", json.dumps({"triage": result["triage"], "checks": checks}, indent=1)[
        :3000
    ]
    assert _patched(repo, result["patch"]["diff"]) == sql.replace("JOIN customer c", "JOIN customers c")


def test_no_close_candidate_no_patch(tmp_path, capsys):
    sql = "SELECT o.discount FROM orders AS o\n"  # DuckDB's candidates are not close: escalate
    result, _, _ = remediate(tmp_path, capsys, sql)
    assert result["outcome"] == "no_patch" and result["patch"] is None


@pytest.mark.parametrize(
    ("sql", "kind", "expected", "count"),
    [
        # dbt model: Jinja masked, only the column identifier changes, byte for byte elsewhere
        (
            "select {{ dbt_utils.star(ref('stg')) }}, cust_id\nfrom {{ ref('stg_orders') }} -- cust_id\n",
            "column",
            "select {{ dbt_utils.star(ref('stg')) }}, customer_id\nfrom {{ ref('stg_orders') }} -- cust_id\n",
            1,
        ),
        # Snowflake upper case and a quoted identifier keep their spelling
        ('SELECT CUST_ID, "cust_id" FROM ORDERS', "column", 'SELECT CUSTOMER_ID, "customer_id" FROM ORDERS', 2),
        # a relation, schema-qualified; a column of the same name is not a relation
        (
            "select stg_order.id from analytics.stg_order",
            "relation",
            "select stg_order.id from analytics.stg_orders",
            1,
        ),
        # not parseable SQL: no edit rather than a textual guess
        ("select cust_id from (", "column", "select cust_id from (", 0),
    ],
)
def test_rename_identifier_through_the_parser(sql, kind, expected, count):
    missing, candidate = ("cust_id", "customer_id") if kind == "column" else ("stg_order", "stg_orders")
    assert rename_identifier(sql, missing, candidate, kind) == (expected, count)
