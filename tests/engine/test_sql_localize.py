"""Localization into SQL files, dbt models and DAG files: the culprit is the file a person opens
and the line of the failing identifier, found by parsing the SQL (sqlglot) in the dialect of
the engine that failed. Error messages are the engines' real shapes: DuckDB's Binder/Catalog
errors, PostgreSQL's (psycopg) undefined column/table, Snowflake's 000904 invalid identifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patchit_provider.engine.evidence import collect_evidence
from patchit_provider.engine.models import FailureEvent
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.triage import triage
from patchit_provider.engine.triage.localize import dialects_for, identifier_line


def run(log: str, repo: Path | None, **event):
    return triage(
        collect_evidence(FailureEvent(pipeline_id="p", run_id="r", log_text=log, **event), repo, PatchitSettings())
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def traceback_of(runner: str, line: int, code: str, error: str) -> str:
    return (
        "Traceback (most recent call last):\n"
        f'  File "/opt/pipelines/{runner}", line {line}, in load\n    {code}\n'
        '  File "/usr/local/lib/python3.11/site-packages/duckdb/__init__.py", line 10, in execute\n    raise\n'
        f"{error}\n"
    )


RUNNER = "import duckdb\n\ndef load(con):\n    sql = open(QUERIES / name).read()\n    con.execute(sql)\n"


def test_duckdb_identifier_in_one_sql_file_not_in_comments_or_strings(tmp_path):
    """Two files mention `amount_eur`; only one uses it as a column: the parser, not a text
    search, tells them apart (a comment and a string literal are no identifier)."""
    repo = write(
        tmp_path,
        {
            "etl/run.py": RUNNER,
            "sql/revenue.sql": "select\n    order_id,\n    amount_eur * 1.2 as gross\nfrom orders\n",
            "sql/labels.sql": "-- amount_eur was renamed upstream\nselect 'amount_eur' as label, order_id\nfrom orders\n",
        },
    )
    error = 'duckdb.duckdb.BinderException: Binder Error: Referenced column "amount_eur" not found in FROM clause!\nCandidate bindings: "amount"'
    result = run(traceback_of("etl/run.py", 5, "con.execute(sql)", error), repo)
    assert result.category.value == "schema.missing_column"
    assert (result.culprit.path, result.culprit.line) == ("sql/revenue.sql", 3)


def test_postgres_undefined_column_in_the_file_the_runner_names(tmp_path):
    repo = write(
        tmp_path,
        {
            "etl/load.py": 'def load(cur):\n    cur.execute(open("etl/queries/daily_orders.sql").read())\n',
            "etl/queries/daily_orders.sql": "insert into daily\nselect o.id,\n       o.customer_idd,\n       o.total\nfrom orders o\n",
            "etl/queries/other.sql": "select customer_idd from legacy\n",
        },
    )
    error = (
        "psycopg.errors.UndefinedColumn: column o.customer_idd does not exist\nLINE 3:        o.customer_idd,\n"
        '               ^\nHINT:  Perhaps you meant to reference the column "o.customer_id".'
    )
    result = run(
        traceback_of("etl/load.py", 2, 'cur.execute(open("etl/queries/daily_orders.sql").read())', error), repo
    )
    assert result.category.value == "schema.missing_column"
    assert (result.culprit.path, result.culprit.line) == ("etl/queries/daily_orders.sql", 3)


def test_postgres_undefined_table(tmp_path):
    repo = write(
        tmp_path,
        {
            "etl/run.py": RUNNER,
            "sql/report.sql": "with base as (\n  select * from staging.stg_ordrs\n)\nselect count(*) from base\n",
        },
    )
    error = 'psycopg.errors.UndefinedTable: relation "staging.stg_ordrs" does not exist\nLINE 2:   select * from staging.stg_ordrs'
    result = run(traceback_of("etl/run.py", 5, "con.execute(sql)", error), repo)
    assert result.category.value == "schema.missing_relation"
    assert (result.culprit.path, result.culprit.line) == ("sql/report.sql", 2)


def test_snowflake_dialect_statement(tmp_path):
    """Snowflake's semi-structured path syntax (`src:customer.id::string`) parses only as
    Snowflake; the dialect comes from the error's shape (`000904 (42000)`)."""
    sql = (
        "select\n    src:customer.id::string as customer,\n    cust_id,\n    ts\nfrom raw.events\n"
        "qualify row_number() over (partition by customer order by ts desc) = 1\n"
    )
    repo = write(tmp_path, {"etl/run.py": RUNNER, "sql/events.sql": sql})
    error = (
        "snowflake.connector.errors.ProgrammingError: 000904 (42000): SQL compilation error: error line 3 at position 4\n"
        "invalid identifier 'CUST_ID'"
    )
    assert dialects_for("ProgrammingError", error)[0] == "snowflake"
    result = run(traceback_of("etl/run.py", 5, "con.execute(sql)", error), repo)
    assert result.category.value == "schema.missing_column"
    assert (result.culprit.path, result.culprit.line) == ("sql/events.sql", 3)


@pytest.mark.parametrize(
    "dialect,sql,kind,name,line",
    [
        ("duckdb", "select\n  list_transform(xs, x -> x + 1) as ys,\n  amount\nfrom t\n", "column", "amount", 3),
        (
            "postgres",
            "select id,\n  payload->>'sku' as sku,\n  qty::int\nfrom public.orders\n",
            "relation",
            "orders",
            4,
        ),
        (
            "snowflake",
            "select $1 as raw,\n  v:price::number as price\nfrom @stage/file.csv,\n  lateral flatten(input => v:items) f\nwhere f.value:qty > 0 and total > 1\n",
            "column",
            "total",
            5,
        ),
    ],
)
def test_identifier_line_per_dialect(dialect, sql, kind, name, line):
    assert identifier_line(sql, kind, name, [dialect]) == line


def test_identifier_in_several_files_is_no_guess(tmp_path):
    repo = write(
        tmp_path, {"etl/run.py": RUNNER, "sql/a.sql": "select total from a\n", "sql/b.sql": "select\n total from b\n"}
    )
    error = 'duckdb.duckdb.BinderException: Binder Error: Referenced column "total" not found in FROM clause!'
    result = run(traceback_of("etl/run.py", 5, "con.execute(sql)", error), repo)
    assert (result.culprit.path, result.culprit.line) == ("etl/run.py", 5)  # the runner: nothing shows which file


def test_without_repo_the_sql_file_the_output_names(tmp_path):
    log = "[2026-11-22, 10:00:01 UTC] {sql.py:12} INFO - Running statement from sql/daily_orders.sql\n" + traceback_of(
        "etl/run.py", 5, "con.execute(sql)", 'psycopg.errors.UndefinedColumn: column "customer_idd" does not exist'
    )
    result = run(log, None)
    assert result.culprit.path == "sql/daily_orders.sql"


# --- dbt -----------------------------------------------------------------------------------

MODEL = (
    "{{ config(materialized='table') }}\n\nwith orders as (\n    select * from {{ ref('stg_orders') }}\n)\n"
    "select\n    order_id,\n    {{ cents_to_dollars('amount') }} as amount,\n    customer_idd\nfrom orders\n"
)


def test_dbt_database_error_points_at_the_model_line(tmp_path):
    repo = write(tmp_path, {"dbt_project.yml": "name: shop\n", "models/marts/fct_orders.sql": MODEL})
    log = (
        "12:00:01  Running with dbt=1.11.16\n12:00:03  Completed with 1 error and 0 warnings:\n12:00:03  \n"
        "12:00:03    Runtime Error in model fct_orders (models/marts/fct_orders.sql)\n"
        '  Binder Error: Referenced column "customer_idd" not found in FROM clause!\n'
        '  Candidate bindings: "customer_id"\n'
    )
    result = run(log, repo)
    assert (result.culprit.path, result.culprit.line) == ("models/marts/fct_orders.sql", 9)


def test_dbt_missing_ref_points_at_the_ref_line(tmp_path):
    repo = write(
        tmp_path,
        {
            "dbt_project.yml": "name: shop\n",
            "models/marts/fct_orders.sql": MODEL.replace("stg_orders", "stg_ordrs"),
            "models/staging/stg_orders.sql": "select 1 as order_id\n",
        },
    )
    log = (
        "12:00:01  Running with dbt=1.11.16\n12:00:02  Encountered an error:\nCompilation Error\n"
        "  Model 'model.shop.fct_orders' (models/marts/fct_orders.sql) depends on a node named 'stg_ordrs' which was not found\n"
    )
    result = run(log, repo)
    assert result.category.value == "schema.missing_relation" and result.remediation.value == "patch"
    assert (result.culprit.path, result.culprit.line) == ("models/marts/fct_orders.sql", 4)


def test_dbt_artifacts_name_the_model_when_the_log_does_not(tmp_path):
    repo = write(tmp_path, {"dbt_project.yml": "name: shop\n", "models/marts/fct_orders.sql": MODEL})
    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text(
        json.dumps(
            {
                "results": [
                    {
                        "unique_id": "model.shop.fct_orders",
                        "status": "error",
                        "message": 'Runtime Error in model fct_orders (models/marts/fct_orders.sql)\n  Binder Error: Referenced column "customer_idd" not found in FROM clause!',
                    }
                ]
            }
        )
    )
    (target / "manifest.json").write_text(
        json.dumps(
            {
                "nodes": {
                    "model.shop.fct_orders": {
                        "original_file_path": "models/marts/fct_orders.sql",
                        "depends_on": {"nodes": []},
                    }
                }
            }
        )
    )
    result = triage(
        collect_evidence(
            FailureEvent(pipeline_id="p", run_id="r", artifact_uris=[str(target)]), repo, PatchitSettings()
        )
    )
    assert (result.culprit.path, result.culprit.line) == ("models/marts/fct_orders.sql", 9)


def test_dbt_test_failure_without_repo_names_the_test_file():
    log = (
        "12:00:03  Failure in test not_null_orders_customer_id (models/marts/schema.yml)\n"
        "12:00:03    Got 12 results, configured to fail if != 0\n"
    )
    result = run(log, None)
    assert result.category.value == "data.quality" and result.remediation.value == "escalate"
    assert result.culprit.path == "models/marts/schema.yml"


# --- DAG import errors ----------------------------------------------------------------------

BROKEN = (
    "Broken DAG: [/opt/airflow/dags/orders.py] Traceback (most recent call last):\n"
    '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
    '  File "/opt/airflow/dags/orders.py", line 12, in <module>\n    start_date=days_ago(1),\n'
    "NameError: name 'days_ago' is not defined\n"
)


def test_broken_dag_points_at_the_dag_file_and_line(tmp_path):
    repo = write(tmp_path, {"dags/orders.py": "\n" * 20})
    with_repo, without = run(BROKEN, repo), run(BROKEN, None)
    assert with_repo.category.value == "code.error" and with_repo.remediation.value == "patch"
    assert (with_repo.culprit.path, with_repo.culprit.line) == ("dags/orders.py", 12)
    assert (without.culprit.path, without.culprit.line) == ("/opt/airflow/dags/orders.py", 12)


def test_one_line_broken_dag_uses_the_line_cpython_names():
    result = run("Broken DAG: [/opt/airflow/dags/export.py] invalid syntax (export.py, line 34)", None)
    assert result.category.value == "code.error"
    assert (result.culprit.path, result.culprit.line) == ("/opt/airflow/dags/export.py", 34)


def _psql() -> str:
    import glob
    import shutil

    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if found is None:
        pytest.skip("no psql client (Debian's postgresql-client)")
    return found


def test_a_script_run_by_psql_points_at_the_file_and_line_psql_names(tmp_path):
    """`psql -f` prefixes its messages with `psql:<file>:<line>:` (src/bin/psql/startup.c,
    log_locus_callback); real psql against the test PostgreSQL."""
    import subprocess

    from patchit_testing import postgres_dsn

    script = (
        write(
            tmp_path,
            {
                "sql/load_orders.sql": "create temporary table orders (customer_id int);\n\n"
                "select\n    custmer_id\nfrom orders;\n"
            },
        )
        / "sql/load_orders.sql"
    )
    proc = subprocess.run(
        [_psql(), postgres_dsn(), "-v", "ON_ERROR_STOP=1", "-f", "sql/load_orders.sql"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "psql:sql/load_orders.sql:" in proc.stderr, proc.stderr
    without_repo = run(proc.stdout + proc.stderr, None)
    assert (without_repo.culprit.path, without_repo.culprit.line) == ("sql/load_orders.sql", 5)
    assert script.exists()
    with_repo = run(proc.stdout + proc.stderr, tmp_path)  # the parser finds the identifier's own line
    assert (with_repo.culprit.path, with_repo.culprit.line) == ("sql/load_orders.sql", 4)


def test_a_jvm_job_s_own_frame_is_the_culprit_library_frames_never():
    """A Scala Spark job's trace: the innermost frame outside the JVM's and libraries' packages
    (JLS 6.1 reverse-DNS names) is the job's file under its package folders. A Java class path
    such as `org.apache.spark.sql` is never taken for a `.sql` file."""
    log = (
        'Exception in thread "main" org.apache.spark.sql.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A '
        "column, variable, or function parameter with name `custmer_id` cannot be resolved. Did you mean one of the "
        "following? [`customer_id`, `amount`].;\n"
        "\tat org.apache.spark.sql.errors.QueryCompilationErrors$.unresolvedAttributeError(QueryCompilationErrors.scala:221)\n"
        "\tat org.apache.spark.sql.catalyst.analysis.CheckAnalysis.failAnalysis(CheckAnalysis.scala:54)\n"
        "\tat com.acme.etl.LoadOrders$.main(LoadOrders.scala:42)\n"
        "\tat com.acme.etl.LoadOrders.main(LoadOrders.scala)\n"
        "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
    )
    result = run(log, None)
    assert (result.culprit.path, result.culprit.line) == ("com/acme/etl/LoadOrders.scala", 42)
    only_spark = run("\n".join(line for line in log.splitlines() if "acme" not in line), None)
    assert only_spark.culprit is None
