"""Log readers on real output: tracebacks printed by Python, an Airflow 3 JSON log whose
error_detail comes from the task SDK's structlog transformer, Airflow 2 / dbt / Spark logs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "logs"))
import realfail  # noqa: E402

from patchit_provider.engine.logs import parse_chain, read_log  # noqa: E402
from patchit_provider.engine.logs.clean import MAX_LINE_CHARS  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "logs"

CHAINED = {
    "main.py": """
    import json

    def load(raw):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise RuntimeError("could not load orders") from exc

    def transform(row):
        return row["customer_id"]

    try:
        transform({"id": 1})
    except KeyError:
        load("{bad")
    """
}


def test_plain_traceback_chain_outermost_first(tmp_path):
    text = realfail.run_python(tmp_path, "main.py", CHAINED)
    digest = read_log(text)
    assert digest.format == "python_traceback"
    assert digest.error.type == "RuntimeError"
    assert digest.error.message == "could not load orders"
    assert digest.error.frames[-1].function == "load"
    assert digest.error.frames[-1].code.startswith("raise RuntimeError")
    chain = parse_chain(digest.error.traceback)
    assert [c.type for c in chain] == ["RuntimeError", "json.decoder.JSONDecodeError", "KeyError"]
    assert [c.relation for c in chain] == ["", "cause", "context"]


def test_did_you_mean_hint_kept_from_text(tmp_path):
    text = realfail.run_python(tmp_path, "main.py", {"main.py": "total = 1\nprint(totl)\n"})
    digest = read_log(text.encode())
    assert digest.error.type == "NameError"
    assert "Did you mean: 'total'?" in digest.error.message


def test_syntax_error_frame(tmp_path):
    text = realfail.run_python(tmp_path, "main.py", {"main.py": "import mod\n", "mod.py": "def f(:\n    pass\n"})
    digest = read_log(text)
    assert digest.error.type == "SyntaxError"
    assert digest.error.frames[-1].path.endswith("mod.py")


def test_airflow3_error_detail_from_real_structlog(tmp_path):
    log = realfail.airflow3_log(tmp_path, "dag.py", {"dag.py": CHAINED["main.py"]})
    digest = read_log(io.BytesIO(log.encode()))
    assert digest.format == "airflow3_json"
    assert digest.error.type == "RuntimeError"
    assert any(f.path.endswith("dag.py") and f.function == "load" for f in digest.error.frames)
    chain = parse_chain(digest.error.traceback)  # error_detail rebuilt as Python's text
    assert [c.type for c in chain] == ["RuntimeError", "JSONDecodeError", "KeyError"]
    assert any("Task failed with exception" in line for line in digest.excerpt)
    assert not any(line.startswith("{") for line in digest.excerpt)  # records rendered readable


def test_airflow3_fixture_shape_matches_installed_structlog(tmp_path):
    live = realfail.error_detail_of(realfail.airflow3_log(tmp_path, "dag.py", {"dag.py": CHAINED["main.py"]}))
    fixture = realfail.error_detail_of((FIXTURES / "airflow3_keyerror.log").read_text())
    assert set(live[0]) == set(fixture[0])
    assert set(live[0]["frames"][0]) == set(fixture[0]["frames"][0])


def test_airflow3_fixture():
    digest = read_log(FIXTURES / "airflow3_keyerror.log")
    assert digest.format == "airflow3_json"
    assert (digest.error.type, digest.error.message) == ("ValueError", "enrich failed for batch 2025-06-01")
    assert parse_chain(digest.error.traceback)[1].message == "'customer_id'"


def test_airflow2_bash_wrapper_yields_the_scripts_error():
    digest = read_log(FIXTURES / "airflow2_bash_filenotfound.log")
    assert digest.format == "airflow2_text"
    assert digest.error.type == "FileNotFoundError"
    assert digest.error.frames[-1].path == "/opt/airflow/dags/repo/scripts/ingest.py"
    assert [e.type for e in digest.errors] == ["airflow.exceptions.AirflowException", "FileNotFoundError"]
    assert digest.errors[0].message.startswith("Bash command failed")
    assert "Marking task" not in digest.errors[0].message


def test_dbt_console_and_dbt_log():
    console = read_log(FIXTURES / "dbt_console_missing_column.log")
    assert console.format == "dbt"
    assert console.error.type == "dbt Runtime Error"
    assert console.error.frames[0].path == "models/staging/stg_orders.sql"
    assert "Candidate bindings" in console.error.message
    assert not any("\x1b" in line for line in console.excerpt)
    log = read_log(FIXTURES / "dbt_log_missing_node.log")
    assert log.error.type == "dbt Compilation Error"
    assert "stg_orderz" in log.error.message
    assert log.error.frames[0].path == "models/marts/orders.sql"


def test_spark_driver_logs():
    pyspark = read_log(FIXTURES / "spark_driver_unresolved_column.log")
    assert pyspark.format == "spark_driver"
    assert pyspark.error.type.endswith("AnalysisException")
    assert "UNRESOLVED_COLUMN" in pyspark.error.message
    jvm = read_log(FIXTURES / "spark_driver_oom.log")
    assert jvm.error.type == "org.apache.spark.SparkException"
    assert "Container killed by YARN" in jvm.error.message


def test_binary_garbage_and_control_chars_do_not_crash():
    blob = bytes(range(256)) * 50 + b"\n\x1b[31mERROR\x1b[0m boom\x00\x07\n" + b"\xff\xfe" * 100
    digest = read_log(io.BytesIO(blob))
    assert digest.error is None
    assert digest.line_count == 3 or digest.line_count > 0
    assert all("\x1b" not in line and "\x00" not in line for line in digest.excerpt)


def test_overlong_line_is_capped_and_skipped_in_chunks(tmp_path):
    path = tmp_path / "long.log"
    with path.open("wb") as handle:
        handle.write(b"x" * (MAX_LINE_CHARS * 20) + b"\nValueError: invalid literal for int() with base 10: 'a'\n")
    digest = read_log(path)
    assert digest.line_count == 2
    assert digest.truncated_lines == 1
    assert all(len(line) < 3000 for line in digest.excerpt)


def test_no_error_gives_tail_excerpt():
    digest = read_log("\n".join(f"INFO line {i}" for i in range(1000)))
    assert digest.error is None and digest.format == "text"
    assert digest.excerpt[-1] == "INFO line 999" and len(digest.excerpt) <= 250


def _big_log(target_bytes: int, tail: str) -> bytes:
    line = b'{"timestamp": "2025-06-01T10:00:00.000000Z", "level": "info", "event": "processed batch of orders rows=1000", "logger": "airflow.task"}\n'
    return line * (target_bytes // len(line)) + tail.encode()


def test_ten_megabytes_read_fast(tmp_path):
    tail = (FIXTURES / "airflow3_keyerror.log").read_text()
    path = tmp_path / "big.log"
    path.write_bytes(_big_log(10_000_000, tail))
    started = time.perf_counter()
    digest = read_log(path)
    elapsed = time.perf_counter() - started
    assert digest.error.type == "ValueError"
    assert elapsed < 1.0, elapsed


def test_memory_stays_bounded_on_a_streamed_log():
    """A few MB streamed from a generator-backed stream: peak allocations stay far below its size."""
    tail = "Traceback (most recent call last):\n  File \"/x/etl.py\", line 3, in f\n    g()\nKeyError: 'customer_id'\n"
    data = _big_log(8_000_000, tail)
    tracemalloc.start()
    digest = read_log(io.BufferedReader(io.BytesIO(data)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del data
    assert digest.error.type == "KeyError"
    assert peak < 2_000_000, peak


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.log")))
def test_every_fixture_has_an_error_and_bounded_excerpt(name):
    digest = read_log(FIXTURES / name)
    assert digest.error is not None
    assert 0 < len(digest.excerpt) <= 250
    json.dumps(digest.error.model_dump())


def test_pipeline_files_named_by_airflow_logs():
    af3 = "\n".join(
        [
            '{"timestamp":"2026-11-22T19:32:46.240017Z","level":"info","event":"Filling up the DagBag from /tmp/h/dags/table_export_dag.py","logger":"x"}',
            '{"timestamp":"2026-11-22T19:32:46.303776Z","level":"info","event":"Worker startup parse complete","dag_file":"table_export_dag.py","logger":"task"}',
        ]
    )
    assert read_log(af3).pipeline_files == ["/tmp/h/dags/table_export_dag.py", "table_export_dag.py"]
    af2 = "[2024-05-01T02:00:01.000+0000] {dagbag.py:588} INFO - Filling up the DagBag from /opt/airflow/dags/sales.py"
    assert read_log(af2).pipeline_files == ["/opt/airflow/dags/sales.py"]
    assert read_log("Traceback (most recent call last):\nValueError: x\n").pipeline_files == []


GROUP = {
    "tasks.py": """
    def load(path):
        return int("abc")

    def fetch():
        return {"id": 1}["customer_id"]

    def main():
        errors = []
        for step in (lambda: load("orders.csv"), fetch):
            try:
                step()
            except Exception as exc:
                errors.append(exc)
        try:
            raise ExceptionGroup("nested", [TypeError("bad type")])
        except ExceptionGroup as group:
            errors.append(group)
        raise ExceptionGroup("2 tasks failed", errors)

    main()
    """
}


def test_exception_group_first_leaf_drives(tmp_path):
    text = realfail.run_python(tmp_path, "tasks.py", GROUP)
    assert "+-+---------------- 1 ----------------" in text and "(3 sub-exceptions)" in text
    chain = parse_chain(text)
    assert [(e.type, e.relation) for e in chain] == [
        ("ValueError", "member"),
        ("KeyError", "member"),
        ("TypeError", "member"),
        ("ExceptionGroup", ""),
    ]
    leaf = chain[0]
    assert "invalid literal for int()" in leaf.message
    # the group's frames, then the leaf's own: the innermost is where the leaf was raised
    assert [(f.function, f.line) for f in leaf.frames] == [
        ("<module>", 21),
        ("main", 19),
        ("main", 12),
        ("<lambda>", 10),
        ("load", 3),
    ]
    assert chain[2].frames[-1].line == 16  # the nested group's frame carried to its leaf
    digest = read_log(("INFO start\n" + text + "INFO: task failed, marking it\n").encode())
    assert digest.error.type == "ValueError" and digest.error.frames[-1].function == "load"
    assert len(digest.errors) == 1


def test_exception_group_in_an_airflow2_log(tmp_path):
    text = realfail.run_python(tmp_path, "tasks.py", GROUP)
    prefix = "[2025-06-01T10:00:00.000+0000] {taskinstance.py:441} ERROR - "
    log = prefix + "Task failed with exception\n" + "".join(prefix + l + "\n" for l in text.splitlines())
    log += "[2025-06-01T10:00:01.000+0000] {taskinstance.py:1206} INFO - Marking task as FAILED.\n"
    digest = read_log(log.encode())
    assert digest.format == "airflow2_text" and digest.error.type == "ValueError"


def test_exception_group_in_airflow3_error_detail(tmp_path):
    log = realfail.airflow3_log(tmp_path, "tasks.py", GROUP)
    digest = read_log(log.encode())
    assert digest.error.type == "ValueError" and digest.error.frames[-1].function == "load"
    # the rendered traceback keeps Python's layout: parse_chain finds the same leaves again
    assert [e.type for e in parse_chain(digest.error.traceback)] == [
        "ValueError",
        "KeyError",
        "TypeError",
        "ExceptionGroup",
    ]


# --- output without a traceback header (posted snippets, wrappers that print only the error) ---


def test_bare_exception_line_with_detail():
    """psycopg2 prints DETAIL under the error; no traceback was posted (github.com/psycopg/psycopg2 issues)."""
    digest = read_log(
        'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"\n'
        "DETAIL:  Key (id)=(0) already exists.\n"
    )
    assert digest.error.type == "psycopg2.errors.UniqueViolation"
    assert "Key (id)=(0) already exists." in digest.error.message


def test_bare_exception_of_class_exception():
    """`raise Exception("...")` prints "Exception: ..."; a flow runner wrapping dbt printed only
    that (github.com/basedosdados/pipelines/issues/161)."""
    digest = read_log(
        "Exception: Error running sync command: Database Error in model dia (models/br_cvm/dia.sql)\n"
        "  Error while reading table: staging.dia, error message: Too many values in row starting at position: 769.\n"
        "  compiled SQL at target/run/basedosdados/models/br_cvm/dia.sql\n"
    )
    assert digest.error.type == "Exception"
    assert "Too many values in row" in digest.error.message


def test_a_frame_line_whose_copy_lost_its_file_word_still_localizes():
    """A posted traceback cut mid-line: the frame starts at its quoted path
    (github.com/zulip/zulip/issues/19622); a quoted non-Python name is no frame."""
    digest = read_log(
        '"/Users/me/project/Test_File.py", line 29, in <module>\n'
        "    cursor.execute(f\"INSERT INTO richpeople (ID, NAME) VALUES({ID}, 'Ali')\")\n"
        'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "richpeople_pkey"\n'
        "DETAIL:  Key (id)=(0) already exists.\n"
    )
    assert [(f.path, f.line) for f in digest.error.frames] == [("/Users/me/project/Test_File.py", 29)]
    other = read_log('"orders.csv", line 3, in header\nValueError: bad header\n')
    assert other.error.type == "ValueError" and other.error.frames == []


def test_syntax_error_display_without_traceback_header():
    """CPython prints a SyntaxError of a file it compiles as File/line/caret and the error only."""
    digest = read_log(
        '  File "./launch.py", line 630\n    return\n         ^\n'
        "IndentationError: unindent does not match any outer indentation level\n"
    )
    assert digest.error.type == "IndentationError"
    assert [(f.path, f.line) for f in digest.error.frames] == [("./launch.py", 630)]


def test_traceback_cut_before_its_exception_line_keeps_its_frames():
    digest = read_log(
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/acme/ops.py", line 60, in execute\n    hook = FSHook(conn_id=self.conn_id)\n'
        '  File "/usr/lib/python3.6/site-packages/airflow/hooks/base.py", line 38, in get_connection\n    conn = x\n'
    )
    assert digest.error.type == "Traceback"
    assert digest.error.frames[0].path == "/opt/airflow/dags/acme/ops.py"


def test_dbt_run_by_an_airflow2_bash_operator():
    """Both prefixes removed: Airflow 2's line prefix, then dbt's own timestamp."""
    log = (
        "[2023-09-08, 10:14:54 +07] {subprocess.py:94} INFO - 03:14:54    Database Error in model customers (models/customers.sql)\n"
        '[2023-09-08, 10:14:54 +07] {subprocess.py:94} INFO -   relation "raw.customers" does not exist\n'
        "[2023-09-08, 10:14:57 +07] {subprocess.py:98} INFO - Command exited with return code 1\n"
    )
    digest = read_log(log)
    assert digest.error.type == "dbt Database Error"
    assert digest.error.frames[0].path == "models/customers.sql"
    assert 'relation "raw.customers" does not exist' in digest.error.message


def test_bare_error_message_goes_on_until_sqlalchemys_echo():
    """SQLAlchemy wraps a driver's multi-line message, then echoes the statement in [SQL: ...]
    (https://docs.sqlalchemy.org/en/20/errors.html)."""
    digest = read_log(
        "sqlalchemy.exc.ProgrammingError: (snowflake.connector.errors.ProgrammingError) 002003 (02000): "
        "01938587: SQL compilation error:\nDatabase 'UTIL_DB' does not exist or not authorized.\n"
        '[SQL: SELECT DISTINCT database_name\nFROM "UTIL_DB"."INFORMATION_SCHEMA"."DATABASES"]\n'
    )
    assert digest.error.type == "sqlalchemy.exc.ProgrammingError"
    assert digest.error.message.endswith("Database 'UTIL_DB' does not exist or not authorized.")


def test_bare_error_message_ends_where_airflows_next_record_starts():
    """Airflow 2 prints the task's traceback raw, then its own records; with the traceback's
    header cut off, the records after the exception line are not its message
    (github.com/sungchun12/airflow-dbt-cloud/issues/1, the posted task log)."""
    digest = read_log(
        '  File "/var/www/html/python/DAGs/dbt_cloud_utils.py", line 77, in _trigger_job\n'
        '    assert self.account_id == response_payload["data"]["account_id"]\n'
        "TypeError: 'NoneType' object is not subscriptable\n"
        "[2022-02-27, 16:01:38 PST] {local_task_job.py:154} INFO - Task exited with return code 1\n"
        "[2022-02-27, 16:01:39 PST] {local_task_job.py:264} INFO - 0 downstream tasks scheduled from follow-on schedule check\n"
    )
    assert digest.error.type == "TypeError"
    assert digest.error.message == "'NoneType' object is not subscriptable"


def test_sentry_layout_exception_first_then_frames():
    """Sentry's issue page prints the exception, then its frames, paths relative to sys.path
    (https://docs.sentry.io/platforms/python/)."""
    from patchit_provider.engine.triage.localize import user_frame

    digest = read_log(
        "OperationalError: canceling statement due to statement timeout\n\n"
        "(16 additional frame(s) were not displayed)\n...\n"
        '  File "onadata/libs/pagination.py", line 140, in paginate_queryset\n    return list(self.page)\n'
        '  File "django/db/backends/utils.py", line 84, in _execute\n    return self.cursor.execute(sql, params)\n'
    )
    assert digest.error.type == "OperationalError"
    frame = user_frame(digest.error.frames)
    assert (frame.path, frame.line) == ("onadata/libs/pagination.py", 140)  # django's relative frame is no user's


@pytest.mark.parametrize("as_bytes", [False, True])
def test_output_quoted_in_a_comment(as_bytes):
    """Outputs posted in an issue or an e-mail often keep the quote markers ("> ")."""
    log = (
        '> Traceback (most recent call last):\n>   File "/opt/airflow/dags/etl.py", line 12, in load\n'
        ">     x = y\n> NameError: name 'y' is not defined\n"
    )
    digest = read_log(log.encode() if as_bytes else log)
    assert digest.error.type == "NameError"
    assert [(f.path, f.line) for f in digest.error.frames] == [("/opt/airflow/dags/etl.py", 12)]


@pytest.mark.parametrize("as_bytes", [False, True])
def test_output_printed_as_a_list_of_lines(as_bytes):
    """A runner that prints a child's `readlines()` (https://github.com/redis-performance/redisbench-admin/issues/366):
    each line is a list item, so the traceback only parses once the list's quotes are removed."""
    log = (
        "\tSTDOUT: ['Traceback (most recent call last):\n"
        "', '  File \"create_website.py\", line 10, in <module>\n"
        "', '    from jinja2 import Environment, FileSystemLoader\n"
        "', '  File \"/usr/local/lib/python3.8/dist-packages/jinja2/utils.py\", line 647, in <module>\n"
        "', '    from markupsafe import Markup, escape, soft_unicode\n"
        "', \"ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.8/dist-packages/markupsafe/__init__.py)\n"
        '"]\n'
    )
    digest = read_log(log.encode() if as_bytes else log)
    assert digest.error.type == "ImportError"
    assert digest.error.message.startswith("cannot import name 'soft_unicode' from 'markupsafe'")
    assert "]" not in digest.error.message.splitlines()[-1][-2:]
    assert [(f.path, f.line) for f in digest.error.frames][0] == ("create_website.py", 10)


@pytest.mark.parametrize("stamp", ["", "12:00:01  ", "[2024-01-01, 00:00:00 UTC] {subprocess.py:93} INFO - 12:00:01  "])
def test_dbt_error_nested_under_a_snapshot_or_seed_keeps_the_nodes_path(stamp):
    """dbt prints the adapter's error indented under the node's header ("Runtime Error in snapshot
    s (snapshots/s.sql)" then "  Database Error"): the nested header must not hide the node's file."""
    log = (
        f"{stamp}Runtime Error in snapshot orders_snapshot (snapshots/orders_snapshot.sql)\n"
        f"{stamp}  Database Error\n{stamp}    UPDATE/MERGE must match at most one source row for each target row\n"
    )
    digest = read_log(log)
    assert digest.error.type == "dbt Runtime Error"
    assert [f.path for f in digest.error.frames] == ["snapshots/orders_snapshot.sql"]
    assert "UPDATE/MERGE must match" in digest.error.message


def test_ipython_8_traceback_from_a_notebook():
    """IPython 8's layout (https://ipython.readthedocs.io/en/stable/whatsnew/version8.html):
    frames as `File path:line, in func`, the exception at the end."""
    log = (
        "---------------------------------------------------------------------------\n"
        "KeyError                                  Traceback (most recent call last)\n"
        "Cell In[3], line 2\n      1 import pandas as pd\n----> 2 load('/data/orders.csv')\n\n"
        "File ~/etl/load.py:42, in load(path)\n     41     df = pd.read_csv(path)\n---> 42     return df['customer_id']\n\n"
        "File /opt/conda/lib/python3.10/site-packages/pandas/core/frame.py:3761, in DataFrame.__getitem__(self, key)\n"
        "   3760     indexer = [indexer]\n\nKeyError: 'customer_id'\n"
    )
    digest = read_log(log)
    assert (digest.error.type, digest.error.message) == ("KeyError", "'customer_id'")
    assert [(f.path, f.line) for f in digest.error.frames][0] == ("~/etl/load.py", 42)


@pytest.mark.parametrize(
    "prefix",
    [
        "airflow-worker-1  | ",  # docker compose (https://docs.docker.com/reference/cli/docker/compose/logs/)
        "2024-01-01T10:00:00.123456789Z stderr F ",  # CRI log format of containerd / Kubernetes nodes
        "[2025-05-01, 10:00:00 UTC] ERROR - ",  # Airflow 3's task log view
    ],
)
def test_wrapped_lines_still_parse(prefix):
    body = [
        "Traceback (most recent call last):",
        '  File "/opt/airflow/dags/etl.py", line 9, in run',
        "    return rows[0]",
        "IndexError: list index out of range",
    ]
    digest = read_log("".join(prefix + line + "\n" for line in body))
    assert digest.error.type == "IndexError"
    assert [(f.path, f.line) for f in digest.error.frames] == [("/opt/airflow/dags/etl.py", 9)]


def test_pytest_failure_report_and_actions_timestamps():
    """pytest marks exception lines with "E   " (https://docs.pytest.org/en/stable/how-to/output.html);
    GitHub Actions prefixes every line with an ISO timestamp."""
    digest = read_log(
        "    def test_load():\n>       load()\n\ntests/test_etl.py:12: \n"
        'E   psycopg2.errors.UndefinedTable: relation "orders" does not exist\n'
    )
    assert digest.error.type == "psycopg2.errors.UndefinedTable"
    digest = read_log(
        "2024-01-01T10:00:00.1234567Z Traceback (most recent call last):\n"
        '2024-01-01T10:00:00.1234567Z   File "/home/runner/work/etl.py", line 3, in <module>\n'
        "2024-01-01T10:00:00.1234567Z     x()\n2024-01-01T10:00:00.1234567Z ZeroDivisionError: division by zero\n"
    )
    assert digest.error.type == "ZeroDivisionError" and digest.error.frames[0].line == 3


ETL = 'def load(rows):\n    total = 0\n    return rows[0]["amount"] + total\n'


@pytest.mark.parametrize("style", ["long", "short"])
def test_a_real_pytest_report_gives_the_failing_frames(tmp_path, style):
    """pytest's report has no "Traceback" line: each entry ends with its location
    ("etl.py:3: KeyError", "etl.py:3: in load"); the innermost one is the culprit's line."""
    (tmp_path / "etl.py").write_text(ETL)
    (tmp_path / "test_etl.py").write_text("from etl import load\n\n\ndef test_load():\n    load([{}])\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--tb={style}", "test_etl.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "KeyError" in proc.stdout, proc.stdout
    digest = read_log(proc.stdout)
    assert (digest.error.type, digest.error.message) == ("KeyError", "'amount'")
    assert [(f.path, f.line) for f in digest.error.frames] == [("test_etl.py", 5), ("etl.py", 3)]


def test_a_real_rich_traceback_gives_the_failing_frames(tmp_path):
    """Rich's traceback panel (what Typer and Prefect print): frames as `│ path:line in func │`."""
    from rich.console import Console
    from rich.traceback import Traceback

    path = tmp_path / "etl.py"
    path.write_text(ETL)
    namespace: dict = {}
    exec(compile(ETL, str(path), "exec"), namespace)
    try:
        namespace["load"]([{}])
    except KeyError:
        out = io.StringIO()
        Console(file=out, width=100, color_system=None).print(Traceback(show_locals=False))
    digest = read_log(out.getvalue())
    assert (digest.error.type, digest.error.message) == ("KeyError", "'amount'")
    assert (digest.error.frames[-1].path, digest.error.frames[-1].line) == (str(path), 3)


def test_a_real_structlog_json_record_gives_its_traceback(tmp_path):
    """structlog's JSONRenderer after format_exc_info puts the formatted traceback under
    "exception", one JSON line; its frames are read as a text traceback's would be."""
    import structlog

    path = tmp_path / "etl.py"
    path.write_text(ETL)
    namespace: dict = {}
    exec(compile(ETL, str(path), "exec"), namespace)
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
    )
    try:
        namespace["load"]([{}])
    except KeyError:
        logger.exception("load failed", dag_id="orders")
    line = out.getvalue().strip()
    assert line.startswith("{") and "\\n" in line and "\n" not in line  # one record, newlines escaped
    digest = read_log(f'{{"event": "starting", "level": "info"}}\n{line}\n')
    assert (digest.error.type, digest.error.message) == ("KeyError", "'amount'")
    assert (digest.error.frames[-1].path, digest.error.frames[-1].line) == (str(path), 3)
