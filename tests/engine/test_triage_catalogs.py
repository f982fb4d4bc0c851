"""Triage from the engines' catalogs: one or more real messages per rule family, each with its
source (the public thread or page it was posted on, or the installed library that raised it
here), and checks that the catalog tables agree with the installed packages they cite."""

from __future__ import annotations

import builtins
import errno
import http.server
import threading
import importlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import traceback
import zipfile
from pathlib import Path

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import codes, exceptions, spark, sqlstate
from patchit_testing import local_http_server, postgres_dsn, triage_text

SITE = Path(importlib.import_module("pandas").__file__).parents[1]


def formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


# (family, source, output as posted or printed, category, remediation)
POSTED = [
    (
        "sqlstate/22P02-literal",
        "https://github.com/dbt-labs/dbt-core/issues/452",
        'Database Error in model one (models/one.sql)\n  invalid input syntax for integer: ""\n'
        "  LINE 2:     select ''::integer as idk\n                     ^\n  compiled SQL at target/run/my_project/one.sql",
        "code.error",
        "patch",
    ),
    (
        "sqlstate/22P02-copy-row",
        "https://github.com/AmsterdamUMC/AmsterdamUMCdb/issues/1",
        'InvalidTextRepresentation: invalid input syntax for integer: "1,1,1,IC,0,,0,2010-2016,96120000,26,15,Man"\n'
        'CONTEXT:  COPY admissions, line 1, column patientid: "1,1,1,IC,0,,0,2010-2016,96120000,26,15,Man"',
        "data.malformed",
        "escalate",
    ),
    (
        # pandas < 2.0 passed format="ISO8601" on to strptime as a literal format
        "dependency/pandas-2.0-format",
        "https://github.com/SciCompMod/memilio/issues/627",
        "ValueError: time data '2020-01-19' does not match format 'ISO8601' (match)",
        "dependency.missing",
        "patch",
    ),
    (
        # Snowflake's "SQL compilation error:" prefix is not dbt's "Compilation Error": 002003 is the
        # role not seeing the object (here UTIL_DB without ACCOUNTADMIN)
        "snowflake/002003",
        "https://github.com/Health-Union/snowshu/issues/40",
        "sqlalchemy.exc.ProgrammingError: (snowflake.connector.errors.ProgrammingError) 002003 (02000): "
        "01938587-0027-5d4d-0000-012516bbcafe: SQL compilation error:\n"
        "Database 'UTIL_DB' does not exist or not authorized.",
        "infra.auth",
        "escalate",
    ),
    (
        "sqlstate/libpq",
        "https://github.com/mapbox/osm-boundaries/issues/4",
        "psycopg2.OperationalError: fe_sendauth: no password supplied",
        "config.missing",
        "escalate",
    ),
    (
        "snowflake",
        "https://github.com/coiled/benchmarks/issues/1345",
        "FAILED tests/workflows/test_snowflake.py::test_read[client0] - snowflake.connector.errors.DatabaseError: 250001 (08001): "
        "Failed to connect to DB: ***.snowflakecomputing.com:443. Incorrect username or password was specified.",
        "infra.auth",
        "escalate",
    ),
    (
        "snowflake",
        "https://docs.snowflake.com/en/user-guide/key-pair-auth-troubleshooting",
        "snowflake.connector.errors.DatabaseError: 250001 (08001): Failed to connect to DB: myaccount.snowflakecomputing.com:443. JWT token is invalid.",
        "infra.auth",
        "escalate",
    ),
    (
        "pyarrow",
        "https://github.com/PablocFonseca/streamlit-aggrid/issues/32",
        "pyarrow.lib.ArrowInvalid: (\"Could not convert '5' with type str: tried to convert to int\", "
        "'Conversion failed for column [name of column] with type object')",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "http 403 rate limit",
        "https://github.com/Justintime50/github-archive/issues/53",
        'github.GithubException.RateLimitExceededException: 403 {"message": "API rate limit exceeded for 195.19.90.245. '
        "(But here's the good news: Authenticated requests get a higher rate limit.)\", "
        '"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}',
        "infra.network",
        "retry",
    ),
    (
        "google-api-core",
        "https://cloud.google.com/bigquery/docs/troubleshoot-quotas",
        "google.api_core.exceptions.Forbidden: 403 Exceeded rate limits: too many table update operations for this table.",
        "infra.network",
        "retry",
    ),
    (
        "google-api-core",
        "https://github.com/googleapis/python-api-core/blob/main/google/api_core/exceptions.py",
        "google.api_core.exceptions.NotFound: 404 Not found: Table my-project:analytics.orders was not found in location EU",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "grpc",
        "https://github.com/databricks/databricks-sql-python/issues/215",
        "databricks.sql.exc.ServerOperationError: DEADLINE_EXCEEDED: This operation took too long",
        "infra.timeout",
        "retry",
    ),
    (
        "botocore",
        "https://github.com/HDE/python-lambda-local/issues/19",
        "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
        "config.missing",
        "escalate",
    ),
    (
        "botocore",
        "https://github.com/boto/botocore/blob/develop/botocore/exceptions.py (ClientError.MSG_TEMPLATE)",
        "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
        "infra.auth",
        "escalate",
    ),
    (
        "botocore",
        "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList",
        "botocore.exceptions.ClientError: An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.",
        "upstream.failed",
        "escalate",
    ),
    (
        "botocore",
        "https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html",
        "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the DescribeTable operation "
        "(reached max retries: 4): Rate exceeded",
        "infra.network",
        "retry",
    ),
    (
        "jinja/airflow 3",
        "https://github.com/BasPH/data-pipelines-with-apache-airflow/issues/19",
        "jinja2.exceptions.TemplateNotFound: postgres_query-{{ ts_nodash }}.sql",
        "config.template",
        "patch",
    ),
    (
        "airflow broken dag",
        "https://github.com/mozilla/telemetry-airflow/pull/144",
        "Broken DAG: [/app/dags/main_summary.py] invalid syntax (main_summary.py, line 34)",
        "code.error",
        "patch",
    ),
    (
        "signals/k8s",
        "https://github.com/flyteorg/flyte/issues/2376",
        "[1/1] currentAttempt done. Last Error: USER::Pod failed. No message received from kubernetes.\n"
        "[f8107735c673549d7acd-n0-0] terminated with exit code (137). Reason [Error]. Message: \n.",
        "infra.resource",
        "escalate",
    ),
    (
        "yarn",
        "https://repost.aws/knowledge-center/emr-spark-yarn-memory-limit",
        "org.apache.spark.SparkException: Job aborted due to stage failure: Task 2 in stage 3.0 failed 4 times, most recent failure: "
        "Lost task 2.3 in stage 3.0: ExecutorLostFailure (executor 7 exited caused by one of the running tasks) Reason: "
        "Container killed by YARN for exceeding memory limits. 5.5 GB of 5.5 GB physical memory used. "
        "Consider boosting spark.yarn.executor.memoryOverhead.",
        "infra.resource",
        "escalate",
    ),
    (
        "k8s",
        "https://kubernetes.io/docs/tasks/configure-pod-container/assign-memory-resource/",
        "    State:          Terminated\n      Reason:       OOMKilled\n      Exit Code:    137",
        "infra.resource",
        "escalate",
    ),
    (
        "numpy release",
        "https://numpy.org/doc/stable/release/1.24.0-notes.html#expired-deprecations",
        "AttributeError: module 'numpy' has no attribute 'float'.\n`np.float` was a deprecated alias for the builtin `float`.",
        "dependency.missing",
        "patch",
    ),
    (
        "pip",
        "https://www.psycopg.org/docs/install.html#build-prerequisites",
        "      Error: pg_config executable not found.\n      \n      pg_config is required to build psycopg2 from source.",
        "dependency.missing",
        "escalate",
    ),
    # BigQuery: a dataset "not found in location" exists elsewhere (the job's location setting);
    # a table not found is still a missing relation (the google-api-core case above)
    (
        "bigquery location",
        "https://github.com/dbt-labs/dbt-bigquery/issues/19",
        "Runtime Error in model yo (models/yo.sql)\n404 Not found: Dataset hello-data-pipeline:staging_benjamin was not found in location EU\n"
        "(job ID: 4020ce42-ec44-438e-8ea0-9f4fe4adcc8c)",
        "config.missing",
        "escalate",
    ),
    (
        "postgres namespace.c",
        "https://github.com/astronomer/astronomer-cosmos/issues/521",
        "Database Error in model customers (models/customers.sql)\n"
        "  improper relation name (too many dotted names): public.airflow.public.customers__dbt_backup\n"
        "  compiled Code at target/run/jaffle_shop/models/customers.sql",
        "config.missing",
        "escalate",
    ),
    (
        "cpython _strptime",
        "https://github.com/rxrw/daily_morning/issues/25",
        'Traceback (most recent call last):\n  File "/home/runner/work/wx_push/wx_push/./main.py", line 28, in get_count\n'
        '    delta = today - datetime.strptime(start_date, "%Y-%m-%d")\n'
        "ValueError: time data '' does not match format '%Y-%m-%d'",
        "config.missing",
        "escalate",
    ),
    (
        "cpython import statement",
        "https://github.com/pallets/markupsafe/issues/290",
        'Traceback (most recent call last):\n  File "/usr/local/bin/airflow", line 25, in <module>\n    from airflow.configuration import conf\n'
        '  File "/usr/local/lib/python3.7/site-packages/jinja2/utils.py", line 642, in <module>\n'
        "    from markupsafe import Markup, escape, soft_unicode",
        "dependency.missing",
        "patch",
    ),
]


# catalog families taken from the libraries' own exception trees and documented messages
CATALOG_FAMILIES = [
    (
        "https://docs.celeryq.dev/en/stable/reference/celery.exceptions.html",
        "celery.exceptions.TimeLimitExceeded: TimeLimitExceeded(300,)",
        "infra.timeout",
        "retry",
    ),
    (
        "https://github.com/dpkp/kafka-python/blob/master/kafka/errors.py",
        "kafka.errors.NoBrokersAvailable: NoBrokersAvailable",
        "infra.network",
        "retry",
    ),
    (
        "https://docs.python.org/3/library/zipfile.html#zipfile.BadZipFile",
        "zipfile.BadZipFile: File is not a zip file",
        "data.malformed",
        "escalate",
    ),
    (
        "https://docs.python.org/3/library/ssl.html#ssl.SSLEOFError (a subclass of SSLError)",
        "ssl.SSLEOFError: EOF occurred in violation of protocol (_ssl.c:2426)",
        "infra.network",
        "retry",
    ),
    ('dash src/exec.c ("%s: not found")', "/bin/sh: 1: dbt: not found", "dependency.missing", "patch"),
    (
        "https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#merge_statement",
        "Runtime Error in snapshot orders_snapshot (snapshots/orders_snapshot.sql)\n  Database Error\n"
        "    UPDATE/MERGE must match at most one source row for each target row",
        "data.quality",
        "escalate",
    ),
    (
        "https://docs.snowflake.com/en/sql-reference/sql/merge#duplicate-join-behavior",
        "100090 (42P18): Duplicate row detected during DML action",
        "data.quality",
        "escalate",
    ),
    (
        "https://docs.sqlalchemy.org/en/20/core/exceptions.html#sqlalchemy.exc.NoSuchModuleError",
        "sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:snowflake",
        "dependency.missing",
        "patch",
    ),
    (
        "https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/engine/url.py",
        "sqlalchemy.exc.ArgumentError: Could not parse rfc1738 URL from string ''",
        "config.missing",
        "escalate",
    ),
    (  # GoogleSQL's analyzer, as BigQuery printed it (cube-js/cube PR 9683)
        "https://github.com/cube-js/cube/pull/9683",
        "Error: No matching signature for operator < for argument types: DATETIME, TIMESTAMP\n"
        "  Signature: T1 < T1\n    Unable to find common supertype for templated argument <T1>",
        "code.error",
        "patch",
    ),
]


@pytest.mark.parametrize(
    "source,text,category,remediation", CATALOG_FAMILIES, ids=[c[1][:30] for c in CATALOG_FAMILIES]
)
def test_catalog_families(source, text, category, remediation):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert "words" not in result.decided_by  # a catalog fact, not the taxonomy's vocabulary


def test_pyspark_imported_from_its_zip_is_not_the_culprit():
    """spark-submit puts SPARK_HOME/python/lib/pyspark.zip and py4j-*.zip on the path: their frames are
    Spark's, the user's job is the frame that called them."""
    text = (
        "Traceback (most recent call last):\n  File \"/app/job.py\", line 33, in <module>\n    df.select('amt').show()\n"
        '  File "/opt/spark/python/lib/pyspark.zip/pyspark/sql/dataframe.py", line 3036, in select\n    jdf = self._jdf.select(self._jcols(*cols))\n'
        '  File "/opt/spark/python/lib/py4j-0.10.9.7-src.zip/py4j/java_gateway.py", line 1322, in __call__\n    return_value = get_return_value(\n'
        '  File "/opt/spark/python/lib/pyspark.zip/pyspark/errors/exceptions/captured.py", line 185, in deco\n    raise converted from None\n'
        "pyspark.errors.exceptions.captured.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter "
        "with name `amt` cannot be resolved. Did you mean one of the following? [`amount`, `id`]."
    )
    result = triage_text(text)
    assert result.category.value == "schema.missing_column"
    assert (result.culprit.path, result.culprit.line) == ("/app/job.py", 33)


def test_a_non_empty_date_that_does_not_parse_stays_a_type_mismatch():
    """Only an empty value is a setting nobody set; a wrong value is the data's (taxonomy)."""
    result = triage_text("ValueError: time data '2024/01/31' does not match format '%Y-%m-%d'")
    assert result.category.value == "data.type_mismatch"


def test_a_cut_traceback_not_at_an_import_is_not_a_dependency():
    result = triage_text(
        'Traceback (most recent call last):\n  File "/opt/etl/load.py", line 12, in <module>\n    main()\n'
    )
    assert result.category.value != "dependency.missing"


@pytest.mark.parametrize(
    "family,source,text,category,remediation", POSTED, ids=[f"{p[0]}:{i}" for i, p in enumerate(POSTED)]
)
def test_posted_messages(family, source, text, category, remediation):
    assert source.startswith(("https://", "installed"))
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert "source:" in result.rationale  # the catalog entry says where it comes from


# --- messages the installed engines print (their source file is the source) -------------------


def _installed(relative: str, needle: str) -> None:
    """The message template really is in the installed package."""
    assert needle in (SITE / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "relative,needle,text,category",
    [
        (
            "dbt/task/test.py",
            "configured to fail if",
            "Failure in test unique_orders_order_id (models/marts/schema.yml)\n  Got 2 results, configured to fail if != 0\n\n"
            "  compiled code at target/compiled/shop/models/marts/schema.yml/unique_orders_order_id.sql",
            "data.quality",
        ),
        (
            "dbt/config/profile.py",
            "Could not find profile named",
            "Runtime Error\n  Could not find profile named 'jaffle_shop'",
            "config.missing",
        ),
        (
            "dbt/config/project.py",
            "is not supported with the",
            "Runtime Error\n  This version of dbt is not supported with the 'dbt_utils' package.\n    Installed version of dbt: =1.11.16\n"
            "    Required version of dbt for 'dbt_utils': ['>=0.20.0', '<0.21.0']",
            "dependency.missing",
        ),
        (
            "airflow/sdk/execution_time/context.py",
            "isn't defined",
            "airflow.sdk.exceptions.AirflowNotFoundException: The conn_id `warehouse` isn't defined",
            "config.missing",
        ),
        (
            "airflow/sdk/execution_time/supervisor.py",
            "Likely out of memory error (OOM).",
            "Process terminated by signal. Likely out of memory error (OOM). For more information, see "
            "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#process-terminated-by-signal.",
            "infra.resource",
        ),
    ],
)
def test_installed_engine_messages(relative, needle, text, category):
    _installed(relative, needle)
    assert triage_text(text).category.value == category


# --- real exceptions raised here ---------------------------------------------------------------


def test_builtin_hierarchy_is_walked():
    """BrokenPipeError has no entry of its own... it has: the walk is for classes nobody listed;
    a made-up subclass of ConnectionError is placed through its bases."""
    assert exceptions.lineage("BrokenPipeError")[:2] == ["BrokenPipeError", "ConnectionError"]
    text = (
        'Traceback (most recent call last):\n  File "/srv/etl/pull.py", line 3, in <module>\n    pull()\n'
        "vendorlib.errors.UpstreamDropped: peer went away"
    )
    exceptions.BASES["UpstreamDropped"] = ("ConnectionError",)
    try:
        result = triage_text(text)
    finally:
        del exceptions.BASES["UpstreamDropped"]
    assert result.category == Category.INFRA_NETWORK and "base class ConnectionError" in result.rationale


def test_real_connection_refused_requests_and_httpx():
    requests = importlib.import_module("requests")
    httpx = importlib.import_module("httpx")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens
    for call in (
        lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2),
        lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2),
    ):
        with pytest.raises(Exception) as info:
            call()
        result = triage_text(formatted(info.value))
        assert (result.category, result.remediation.value) == (Category.INFRA_NETWORK, "retry")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status, body = {
            "/limited": (403, b'{"message": "API rate limit exceeded for 10.0.0.1."}'),
            "/denied": (403, b'{"message": "Resource not accessible by integration"}'),
            "/busy": (429, b"slow down"),
            "/down": (503, b""),
        }[self.path]
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_server():
    with local_http_server(_Handler) as address:
        yield f"http://{address}"


@pytest.mark.parametrize(
    "path,category",
    [("/limited", "infra.network"), ("/denied", "infra.auth"), ("/busy", "infra.network"), ("/down", "infra.network")],
)
def test_real_http_status_rfc9110(http_server, path, category):
    """RFC 9110 / RFC 6585 status semantics on requests' real messages; a 403 whose body says
    rate limit is a rate limit (the body printed on the next line, as scripts log it)."""
    requests = importlib.import_module("requests")
    response = requests.get(http_server + path, timeout=5)
    with pytest.raises(requests.HTTPError) as info:
        response.raise_for_status()
    log = formatted(info.value) + f"\nresponse body: {response.text}\n"
    assert triage_text(log).category.value == category


@pytest.mark.parametrize(
    "number,category",
    [
        (errno.ENOSPC, "infra.resource"),
        (errno.EACCES, "infra.auth"),
        (errno.ECONNRESET, "infra.network"),
        (errno.EMFILE, "infra.resource"),
    ],
)
def test_errno_catalog(number, category):
    """OSError's own rendering `[Errno N] strerror` (https://docs.python.org/3/library/errno.html)."""
    try:
        raise OSError(number, os.strerror(number))
    except OSError as exc:
        assert triage_text(formatted(exc)).category.value == category


def test_real_sigkill_of_a_subprocess():
    """subprocess's message for a child killed by SIGKILL (signal(7)): the OOM killer's signal."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    exc = subprocess.CalledProcessError(proc.returncode, ["python", "transform.py"])
    assert "SIGKILL" in str(exc)
    result = triage_text(formatted(exc))
    assert (result.category, result.remediation.value) == (Category.INFRA_RESOURCE, "escalate")


def test_real_unicode_encode_error_is_the_codes_choice_of_codec_not_bad_data():
    """Encoding fails on valid text: the codec the code chose cannot represent it (a patch names
    one); decoding fails on bytes that are not valid in theirs (the data is malformed)."""
    try:
        "Zürich".encode("ascii")
    except UnicodeEncodeError as exc:
        encode = triage_text(formatted(exc))
    try:
        b"Z\xfcrich".decode("utf-8")
    except UnicodeDecodeError as exc:
        decode = triage_text(formatted(exc))
    assert (encode.category, encode.remediation.value) == (Category.CODE_ERROR, "patch")
    assert decode.category == Category.DATA_MALFORMED


def test_a_python_36_import_error_reads_its_module_from_the_import_line():
    """CPython < 3.7 printed `cannot import name 'X'` without the module (ceval.c import_from):
    the failing `from M import X` names it, so a name Airflow moved is recognised as such."""
    log = (
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/etl.py", line 3, in <module>\n'
        "    from airflow.operators import DummyOperator\n"
        "ImportError: cannot import name 'DummyOperator'\n"
    )
    result = triage_text(log)
    assert (result.category, result.remediation.value) == (Category.CODE_ERROR, "patch")
    assert result.culprit is not None and result.culprit.path.endswith("etl.py") and result.culprit.line == 3


def test_real_unset_environment_variable_is_missing_config_not_a_column():
    """os.environ[...] raises KeyError from inside os.py (_Environ.__getitem__): the variable is not set."""
    try:
        os.environ["PATCHIT_TEST_SURELY_UNSET_VARIABLE"]
    except KeyError as exc:
        result = triage_text(formatted(exc))
    assert (result.category, result.remediation.value) == (Category.CONFIG_MISSING, "escalate")


def test_real_sigsegv_of_a_subprocess_is_a_native_library_not_memory():
    """A child that crashes with SIGSEGV: Airflow's supervisor names the cause (SIGSEGV_MESSAGE: a C
    library built for another architecture or OS), so it is a dependency to escalate, not memory."""
    proc = subprocess.Popen([sys.executable, "-c", "import ctypes; ctypes.string_at(0)"])
    proc.wait(timeout=30)
    exc = subprocess.CalledProcessError(proc.returncode, ["python", "load.py"])
    assert "SIGSEGV" in str(exc)
    result = triage_text(formatted(exc))
    assert (result.category, result.remediation.value) == (Category.DEPENDENCY_MISSING, "escalate")
    airflow_line = (
        "[2024-01-01, 00:00:00 UTC] {local_task_job.py:159} INFO - Task exited with return code Negsignal.SIGSEGV"
    )
    assert triage_text(airflow_line).category == Category.DEPENDENCY_MISSING


def test_real_jinja_and_removed_airflow3_context_key():
    """Jinja's UndefinedError on a key Airflow 3 removed from the context is a code change
    (https://airflow.apache.org/docs/apache-airflow/stable/installation/upgrading_to_airflow3.html)."""
    jinja2 = importlib.import_module("jinja2")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError) as removed:
        env.from_string("select * from t where day = '{{ execution_date }}'").render(ds="2026-01-01")
    with pytest.raises(jinja2.UndefinedError) as typo:
        env.from_string("{{ dss }}").render(ds="2026-01-01")
    assert triage_text(formatted(removed.value)).category == Category.CODE_ERROR
    assert triage_text(formatted(typo.value)).category == Category.CONFIG_TEMPLATE


def test_real_pandas_and_duckdb_errors():
    pd = importlib.import_module("pandas")
    duckdb = importlib.import_module("duckdb")
    with pytest.raises(Exception) as empty:
        pd.read_csv(io.StringIO(""))
    con = duckdb.connect()
    con.execute("create table orders (id int, amount int)")
    with pytest.raises(Exception) as binder:
        con.execute("select amount_eur from orders")
    with pytest.raises(Exception) as cast:
        con.execute("select cast('abc' as integer)")
    assert triage_text(formatted(empty.value)).category == Category.DATA_EMPTY
    assert triage_text(formatted(binder.value)).category == Category.SCHEMA_MISSING_COLUMN
    assert triage_text(formatted(cast.value)).category == Category.DATA_TYPE_MISMATCH


def test_strptime_with_pandas_2_format_keywords_is_an_old_pandas():
    # What pandas < 2.0 did with format="ISO8601": CPython's strptime with it as a literal format.
    import datetime

    for keyword in ("ISO8601", "mixed"):
        with pytest.raises(ValueError) as old:
            datetime.datetime.strptime("2020-01-19", keyword)
        found = triage_text(formatted(old.value))
        assert (found.category, found.remediation.value) == (Category.DEPENDENCY_MISSING, "patch")
    with pytest.raises(ValueError) as plain:  # any other format stays a value that does not parse
        datetime.datetime.strptime("2020-19-01", "%Y-%m-%d")
    assert triage_text(formatted(plain.value)).category == Category.DATA_TYPE_MISMATCH


def test_real_postgresql_22p02_literal_row_and_value():
    """PostgreSQL's own 22P02 messages (PATCHIT_TEST_PG_URL, scripts/postgres.sh): a literal of the
    statement is the SQL's fault, a whole CSV row in one column of COPY (text format, tab
    delimiter) a malformed file, one bad value of the data a type mismatch."""
    url = postgres_dsn()
    psycopg = importlib.import_module("psycopg")
    errors = {}
    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.autocommit = True
        conn.execute("create temporary table admissions (patientid integer, unit text, age text, year text)")
        for name, run in {
            "literal": lambda: conn.execute("select\n    ''::integer as idk"),
            "row": lambda: _copy(conn, "1,IC,60-69,2010-2016\n"),
            "value": lambda: _copy(conn, "x1\tIC\t60-69\t2010\n"),
        }.items():
            with pytest.raises(psycopg.errors.InvalidTextRepresentation) as caught:
                run()
            errors[name] = triage_text(formatted(caught.value))
    assert (errors["literal"].category, errors["literal"].remediation.value) == (Category.CODE_ERROR, "patch")
    assert (errors["row"].category, errors["row"].remediation.value) == (Category.DATA_MALFORMED, "escalate")
    assert errors["value"].category == Category.DATA_TYPE_MISMATCH


def test_real_postgresql_undefined_function_with_or_without_its_class():
    """A function or operator no signature fits (42883): psycopg's class decides; a tool that
    prints only PostgreSQL's message and HINT (psql, a shell step) gets the same verdict."""
    url = postgres_dsn()
    psycopg = importlib.import_module("psycopg")
    with psycopg.connect(url, connect_timeout=10) as conn:
        for statement in ("select lower(now())", "select now() = 1"):
            with pytest.raises(psycopg.errors.UndefinedFunction) as caught:
                conn.execute(statement)
            conn.rollback()
            for text in (formatted(caught.value), f"ERROR:  {caught.value}"):
                result = triage_text(text)
                assert (result.category, result.remediation.value) == (Category.CODE_ERROR, "patch"), text


def test_real_postgresql_connection_slots_and_deadlock():
    """Class 53 (insufficient resources): a role's used-up connection slots (53300) are a resource,
    not the network; a deadlock (40P01), two transactions locking rows in opposite order, is lock
    contention like 55P03's lock timeout: re-run."""
    url = postgres_dsn()
    import threading

    psycopg = importlib.import_module("psycopg")
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as admin:
        admin.execute("drop role if exists patchit_one_slot")
        admin.execute("create role patchit_one_slot login password 'p' connection limit 1")
        admin.execute("drop table if exists patchit_locks")
        admin.execute("create table patchit_locks (id int primary key, n int)")
        admin.execute("insert into patchit_locks values (1, 0), (2, 0)")
        admin.execute("grant all on patchit_locks to patchit_one_slot")
        try:
            slot_url = psycopg.conninfo.make_conninfo(url, user="patchit_one_slot", password="p")
            with psycopg.connect(slot_url, connect_timeout=10):
                with pytest.raises(psycopg.OperationalError) as full:
                    psycopg.connect(slot_url, connect_timeout=10)
            slots = triage_text(formatted(full.value))
            assert "too many connections" in str(full.value)
            assert (slots.category, slots.remediation.value) == (Category.INFRA_RESOURCE, "escalate"), slots.rationale

            first, second = psycopg.connect(url, connect_timeout=10), psycopg.connect(url, connect_timeout=10)
            caught: list[BaseException] = []
            both_hold = threading.Barrier(2, timeout=10)

            def lock(conn, mine: int, theirs: int) -> None:
                try:
                    conn.execute("set lock_timeout = '10s'")
                    conn.execute("update patchit_locks set n = n + 1 where id = %s", (mine,))
                    both_hold.wait()
                    conn.execute("update patchit_locks set n = n + 1 where id = %s", (theirs,))
                    conn.commit()
                except psycopg.Error as exc:
                    caught.append(exc)
                    conn.rollback()

            threads = [threading.Thread(target=lock, args=a) for a in ((first, 1, 2), (second, 2, 1))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            first.close()
            second.close()
            assert len(caught) == 1 and isinstance(caught[0], psycopg.errors.DeadlockDetected), caught
            deadlock = triage_text(formatted(caught[0]))
            assert (deadlock.category, deadlock.remediation.value) == (Category.INFRA_TIMEOUT, "retry"), (
                deadlock.rationale
            )
        finally:
            admin.execute("drop table if exists patchit_locks")
            admin.execute("drop owned by patchit_one_slot")
            admin.execute("drop role if exists patchit_one_slot")


def test_real_postgresql_function_or_type_of_a_missing_extension():
    """pgcrypto's digest() and citext's type fail as 42883 / 42704 on a database without the
    extension: the database lacks a package (escalate to whoever runs CREATE EXTENSION), not the
    statement a cast; once the extension exists the same statements run."""
    url = postgres_dsn()
    psycopg = importlib.import_module("psycopg")
    statements = {
        "select digest('x', 'sha1')": psycopg.errors.UndefinedFunction,
        "create temporary table emails (address citext)": psycopg.errors.UndefinedObject,
    }
    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.autocommit = True
        conn.execute("drop extension if exists pgcrypto")
        conn.execute("drop extension if exists citext")
        try:
            for statement, error in statements.items():
                with pytest.raises(error) as caught:
                    conn.execute(statement)
                for text in (formatted(caught.value), f"ERROR:  {caught.value}"):
                    result = triage_text(text)
                    assert (result.category, result.remediation.value) == (Category.DEPENDENCY_MISSING, "escalate"), (
                        text
                    )
            conn.execute("create extension pgcrypto")
            conn.execute("create extension citext")
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.execute("drop table if exists emails")
            conn.execute("drop extension if exists pgcrypto")
            conn.execute("drop extension if exists citext")


def test_real_postgresql_numeric_overflow_without_its_code():
    """22003 in PostgreSQL's words ("integer out of range", "numeric field overflow"), as psql or a
    shell step prints it without the SQLSTATE, is a value that does not fit its type."""
    url = postgres_dsn()
    psycopg = importlib.import_module("psycopg")
    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.autocommit = True
        for statement in ("select 2147483647::integer + 1", "select 12345.6::numeric(3, 1)"):
            with pytest.raises(psycopg.errors.NumericValueOutOfRange) as caught:
                conn.execute(statement)
            for text in (formatted(caught.value), f"psql:load.sql:3: ERROR:  {caught.value}"):
                assert triage_text(text).category == Category.DATA_TYPE_MISMATCH, text


# https://github.com/awslabs/amazon-redshift-utils/issues/114: Redshift's own STL_ERROR layout
REDSHIFT_OVERFLOW = (
    "psql:table_info.sql:49: ERROR:  Numeric data overflow (result precision)\nDETAIL:  \n\n---\n\n"
    "  error:  Numeric data overflow (result precision)\n  code:      1058\n  context:   64 bit overflow\n---\n"
)


def test_redshift_numeric_data_overflow():
    assert triage_text(REDSHIFT_OVERFLOW).category == Category.DATA_TYPE_MISMATCH


def _copy(conn, data: str) -> None:
    with conn.cursor().copy("copy admissions from stdin") as copy:
        copy.write(data)


# --- the tables agree with the catalogs they cite ---------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "requests.exceptions",
        "httpx",
        "urllib3.exceptions",
        "pandas.errors",
        "jinja2.exceptions",
        "airflow.exceptions",
        "airflow.sdk.exceptions",
    ],
)
def test_bases_match_the_installed_class_trees(module):
    """Every BASES entry naming a class of an installed library lists only real bases of it."""
    mod = importlib.import_module(module)
    checked = 0
    for name, bases in exceptions.BASES.items():
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            real = {b.__name__ for b in cls.__mro__}
            if set(bases) <= real:
                checked += 1
    classes = {n for n in dir(mod) if isinstance(getattr(mod, n), type) and issubclass(getattr(mod, n), BaseException)}
    assert checked or not (classes & set(exceptions.BASES))


def test_psycopg_classes_are_the_sqlstate_catalog():
    errors = importlib.import_module("psycopg.errors")
    table = sqlstate.psycopg_classes()
    assert len(table) > 200
    for name, state in table.items():
        assert getattr(errors, name).sqlstate == state
    assert (
        table["UndefinedColumn"] == "42703"
        and table["QueryCanceled"] == "57014"
        and table["InvalidPassword"] == "28P01"
    )
    result = triage_text("psycopg.errors.QueryCanceled: canceling statement due to user request")
    assert result.category == Category.INFRA_TIMEOUT and "SQLSTATE 57014" in result.rationale
    assert result.decided_by.startswith("SQLSTATE 57014") and result.source == sqlstate.PG


def test_spark_conditions_come_from_the_installed_spark():
    pyspark = importlib.import_module("pyspark")
    jar = next((Path(pyspark.__file__).parent / "jars").glob("spark-common-utils_*.jar"))
    with zipfile.ZipFile(jar) as archive:
        catalog = json.loads(archive.read("error/error-conditions.json"))
    shipped = spark.conditions()
    for name in (
        "UNRESOLVED_COLUMN",
        "TABLE_OR_VIEW_NOT_FOUND",
        "CAST_INVALID_INPUT",
        "DIVIDE_BY_ZERO",
        "PATH_NOT_FOUND",
    ):
        assert shipped[name] == catalog[name]["sqlState"]
    assert all(name in catalog or spark.CONDITIONS[name].source == spark.DATABRICKS for name in spark.CONDITIONS)
    # a condition without an entry of its own is placed by its SQLSTATE (NUMERIC_VALUE_OUT_OF_RANGE: 22003)
    text = (
        "pyspark.errors.exceptions.captured.ArithmeticException: [NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION] "
        "123456 cannot be represented as Decimal(4, 2). SQLSTATE: 22003"
    )
    result = triage_text(text)
    assert result.category == Category.DATA_TYPE_MISMATCH and "NUMERIC_VALUE_OUT_OF_RANGE" in result.rationale


def test_sqlstate_classes():
    assert sqlstate.find_state("ERROR: relation does not exist (SQLSTATE 42P01)") == "42P01"
    assert sqlstate.find_state("000904 (42000): SQL compilation error") == "42000"
    # a PostgreSQL server log line with %e in log_line_prefix (Heroku Postgres)
    assert sqlstate.find_state("app/postgres.1 [11-1]  sql_error_code = 22012 ERROR:  division by zero") == "22012"
    assert sqlstate.find_state("app/postgres.1 [12-1]  sql_error_code = 00000 LOG:  checkpoint complete") is None
    assert sqlstate.specific("42000") is None and sqlstate.of_class("42000").category == Category.CODE_ERROR
    assert sqlstate.of_class("53100").category == Category.INFRA_RESOURCE
    # a class-28 code nobody listed is still an authorization failure
    assert triage_text("some.driver.Error: login refused (SQLSTATE 28999)").category == Category.INFRA_AUTH


def test_http_status_parsing():
    assert codes.http_status("403 Client Error: Forbidden for url: https://x") == 403
    assert codes.http_status("Client error '429 Too Many Requests' for url 'https://x'") == 429
    assert codes.http_status("urllib.error.HTTPError: HTTP Error 503: Service Unavailable") == 503
    assert codes.http_status("copied 200 rows") is None


def test_every_catalog_entry_cites_a_source():
    for verdict in exceptions.CLASSES.values():
        assert verdict is None or verdict.source
    for table in (sqlstate.CODES, sqlstate.CLASSES, spark.CONDITIONS, codes.HTTP, codes.AWS, codes.GRPC):
        assert all(v.source.startswith(("http", "pyspark/", "installed")) for v in table.values())


def test_unknown_keeps_the_evidence_and_a_next_step():
    result = triage_text("the nightly job stopped\nsee the operator for details\n")
    assert result.category == Category.UNKNOWN and result.confidence <= 0.3
    assert result.evidence_lines == ["the nightly job stopped", "see the operator for details"]
    assert "see the operator for details" in result.summary and "classify by hand" in result.next_step
    assert result.decided_by == "" and result.source == ""


def test_builtins_named_like_psycopg_classes_stay_python():
    """psycopg.errors has a SyntaxError (42601): Python's SyntaxError must not read as SQL."""
    assert hasattr(builtins, "SyntaxError") and "SyntaxError" in sqlstate.psycopg_classes()
    text = (
        "  File \"/opt/airflow/dags/load.py\", line 3\n    def load(\n            ^\nSyntaxError: '(' was never closed"
    )
    result = triage_text(text)
    assert result.category == Category.CODE_ERROR and "SQLSTATE" not in result.rationale
    assert (result.culprit.path, result.culprit.line) == ("/opt/airflow/dags/load.py", 3)


@pytest.mark.parametrize(
    "text,category,remediation",
    [
        # errno by its strerror text, as coreutils print it (https://man7.org/linux/man-pages/man3/strerror.3.html)
        ("mkdir: cannot create directory '/opt/airflow/logs/scheduler': Permission denied", "infra.auth", "escalate"),
        # getaddrinfo(3): EAI_AGAIN is temporary, EAI_NONAME is a name nobody knows
        (
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded "
            "(Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection object>: Failed to resolve 'api.example.com' "
            '([Errno -3] Temporary failure in name resolution)"))',
            "infra.network",
            "retry",
        ),
        ("httpx.ConnectError: [Errno -2] Name or service not known", "infra.network", "escalate"),
    ],
)
def test_errno_texts_and_getaddrinfo(text, category, remediation):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation)


def test_jvm_caused_by_chain():
    """A Spark job abort wraps its cause in `Caused by:`; Hadoop's RawLocalFileSystem says
    "File %s does not exist" (https://github.com/apache/hadoop/blob/trunk/hadoop-common-project/
    hadoop-common/src/main/java/org/apache/hadoop/fs/RawLocalFileSystem.java)."""
    log = (
        "26/01/01 10:00:00 ERROR Executor: Exception in task 0.0 in stage 1.0 (TID 1)\n"
        "org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 1.0 failed 1 times\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2672)\n"
        "Caused by: java.io.FileNotFoundException: File file:/data/in/2026-01-01.parquet does not exist\n"
        "\tat org.apache.hadoop.fs.RawLocalFileSystem.deprecatedGetFileStatus(RawLocalFileSystem.java:779)\n"
    )
    result = triage_text(log)
    assert result.category == Category.UPSTREAM_FAILED and "FileNotFoundException" in result.decided_by
    assert result.culprit is None  # JVM frames are never the user's file


@pytest.mark.parametrize(
    "modules,source,elsewhere",
    [
        (("dbt.exceptions", "dbt_common.exceptions"), exceptions.DBT, set()),
        (("pandas.errors",), exceptions.PANDAS, {"DateParseError"}),  # pandas._libs.tslibs.parsing
        (("jinja2.exceptions",), exceptions.JINJA, set()),
    ],
)
def test_class_entries_name_real_classes(modules, source, elsewhere):
    """Each class entry citing an installed library names an exception class it defines
    (dbt's console kinds `dbt_<Kind>_Error` are the log readers' names, not classes)."""
    mods = [importlib.import_module(m) for m in modules]
    cited = {
        name
        for name, verdict in exceptions.CLASSES.items()
        if verdict is not None and verdict.source == source and not name.startswith("dbt_")
    }
    real = {
        name
        for name in cited
        for mod in mods
        if isinstance(getattr(mod, name, None), type) and issubclass(getattr(mod, name), BaseException)
    }
    assert cited and cited - real <= elsewhere


def test_airflow_metadata_tables_are_the_installed_orm():
    """The Airflow 3 table list is the installed ORM's (run in a child: importing every model is slow)."""
    from patchit_provider.engine.triage.catalogs import airflow_meta

    code = (
        "from airflow.models import import_all_models; import_all_models();"
        "from airflow.models.base import Base; print('TABLES: ' + ' '.join(sorted(Base.metadata.tables)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    # Airflow may log to stdout on import (e.g. in unit-test mode): read only the marked line.
    lines = [line for line in proc.stdout.splitlines() if line.startswith("TABLES: ")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    installed = set(lines[0].removeprefix("TABLES: ").split())
    assert installed and installed <= airflow_meta.TABLES
    assert airflow_meta.AIRFLOW3_TABLES == installed


@pytest.mark.parametrize(
    "text,category",
    [
        # Airflow's own tables missing: the metadata DB is not migrated (howto/set-up-database.html)
        ("sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: dag", "config.missing"),
        (
            "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) column dag.has_import_errors does not exist",
            "config.missing",
        ),
        # a pipeline's table stays a schema problem
        ('psycopg2.errors.UndefinedTable: relation "orders" does not exist', "schema.missing_relation"),
        # CPython's circular import message (Python/import.c)
        (
            "ImportError: cannot import name 'helper' from partially initialized module 'etl.tasks' "
            "(most likely due to a circular import) (/opt/airflow/dags/etl/tasks.py)",
            "code.error",
        ),
        # OpenSSL's verify failure is no transient network error
        (
            "requests.exceptions.SSLError: HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: / (Caused by "
            "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
            "certificate in certificate chain (_ssl.c:1006)')))",
            "infra.auth",
        ),
    ],
)
def test_airflow_metadata_cpython_and_tls_messages(text, category):
    assert triage_text(text).category.value == category


@pytest.mark.parametrize(
    "source,text,category",
    [
        (
            "https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html#error_er_no_such_table",
            "pymysql.err.ProgrammingError: (1146, \"Table 'shop.ordrs' doesn't exist\")",
            "schema.missing_relation",
        ),
        (
            "https://dev.mysql.com/doc/mysql-errors/8.0/en/client-error-reference.html#error_cr_server_gone_error",
            "MySQLdb._exceptions.OperationalError: (2006, 'MySQL server has gone away')",
            "infra.network",
        ),
        (
            "https://docs.oracle.com/en/error-help/db/ora-00942/",
            "oracledb.exceptions.DatabaseError: ORA-00942: table or view does not exist",
            "schema.missing_relation",
        ),
        (
            "https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/mssqlserver-18456-database-engine-error",
            "pyodbc.InterfaceError: ('28000', \"[28000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user "
            "'etl'. (18456) (SQLDriverConnect)\")",
            "infra.auth",
        ),
    ],
)
def test_vendor_error_numbers(source, text, category):
    result = triage_text(text)
    assert result.category.value == category and result.source


def test_taxonomy_words_before_unknown_with_a_low_confidence():
    """An error no catalog knows is read by the taxonomy's own words, and says it is a guess."""
    result = triage_text(
        'Traceback (most recent call last):\n  File "/srv/etl/pull.py", line 9, in pull\n    client.fetch()\n'
        "acme.errors.AcmeApiTimeoutError: upstream took too long to answer\n"
    )
    assert result.category == Category.INFRA_TIMEOUT and result.confidence <= 0.4
    assert result.decided_by.startswith("words") and "taxonomy.md" in result.source
    assert (result.culprit.path, result.culprit.line) == ("/srv/etl/pull.py", 9)


def test_taxonomy_words_skip_the_user_s_own_names():
    """A snake_case name or path is the user's, not the engine's words: a step named
    `load_network_stats` that finds duplicate rows has a data problem, not a network one."""
    result = triage_text(
        "acme.errors.AcmeError: step load_network_stats in /srv/etl/load_network.py found duplicate rows\n"
    )
    assert result.category == Category.DATA_QUALITY
    assert "network" not in result.rationale


def test_taxonomy_words_read_an_api_s_upper_case_error_code():
    """An upper-case code is the API's own word for the error (`RATE_LIMIT`), not a user's name."""
    result = triage_text(  # as posted in https://github.com/HGData/mk-node-hubspot/issues/89 (smart quotes)
        "{“status”:“error”,“message”:“You have reached your secondly limit.”,“errorType”:“RATE_LIMIT”,"
        "“policyName”:“SECONDLY”}\n"
    )
    assert (result.category, result.remediation.value) == (Category.INFRA_NETWORK, "retry")
    assert result.decided_by.startswith("words")
    assert triage_text("acme.errors.AcmeError: step load_network_stats failed\n").category != Category.INFRA_NETWORK


def test_exception_repr_inside_a_wrapper_line():
    """Celery logs a task failure as `raised unexpected: KeyError('x')`
    (https://docs.celeryq.dev/en/stable/userguide/tasks.html); the repr names the class."""
    text = "[2024-01-01 10:00:00,000: ERROR/ForkPoolWorker-1] Task etl.load[abc] raised unexpected: KeyError('customer_id')"
    assert triage_text(text).category == Category.SCHEMA_MISSING_COLUMN


# --- one installed package calling another in a form the installed version does not have --------
AIGER = (  # as posted in https://github.com/mvcisback/py-aiger/issues/113 (fixed by requiring attrs 19.3)
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    '  File "/usr/local/lib/python3.7/site-packages/aiger/__init__.py", line 6, in <module>\n'
    "    from aiger.expr import atom, atoms, ite, BoolExpr\n"
    '  File "/usr/local/lib/python3.7/site-packages/aiger/expr.py", line 9, in <module>\n'
    "    @attr.s(frozen=True, slots=True, eq=False, auto_attribs=True, hash=True)\n"
    "TypeError: attrs() got an unexpected keyword argument 'eq'\n"
)
# the frames as posted in https://github.com/OpenEnergyPlatform/open-MaStR/issues/420 (pandas 1.5
# under SQLAlchemy 2.0; the thread and pandas-dev/pandas#51015 end with pinning SQLAlchemy < 2)
PANDAS_SQLALCHEMY = (
    "Traceback (most recent call last):\n"
    '  File "C:\\Users\\deniz\\Documents\\open-MaStR\\open_mastr\\utils\\helpers.py", line 717, in db_query_to_csv\n'
    "    pd.read_sql(\n"
    '  File "C:\\Users\\deniz\\Anaconda3\\envs\\mastr-clean\\lib\\site-packages\\pandas\\io\\sql.py", line 1405, in execute\n'
    "    return self.connectable.execution_options().execute(*args, **kwargs)\n"
    "AttributeError: 'OptionEngine' object has no attribute 'execute'\n"
)


def test_a_package_calling_another_with_an_argument_it_lacks_is_a_version_mismatch():
    result = triage_text(AIGER)
    assert (result.category.value, result.remediation.value) == ("dependency.missing", "patch")
    # the same call written in the user's own file is the user's code to fix
    own = triage_text(AIGER.replace("/usr/local/lib/python3.7/site-packages/aiger/expr.py", "/srv/etl/expr.py"))
    assert own.category.value == "code.error"


def test_a_package_forwarding_its_caller_s_kwargs_leaves_the_argument_to_the_caller():
    forwarded = AIGER.replace(
        "@attr.s(frozen=True, slots=True, eq=False, auto_attribs=True, hash=True)", "return attr.s(**kwargs)"
    ).replace("/usr/local/lib/python3.7/site-packages/aiger/__init__.py", "/srv/etl/circuits.py")
    assert triage_text(forwarded).category.value == "code.error"


def test_sqlalchemy_2_removed_engine_execution_wherever_it_is_called():
    """pandas < 2.2 calls Engine.execute, which SQLAlchemy 2.0 removed (migration_20.html); the
    package forwards **kwargs, but an attribute it looks up itself is its own."""
    result = triage_text(PANDAS_SQLALCHEMY)
    assert (result.category.value, result.remediation.value) == ("dependency.missing", "patch")
    # as posted in https://github.com/marklit/datafluent_pg/issues/1: the script's own call
    script = triage_text(
        "Traceback (most recent call last):\n\n"
        '  File "/home/paperspace/.pq/bin/datafluent", line 38, in build_month_distributions\n'
        "    results = engine.execute(get_columns_sql)\n\n"
        "AttributeError: 'Engine' object has no attribute 'execute'\n"
    )
    assert script.category.value == "dependency.missing" and "migration_20" in script.source


def test_a_typo_answered_by_a_library_s_getattr_is_the_caller_s_code():
    """pandas raises a caller's misspelt attribute from its own `__getattr__`
    (pandas/core/groupby/groupby.py): the raising line is the library's, the mistake the caller's."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/kpis/weekly.py", line 4, in <module>\n'
        '    totals = df.groupby("region")["amount"].summ()\n'
        '  File "/usr/local/lib/python3.12/site-packages/pandas/core/groupby/groupby.py", line 1363, in __getattr__\n'
        "    raise AttributeError(\n"
        "AttributeError: 'SeriesGroupBy' object has no attribute 'summ'\n"
    )
    assert triage_text(text).category.value == "code.error"


def test_a_built_in_value_s_missing_attribute_inside_a_package_is_still_the_caller_s_code():
    """`'NoneType' object has no attribute` inside a library means a value the caller passed."""
    text = PANDAS_SQLALCHEMY.replace(
        "'OptionEngine' object has no attribute 'execute'", "'NoneType' object has no attribute 'cursor'"
    )
    assert triage_text(text).category.value != "dependency.missing"


def _strptime_error(value: str, fmt: str) -> str:
    import datetime

    with pytest.raises(ValueError) as caught:
        datetime.datetime.strptime(value, fmt)
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/etl/parse.py", line 12, in parse\n'
        "    return datetime.strptime(raw, FORMAT)\n"
        f"ValueError: {caught.value}\n"
    )


@pytest.mark.parametrize(
    "value,fmt,category",
    [
        ("2014-12-25", "%y-%m-%d", "code.error"),  # a four-digit year read with %y (CPython's own message)
        ("25/12/2014", "%m/%d/%Y", "data.type_mismatch"),  # day and month in the other order: feed or format
        ("13:30", "%I:%M", "code.error"),  # the 12-hour clock's %I where the value is on a 24-hour clock
        ("n/a", "%Y-%m-%d", "data.type_mismatch"),  # no spelling of the format reads it: the data
        ("2014-12-25T10:00", "%Y-%m-%d", "data.type_mismatch"),  # CPython: "unconverted data remains"
        ("2014/12/25", "%Y-%m-%d", "data.type_mismatch"),  # another separator: the rows, not one directive
    ],
)
def test_a_date_that_a_sibling_format_reads_is_the_code_s_format(value, fmt, category):
    result = triage_text(_strptime_error(value, fmt))
    assert result.category.value == category
    if category == "code.error":
        assert result.remediation.value == "patch" and (result.culprit.path, result.culprit.line) == (
            "/srv/etl/parse.py",
            12,
        )


RUNTIME_AND_PACKAGING_CATALOG_ENTRIES = [
    # Spark's DATA_SOURCE_NOT_FOUND (error-conditions.json) and Spark 2.4's wording of it
    (
        "pyspark.errors.exceptions.captured.AnalysisException: [DATA_SOURCE_NOT_FOUND] Failed to find the data "
        "source: kafka. Make sure the provider name is correct and the package is properly registered and "
        "compatible with your Spark version. SQLSTATE: 42K02",
        "dependency.missing",
        "patch",
    ),
    (
        "org.apache.spark.sql.AnalysisException: Failed to find data source: kafka. Please deploy the application "
        'as per the deployment section of "Structured Streaming + Kafka Integration Guide".;',
        "dependency.missing",
        "patch",
    ),
    # a JVM too new for Spark's bytecode reader (xbean-asm), and the JVM's own class version error
    (
        "java.lang.IllegalArgumentException: Unsupported class file major version 61",
        "dependency.missing",
        "escalate",
    ),
    (
        'Exception in thread "main" java.lang.UnsupportedClassVersionError: com/acme/Job has been compiled by a '
        "more recent version of the Java Runtime (class file version 61.0), this version of the Java Runtime only "
        "recognizes class file versions up to 52.0",
        "dependency.missing",
        "escalate",
    ),
    # BigQuery's notFound for a job run in another location than its dataset (error-messages)
    (
        "google.api_core.exceptions.NotFound: 404 Not found: sales_eu was not found in location US",
        "config.missing",
        "escalate",
    ),
]


def _assert_verdict(text: str, category: str, remediation: str) -> None:
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


@pytest.mark.parametrize(
    "text,category",
    [
        # trino-python-client's TrinoQueryError repr (trino/exceptions.py), as dbt-trino prints it
        (
            'dbt Database Error: TrinoUserError(type=USER_ERROR, name=COLUMN_NOT_FOUND, message="line 17:7: Column '
            "'fee_amount' cannot be resolved\", query_id=20240101_000000_00000_abcde)",
            "schema.missing_column",
        ),
        (
            "TrinoUserError(type=USER_ERROR, name=AMBIGUOUS_NAME, message=\"line 48:13: Column 'version' is "
            'ambiguous", query_id=20240101_000000_00001_abcde)',
            "code.error",
        ),
        (
            'TrinoUserError(type=USER_ERROR, name=INVALID_CAST_ARGUMENT, message="Cannot cast DECIMAL(38, 0) '
            "'115792089237316195423570985008687907853269984665640564039457584007913129639935' to BIGINT\", "
            "query_id=20240101_000000_00002_abcde)",
            "data.type_mismatch",
        ),
        # Athena prints the name before the message
        (
            "botocore.exceptions.ClientError: TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.sales.orderz' does "
            "not exist",
            "schema.missing_relation",
        ),
        (
            "HIVE_BAD_DATA: Error parsing field value '2021-13-45' for field 3: For input string: \"2021-13-45\"",
            "data.malformed",
        ),
        (
            'TrinoQueryError(type=INSUFFICIENT_RESOURCES, name=EXCEEDED_LOCAL_MEMORY_LIMIT, message="Query exceeded '
            'per-node memory limit of 1GB", query_id=20240101_000000_00003_abcde)',
            "infra.resource",
        ),
    ],
)
def test_trino_error_names(text, category):
    """io.trino.spi.StandardErrorCode and the Hive connector's HiveErrorCode, by name."""
    result = triage_text(text)
    assert result.category.value == category and "Trino error" in result.decided_by


def test_a_word_in_capitals_that_no_catalog_names_is_no_trino_code():
    assert "Trino" not in triage_text("acme.WarehouseError: WAREHOUSE_DOWN: try later").decided_by


def test_a_print_under_an_ascii_locale_is_the_job_s_environment(tmp_path):
    """Real CPython: stdout's encoding is the locale's (ASCII under cron's C locale; here forced with
    PYTHONIOENCODING, https://docs.python.org/3/library/sys.html#sys.stdout). The same text
    written to a file opened with an ASCII encoding is the code's choice."""
    import subprocess

    script = tmp_path / "report.py"
    script.write_text("def report(name):\n    print('Process %s ended.' % name)\n\nreport('résumé')\n")
    printed = subprocess.run(
        [sys.executable, str(script)],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "ascii"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "UnicodeEncodeError: 'ascii' codec can't encode" in printed.stderr, printed.stderr
    result = triage_text(printed.stderr)
    assert (result.category.value, result.remediation.value) == ("config.missing", "escalate")
    script.write_text(
        "def report(name):\n    with open('out.txt', 'w', encoding='ascii') as out:\n        out.write(name)\n\nreport('résumé')\n"
    )
    written = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert triage_text(written.stderr).category.value == "code.error"


@pytest.mark.parametrize(
    "text",
    [
        # paramiko/client.py RejectPolicy.missing_host_key; pysftp's CnOpts without a known_hosts file
        "paramiko.ssh_exception.SSHException: Server '10.0.0.5' not found in known_hosts",
        "paramiko.ssh_exception.SSHException: No hostkey for host sftp.example.com found.",
    ],
)
def test_an_ssh_host_key_missing_from_known_hosts_is_configuration(text):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("config.missing", "escalate")


@pytest.mark.parametrize(
    "text",
    [
        # BigQuery's `duplicate` reason as google-api-python-client prints it (mozilla/bigquery-etl's dry run)
        "sql/shared/clients_v1/init.sql ERROR\n [{'code': 409, 'errors': [{'message': 'Already Exists: Table "
        "my-project:shared.clients_v1', 'domain': 'global', 'reason': 'duplicate'}]}]",
        # BigQuery invalidQuery for a view calling an unqualified function
        "google.api_core.exceptions.BadRequest: 400 Within a standard SQL view, references to functions/procedures "
        "require explicit project IDs unless the entity is created in the same project that is issuing the query",
    ],
)
def test_bigquery_statement_errors_are_the_statement_s(text):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("code.error", "patch")
    if "init.sql" in text:  # the SQL file the output names
        assert result.culprit is not None and result.culprit.path == "sql/shared/clients_v1/init.sql"


def _run_script(tmp_path, shell: str, body: str) -> str:
    import shutil
    import subprocess

    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"no {shell}")
    script = tmp_path / "scripts" / "load.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(body)
    proc = subprocess.run([program, "scripts/load.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    return proc.stderr


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_a_shell_script_s_own_error_points_at_its_file_and_line(tmp_path, shell):
    """Real bash and dash: `<script>: line n:` / `<script>: n:`; a script that does not parse is code."""
    missing = _run_script(tmp_path, shell, "set -e\necho start\nnosuchtool_patchit --version\n")
    result = triage_text(missing)
    assert (result.culprit.path, result.culprit.line) == ("scripts/load.sh", 3)
    assert result.category.value == "dependency.missing"
    broken = _run_script(tmp_path, shell, "echo start\nif true; then\n  echo x\nfi fi\n")
    result = triage_text(broken)
    assert result.category.value == "code.error" and result.remediation.value == "patch"
    assert result.culprit.path == "scripts/load.sh" and result.culprit.line == 4
    # with the repository, the script is the repository's file
    assert triage_text(missing, repo=tmp_path).culprit.path == "scripts/load.sh"


def test_a_command_string_names_no_file():
    """`bash -c` (BashOperator's bash_command) prints the shell's own name: no script file."""
    assert triage_text("bash: line 1: jq: command not found\n").culprit is None


WAREHOUSE_STREAM_AND_CLOUD_CATALOG_ENTRIES = [
    # Redshift COPY: the load error's DETAIL block (STL_LOAD_ERRORS; r_Load_Error_Reference)
    (
        "psycopg2.errors.InternalError_: Load into table 'orders' failed.  Check 'stl_load_errors' system table "
        "for details.\nDETAIL:  \n  -----------------------------------------------\n  error:  Invalid digit, "
        "Value 'S', Pos 0, Type: Integer \n  code:      1207\n  context:   SHIPPING_ITEM_ID\n",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "redshift_connector.error.ProgrammingError: {'S': 'ERROR', 'C': 'XX000', 'M': '1023', 'D': "
        "'Serializable isolation violation on table - 1234567, transactions forming the cycle are: 1, 2'}",
        "infra.timeout",
        "retry",
    ),
    # Google Cloud IAM denials (cloud.google.com/iam/docs/permission-error-messages), as gsutil
    # (github.com/mlcommons/training/issues/673) and a REST client (ropensci/googlelanguager#74) print them
    (
        "AccessDeniedException: 403 someone@example.com does not have storage.objects.list access to the Google "
        "Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).",
        "infra.auth",
        "escalate",
    ),
    (
        "Error: API returned: sa@proj.iam.gserviceaccount.com does not have storage.objects.get access to the "
        "Google Cloud Storage object.",
        "infra.auth",
        "escalate",
    ),
    # confluent-kafka (librdkafka's KafkaError), kafka-python's classes, librdkafka's descriptions
    (
        'cimpl.KafkaException: KafkaError{code=MSG_SIZE_TOO_LARGE,val=10,str="Unable to produce message: '
        'Broker: Message size too large"}',
        "config.missing",
        "escalate",
    ),
    ("kafka.errors.NoBrokersAvailable: NoBrokersAvailable", "infra.network", "retry"),
    (
        "Kafka error: Message consumption error: UnknownTopicOrPartition (Broker: Unknown topic or partition)",
        "schema.missing_relation",
        "escalate",
    ),
    (
        'cimpl.KafkaException: KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29,str="Broker: Topic '
        'authorization failed"}',
        "infra.auth",
        "escalate",
    ),
    # BigQuery invalidQuery / invalid, Snowflake and PostgreSQL argument types, Dataflow quota
    ("google.api_core.exceptions.BadRequest: 400 Function not found: TO_CHAR at [71:25]", "code.error", "patch"),
    ("google.api_core.exceptions.BadRequest: 400 Type not found: text at [13:51]", "code.error", "patch"),
    ("google.api_core.exceptions.BadRequest: 400 Bad int64 value: 1.72e9", "data.type_mismatch", "escalate"),
    (
        "snowflake.connector.errors.ProgrammingError: 001044 (42P13): SQL compilation error: error line 4 at "
        "position 8\nInvalid argument types for function 'TRY_CAST': (TIMESTAMP_NTZ(9), TIMESTAMP_NTZ(9))",
        "code.error",
        "patch",
    ),
    (
        'ERROR:  failed to find conversion function from "unknown" to character varying',
        "code.error",
        "patch",
    ),
    (
        "Workflow failed. Causes: Project p has insufficient quota(s) to execute this workflow with 1 instances "
        "in region us-central1.",
        "infra.resource",
        "escalate",
    ),
]


def test_a_kafka_looking_name_outside_kafka_decides_nothing():
    """The Kafka table only reads errors that are Kafka's (class or text)."""
    assert "Kafka" not in triage_text("acme.ApiError: REQUEST_TIMED_OUT while polling the acme API").decided_by


def test_an_unbound_local_printed_without_its_class_is_code(tmp_path):
    """Real CPython's message, as a wrapper prints it without the class (str(exc))."""
    import subprocess

    script = tmp_path / "job.py"
    script.write_text(
        "def run(rows):\n    for row in rows:\n        key = row\n    return key\n\n"
        "try:\n    run([])\nexcept Exception as exc:\n    print(f'ERROR: {exc}')\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60).stdout
    assert "key" in out
    result = triage_text(out)
    assert result.category.value == "code.error" and result.error.type == "UnboundLocalError"


AZURE_DATABRICKS_AND_FILE_READER_CATALOG_ENTRIES = [
    # azure-storage's 400 codes (Blob service error codes): the name the code builds
    (
        "azure.common.AzureHttpError: The specifed resource name contains invalid characters. ErrorCode: "
        "InvalidResourceName",
        "code.error",
        "patch",
    ),
    # a Databricks job cluster that Azure's core quota stops (the cluster's termination message)
    (
        "Unexpected state for cluster (job-4-run-1):  Could not launch cluster due to cloud provider failures. "
        "azure_error_code: OperationNotAllowed, azure_error_message: Operation results in exceeding quota limits "
        "of Core. Maximum allowed: 100, Current in use: 99, Additional requested: 4.",
        "infra.resource",
        "escalate",
    ),
    # a Data Factory activity naming a notebook path the workspace does not have
    (
        "Activity Notebook1 failed: Databricks execution failed with error message: Notebook not found: "
        "/etl/load_orders.",
        "code.error",
        "patch",
    ),
    # loky's TerminatedWorkerError: by joblib's own account a segfault or the memory killer
    (
        "joblib.externals.loky.process_executor.TerminatedWorkerError: A worker process managed by the executor "
        "was unexpectedly terminated. This could be caused by a segmentation fault while calling the function "
        "or by an excessive memory usage causing the Operating System to kill the worker.",
        "infra.resource",
        "escalate",
    ),
    # xlrd on a text file (a UTF-8 BOM, a tab-separated header) vs on a damaged workbook
    (
        "xlrd.biffh.XLRDError: Unsupported format, or corrupt file: Expected BOF record; found b'Country\\t'",
        "code.error",
        "patch",
    ),
    (
        "xlrd.biffh.XLRDError: Unsupported format, or corrupt file: Expected BOF record; found '\\xef\\xbb\\xbfa,b,c'",
        "code.error",
        "patch",
    ),
    (
        "xlrd.biffh.XLRDError: Unsupported format, or corrupt file: Expected BOF record; found b'\\x00\\x00\\x00\\x1c'",
        "data.malformed",
        "escalate",
    ),
]


def _expired_tls_server_error(tmp_path) -> str:
    """requests against a local HTTPS server whose certificate (signed by a CA the client trusts)
    expired yesterday: OpenSSL's own X509_V_ERR_CERT_HAS_EXPIRED, as requests prints it."""
    import datetime
    import ssl
    import traceback

    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject: str, key, issuer: str, issuer_key, start, end, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert(
        "test CA", ca_key, "test CA", ca_key, now - datetime.timedelta(days=10), now + datetime.timedelta(days=10), True
    )
    leaf = cert(
        "127.0.0.1",
        leaf_key,
        "test CA",
        ca_key,
        now - datetime.timedelta(days=5),
        now - datetime.timedelta(days=1),
        False,
    )
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(requests.exceptions.SSLError) as caught:
            requests.get(
                f"https://127.0.0.1:{server.server_address[1]}/data", verify=str(tmp_path / "ca.pem"), timeout=10
            )
    finally:
        server.shutdown()
    return "".join(traceback.format_exception(caught.value))


def test_an_expired_server_certificate_is_the_server_s_not_the_client_s_credentials(tmp_path):
    text = _expired_tls_server_error(tmp_path)
    assert "certificate has expired" in text
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("infra.network", "escalate")
    # an untrusted chain stays the client's trust store to fix
    untrusted = text.replace("certificate has expired", "unable to get local issuer certificate")
    assert triage_text(untrusted).category.value == "infra.auth"


def test_hdf5_without_its_file_signature_is_a_damaged_file():
    """HDF5's H5F_open message as h5py 2 and 3 print it for a file that is not HDF5."""
    for text in (
        "OSError: Unable to open file (File signature not found)",
        "OSError: Unable to synchronously open file (file signature not found)",
    ):
        assert triage_text(text).category.value == "data.malformed"


VENDOR_WORDS_OVER_A_BORROWED_SQLSTATE_AND_JVM_LINKAGE_ERRORS = [
    # Snowflake's 000606 carries PostgreSQL's 57P03 ("cannot connect now"): Snowflake's words decide
    (
        "snowflake.connector.errors.ProgrammingError: 000606 (57P03): No active warehouse selected in the "
        "current session.  Select an active warehouse with the 'use warehouse' command.",
        "config.missing",
        "escalate",
    ),
    # a JVM LinkageError: the connector jar was compiled against another Spark
    (
        "py4j.protocol.Py4JJavaError: An error occurred while calling o132.save.\n"
        ": java.lang.NoSuchMethodError: 'scala.collection.immutable.Map "
        "org.apache.spark.sql.execution.datasources.jdbc.JdbcOptionsInWrite.params()'\n"
        "\tat com.microsoft.sqlserver.jdbc.spark.DefaultSource.createRelation(DefaultSource.scala:56)\n",
        "dependency.missing",
        "patch",
    ),
]


def test_a_type_the_reader_guessed_from_a_sample_is_the_reading_call_s(tmp_path):
    """Real DuckDB: a CSV whose first 5,000 ids are numbers and a later one is not. The sniffer's
    own message says the type was auto-detected and names the fix in the call; a type the call
    declared itself stays a value of the data that does not fit."""

    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "ids.csv"
    path.write_text("id,name\n" + "".join(f"{i},a\n" for i in range(5000)) + "D100,b\n")

    def failure(sql: str) -> str:  # as a job or dbt-duckdb prints the error: its message
        with pytest.raises(duckdb.ConversionException) as caught:
            duckdb.sql(sql).fetchall()
        return f"ERROR: {caught.value}\n"

    guessed = triage_text(failure(f"select * from read_csv('{path}', sample_size=100)"))
    assert (guessed.category.value, guessed.remediation.value) == ("code.error", "patch")
    declared = triage_text(
        failure(f"select * from read_csv('{path}', header=true, columns={{'id': 'BIGINT', 'name': 'VARCHAR'}})")
    )
    assert declared.category.value == "data.type_mismatch"


def test_a_provider_forwarding_a_keyword_its_caller_never_wrote_is_a_provider_mismatch():
    """The SFTP provider's hook adds `host_proxy_cmd` and forwards **kwargs to an older SSH
    provider's SSHHook (as posted in apache/airflow's tracker); the operator's own call never wrote
    it, so the two providers' versions do not fit (https://github.com/apache/airflow/issues/53084). A
    caller's call cut at its first line may hold the keyword below: then the caller decides."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/python3.11/lib/python3.11/site-packages/airflow/providers/sftp/operators/sftp.py", line 149, '
        "in execute\n    self.sftp_hook = SFTPHook(ssh_conn_id=self.ssh_conn_id)\n"
        '  File "/opt/python3.11/lib/python3.11/site-packages/airflow/providers/sftp/hooks/sftp.py", line 119, '
        "in __init__\n    super().__init__(*args, **kwargs)\n"
        "TypeError: SSHHook.__init__() got an unexpected keyword argument 'host_proxy_cmd'\n"
    )
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("dependency.missing", "patch")
    # a DAG's own call, cut at its first line: the keyword may be on a line below, the DAG's to fix
    dag = text.replace(
        "/opt/python3.11/lib/python3.11/site-packages/airflow/providers/sftp/operators/sftp.py",
        "/opt/airflow/dags/etl.py",
    )
    assert (
        triage_text(dag.replace("SFTPHook(ssh_conn_id=self.ssh_conn_id)", "SFTPHook(")).category.value == "code.error"
    )
    assert triage_text(dag).category.value == "dependency.missing"  # the DAG's whole call never wrote it


def test_a_locked_sqlite_database_is_lock_contention(tmp_path):
    """Real SQLite: a second connection writes while the first holds the write lock (SQLITE_BUSY)."""
    import sqlite3
    import traceback

    path = tmp_path / "w.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("create table t (x int)")
    holder.commit()
    holder.execute("begin immediate")
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("insert into t values (1)")
    holder.rollback()
    result = triage_text("".join(traceback.format_exception(caught.value)))
    assert (result.category.value, result.remediation.value) == ("infra.timeout", "retry")


@pytest.mark.parametrize(
    "text,category",
    [
        # Elasticsearch's bulk item errors (disk-allocator flood stage, the parent circuit breaker)
        (
            'ERROR Bulk response item: {"status":429,"error":{"type":"cluster_block_exception","reason":"index '
            "[orders] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has "
            'read-only-allow-delete block];"}}',
            "infra.resource",
        ),
        (
            "elasticsearch.exceptions.TransportError: TransportError(429, 'circuit_breaking_exception', '[parent] "
            "Data too large, data for [<http_request>] would be [1021mb], which is larger than the limit of [1020mb]')",
            "infra.resource",
        ),
        (
            "elasticsearch.NotFoundError: NotFoundError(404, 'index_not_found_exception', 'no such index [orders]')",
            "schema.missing_relation",
        ),
        # Flink's FactoryUtil without the connector's jar
        (
            "org.apache.flink.table.api.ValidationException: Could not find any factory for identifier 'kafka' that "
            "implements 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.",
            "dependency.missing",
        ),
    ],
)
def test_search_cluster_and_flink_catalog_entries(text, category):
    assert triage_text(text).category.value == category


SQL_SERVER_CASSANDRA_AND_PROVIDER_CATALOG_ENTRIES = [
    # SQL Server's Database Engine messages as pyodbc prints them
    (
        "pyodbc.IntegrityError: ('23000', \"[23000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot "
        "insert the value NULL into column 'HousingType', table 'lsa.dbo.Project'; column does not allow nulls. "
        'INSERT fails. (515) (SQLExecDirectW)")',
        "data.quality",
        "escalate",
    ),
    (
        "pyodbc.ProgrammingError: ('42S22', \"[42S22] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]"
        "Invalid column name 'custmer_id'. (207) (SQLExecDirectW)\")",
        "schema.missing_column",
        "escalate",
    ),
    (
        "pymssql.exceptions.ProgrammingError: (208, b\"Invalid object name 'dbo.orderz'.\")",
        "schema.missing_relation",
        "escalate",
    ),
    # a bracket inside the name: the statement's quoting, not a missing table
    (
        "pymssql.exceptions.ProgrammingError: (208, b\"Invalid object name '[omop.dbo].[cdm_source'.\")",
        "code.error",
        "patch",
    ),
    (
        "pyodbc.ProgrammingError: ('40001', '[40001] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]"
        "Transaction (Process ID 71) was deadlocked on lock resources with another process and has been chosen "
        "as the deadlock victim. Rerun the transaction. (1205) (SQLExecDirectW)')",
        "infra.timeout",
        "retry",
    ),
    # Cassandra's native-protocol write timeout (the Python driver's words)
    (
        "cassandra.WriteTimeout: Error from server: code=1100 [Coordinator node timed out waiting for replica "
        'nodes\' responses] message="Operation timed out - received only 0 responses."',
        "infra.timeout",
        "retry",
    ),
    (
        "airflow.exceptions.AirflowException: error: API requests to Fivetran failed 3 times. Raising error.",
        "infra.network",
        "retry",
    ),
    (
        "cosmos.dbt.graph.CosmosLoadDbtException: Unable to find the dbt executable: dbt in "
        "/usr/local/airflow/dbt_venv/bin",
        "dependency.missing",
        "escalate",
    ),
]


def test_an_argument_list_too_long_is_the_command_s(tmp_path):
    """Real bash: a glob expanded past the kernel's ARG_MAX (execve E2BIG) is the command's to batch."""
    import subprocess

    proc = subprocess.run(
        ["bash", "-c", "/bin/true $(seq 1 400000 | sed 's/^/long-file-name-/')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Argument list too long" in proc.stderr, proc.stderr
    result = triage_text(proc.stderr)
    assert (result.category.value, result.remediation.value) == ("code.error", "patch")


@pytest.mark.parametrize(
    "text,category,remediation",
    [
        *RUNTIME_AND_PACKAGING_CATALOG_ENTRIES,
        *WAREHOUSE_STREAM_AND_CLOUD_CATALOG_ENTRIES,
        *AZURE_DATABRICKS_AND_FILE_READER_CATALOG_ENTRIES,
        *VENDOR_WORDS_OVER_A_BORROWED_SQLSTATE_AND_JVM_LINKAGE_ERRORS,
        *SQL_SERVER_CASSANDRA_AND_PROVIDER_CATALOG_ENTRIES,
    ],
)
def test_catalog_entries(text, category, remediation):
    """One case per catalog entry, in the engines' own words (each list says where they come from)."""
    _assert_verdict(text, category, remediation)
