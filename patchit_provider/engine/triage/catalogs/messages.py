"""Engine messages that carry no class or code: text rules, only where no structure exists.

Each family cites the engine's documentation or source where the message is defined. A rule is
(pattern, verdict); the first match in a family's order wins. Patterns are matched against
"Type: message" of one exception (or one log line when there is no exception).
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs import (
    airflow_context,
    airflow_messages,
    client_messages,
    dbt_messages,
    pg_extensions,
)
from patchit_provider.engine.triage.catalogs.base import AF3, TextRule, Verdict
from patchit_provider.engine.triage.catalogs.base import text_rule as _r

AF3_UPGRADE = airflow_messages.AF3_UPGRADE
AF_CONTEXT = "https://airflow.apache.org/docs/apache-airflow/stable/templates-ref.html (removed in 3.0: see upgrading_to_airflow3)"
AF_TASKS = "https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#zombie-undead-tasks"
AF_TROUBLE = "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html"
AF_DAGFILE = "https://airflow.apache.org/docs/apache-airflow/stable/howto/dynamic-dag-generation.html; airflow/dag_processing (Broken DAG import errors)"
KERNEL = "https://github.com/torvalds/linux/blob/master/mm/oom_kill.c ('Out of memory: Killed process'); https://github.com/torvalds/linux/blob/master/mm/memcontrol.c"
YARN = "https://spark.apache.org/docs/latest/running-on-yarn.html (spark.executor.memoryOverhead); Hadoop ContainersMonitorImpl"
JVM = "https://docs.oracle.com/en/java/javase/17/troubleshoot/troubleshooting-memory-leaks.html"
DBT_TESTS = "https://docs.getdbt.com/reference/resource-configs/severity"
DBT_PROFILES = "https://docs.getdbt.com/docs/core/connect-data-platform/connection-profiles"
DBT_DEPS = "https://docs.getdbt.com/reference/commands/deps; https://docs.getdbt.com/reference/project-configs/require-dbt-version"
PIP = "https://pip.pypa.io/en/stable/topics/dependency-resolution/"
SNOWFLAKE = "https://docs.snowflake.com/en/user-guide/key-pair-auth-troubleshooting; https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#error-codes"
PG_MSG = "https://www.postgresql.org/docs/current/errcodes-appendix.html (message texts of src/backend)"
DUCKDB = "https://github.com/duckdb/duckdb/blob/main/src/common/exception.cpp (ExceptionType names)"
BIGQUERY = "https://cloud.google.com/bigquery/docs/error-messages"
POLARS = "https://github.com/pola-rs/polars/tree/main/crates (polars_err! message texts)"
SQLSERVER = "https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors"

# Context keys removed in Airflow 3.0 (upgrading_to_airflow3: "Removed context variables").
# Modules and names removed or moved in Airflow 3.0 (ruff AIR301/AIR302 list them).
# `KeyError: 'conf'` is any dict's: a removed `conf` is read from the template's error alone (airflow_messages)
_KEYS = "|".join(key for key in airflow_context.REMOVED_CONTEXT_KEYS if key != "conf")


# Ordered: the most specific messages first.
RULES: list[TextRule] = [
    # --- Airflow 2 -> 3 removals (a code change fixes them) ----------------------------------
    _r(
        rf"^(?:KeyError|UndefinedError|jinja2\.exceptions\.UndefinedError): '(?:{_KEYS})'(?: is undefined)?\s*$",
        C.CODE_ERROR,
        0.9,
        AF_CONTEXT,
        "a context key removed in Airflow 3 is used",
        Remediation.PATCH,
    ),
    _r(
        r"No module named '(?:airflow\.(?:contrib|operators|sensors|hooks|utils\.dates|utils\.helpers|kubernetes|executors\.\w+_executor|datasets|macros)\b[\w.]*)'",
        C.CODE_ERROR,
        0.9,
        AF3_UPGRADE,
        "an Airflow module that was moved or removed in Airflow 3 is imported",
        Remediation.PATCH,
        AF3,
    ),
    _r(
        r"cannot import name '\w+' from '(?!airflow\.providers\.)airflow(?:\.[\w.]+)?'",
        C.CODE_ERROR,
        0.9,
        AF3_UPGRADE,
        "a name that Airflow moved or removed is imported",
        Remediation.PATCH,
        AF3,
    ),
    _r(
        r"No module named 'airflow\.providers\.cncf\.kubernetes\.(?:operators|triggers)\.kubernetes_pod'",
        C.CODE_ERROR,
        0.85,
        "https://airflow.apache.org/docs/apache-airflow-providers-cncf-kubernetes/stable/changelog.html (10.0.0: kubernetes_pod modules removed, use .pod)",
        "a provider module removed in a provider release is imported",
        Remediation.PATCH,
    ),
    _r(
        r"No module named 'airflow\.providers\.[\w.]+'",
        C.DEPENDENCY_MISSING,
        0.85,
        AF3_UPGRADE,
        "an Airflow provider package is not installed",
    ),
    _r(
        r"unexpected keyword argument '(?:schedule_interval|timetable|concurrency|task_concurrency|sla|fail_stop|default_view|orientation|sla_miss_callback|provide_context|execution_date)'",
        C.CODE_ERROR,
        0.9,
        AF3_UPGRADE,
        "a DAG or operator argument removed in Airflow 3 is passed (by the code that calls it)",
        Remediation.PATCH,
        AF3,
    ),
    # --- Airflow supervisor / scheduler ------------------------------------------------------
    _r(
        r"Likely out of memory|Process terminated by signal",
        C.INFRA_RESOURCE,
        0.9,
        AF_TROUBLE,
        "the supervisor saw the task killed (OOM)",
    ),
    _r(
        r"detected as zombie|Detected zombie job|zombie task|Zombie",
        C.INFRA_RESOURCE,
        0.7,
        AF_TASKS,
        "the task stopped heartbeating (worker killed or lost)",
    ),
    _r(
        r"killed externally|finished \(failed\) although the task says (?:it's|its) (?:queued|running)|Executor \w+ reported that the task instance .* finished with state failed",
        C.INFRA_RESOURCE,
        0.65,
        AF_TASKS,
        "the executor lost the task (killed, evicted or never started)",
    ),
    _r(
        r"Received SIGTERM|Terminating subprocesses|State of this instance has been externally set",
        C.INFRA_RESOURCE,
        0.6,
        AF_TROUBLE,
        "the task was terminated from outside",
    ),
    _r(
        r"Timeout, PID: \d+|execution_timeout|Task (?:instance )?(?:has )?timed out|Sensor has timed out|DAG run timed out|dagrun_timeout",
        C.INFRA_TIMEOUT,
        0.9,
        AF_TROUBLE,
        "the task, sensor or run exceeded its timeout",
    ),
    _r(
        r"The conn_id `?[\w.-]+`? isn't defined|Connection[ ]\S+ not found|CONNECTION_NOT_FOUND|VARIABLE_NOT_FOUND|Variable \S+ does not exist",
        C.CONFIG_MISSING,
        0.95,
        AF_TROUBLE,
        "an Airflow connection or variable is not defined",
    ),
    # --- more Airflow messages (airflow/models/baseoperator.py, airflow/settings.py 3.0) ------
    _r(
        r"Invalid arguments were passed to \w+ \(task_id",
        C.CODE_ERROR,
        0.9,
        AF3_UPGRADE,
        "the operator was given arguments it does not accept",
        Remediation.PATCH,
    ),
    _r(
        r"Direct database access via the ORM is not allowed in Airflow 3",
        C.CODE_ERROR,
        0.9,
        AF3_UPGRADE,
        "task code uses the metadata database directly, removed in Airflow 3",
        Remediation.PATCH,
    ),
    _r(
        r"Event: \S+ (?:had an event of type \w+ )?Failed\b|Pod failed\b|pod .* (?:has )?(?:failed|terminated)|terminated with exit code",
        C.INFRA_RESOURCE,
        0.55,
        AF_TASKS,
        "the task's pod failed outside the task's code (the executor reports it)",
    ),
    # --- Kubernetes, YARN, JVM: memory and evictions -----------------------------------------
    _r(
        # the kernel's OOM killer (Kubernetes' OOMKilled and evictions: catalogs/kubernetes.py)
        r"Out ?of ?memory: Killed process|memory cgroup out of memory",
        C.INFRA_RESOURCE,
        0.95,
        KERNEL,
        "the kernel's OOM killer killed the process (memory)",
    ),
    _r(
        r"Container killed by YARN for exceeding (?:physical )?memory limits|exceeding (?:physical|virtual) memory limits|Container killed on request\. Exit code is 1(?:37|43)|Container from a bad node|ExecutorLostFailure|Executor lost|Lost executor|Executor heartbeat timed out",
        C.INFRA_RESOURCE,
        0.9,
        YARN,
        "an executor or container was killed or lost (memory)",
    ),
    _r(
        r"java\.lang\.OutOfMemoryError|GC overhead limit exceeded|Java heap space|Metaspace|unable to create (?:new )?native thread|bigger than spark\.driver\.maxResultSize|Cannot allocate memory",
        C.INFRA_RESOURCE,
        0.95,
        JVM,
        "the JVM or process ran out of memory",
    ),
    _r(r"No space left on device", C.INFRA_RESOURCE, 0.95, JVM, "the disk is full (ENOSPC)"),
    # --- dbt ---------------------------------------------------------------------------------
    _r(
        # A unit test runs the model's SQL on fixed rows given in the test: its failure is the
        # model's logic (or the test's expectation), never the warehouse's data.
        r"Failure in unit_test\b|\b\d+ of \d+ FAIL \d+ \S+::\S+|actual differs from expected:",
        C.CODE_ERROR,
        0.9,
        dbt_messages.DBT_UNIT_TESTS,
        "a dbt unit test failed: the model's SQL gives other rows than the test expects",
    ),
    _r(
        r"Failure in test\b|Got \d+ results?, configured to (?:fail|warn) if|\b\d+ of \d+ FAIL \d+ ",
        C.DATA_QUALITY,
        0.9,
        DBT_TESTS,
        "a dbt data test failed",
    ),
    _r(
        r"depends on '[^']+' which is not in the graph|Documentation for '[^']+' depends on doc",
        C.SCHEMA_MISSING_RELATION,
        0.85,
        "https://github.com/dbt-labs/dbt-core/blob/main/core/dbt/exceptions.py (GraphDependencyNotFoundError)",
        "a dbt node depends on a node that is not in the project's graph",
    ),
    _r(
        r"Required var '[\w.-]+' not found in config",
        C.CONFIG_MISSING,
        0.9,
        "https://github.com/dbt-labs/dbt-core/blob/main/core/dbt/exceptions.py (RequiredVarNotFoundError)",
        "a dbt var is not supplied",
    ),
    _r(
        r"No adapters available\.|Could not find adapter type",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://github.com/dbt-labs/dbt-core/blob/main/core/dbt/exceptions.py (NoAdaptersAvailableError)",
        "the dbt adapter is not installed",
    ),
    _r(
        r"Could not find profile named|profiles\.yml file \[ERROR not found\]|Env var required but not provided|Credentials in profile \S+, target \S+ invalid|Runtime Error\s+Could not find profile",
        C.CONFIG_MISSING,
        0.9,
        DBT_PROFILES,
        "a dbt profile, target or env var is missing",
    ),
    _r(
        r"Version error for package|Could not find a satisfactory version|version requirement[s]? (?:can never be satisfied|is not satisfied)|This version of dbt is not supported|Required version of dbt for|require-dbt-version|incompatible with the installed|packages\.yml, but only \d+ package|run \"?dbt deps\"?|Package \S+ was not found in the package index",
        C.DEPENDENCY_MISSING,
        0.85,
        DBT_DEPS,
        "a dbt package is missing or does not support the installed dbt",
    ),
    # --- APIs removed by a library release: the installed version does not fit the code (pin it) --
    _r(
        r"module 'numpy' has no attribute '(?:float|int|bool|object|str|long|unicode|complex)'|`np\.(?:float|int|bool|object)` was a deprecated alias",
        C.DEPENDENCY_MISSING,
        0.96,
        "https://numpy.org/doc/stable/release/1.24.0-notes.html#expired-deprecations",
        "NumPy 1.24 removed the np.float/np.int aliases",
    ),
    _r(
        r"'(?:DataFrame|Series)' object has no attribute '(?:append|iteritems|swapaxes|lookup|ix|as_matrix|get_value|set_value)'",
        C.DEPENDENCY_MISSING,
        0.96,
        "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#removal-of-prior-version-deprecations-changes",
        "pandas 2.0 removed this DataFrame/Series method",
    ),
    _r(
        r"'(?:Option)?Engine' object has no attribute '(?:execute|table_names|has_table|run_callable|scalar)'",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://docs.sqlalchemy.org/en/20/changelog/migration_20.html (Engine.execute and the other "
        "connectionless execution methods are removed in 2.0)",
        "SQLAlchemy 2.0 removed execution on the Engine: the code (or a package such as pandas < 2.2) "
        "was written for SQLAlchemy 1.x",
    ),
    _r(
        # pandas < 2.0 hands format="ISO8601"/"mixed" to strptime as a literal format, so every
        # value fails to match it; pandas 2.0 introduced both keywords
        r"does not match format '(?:ISO8601|mixed)'",
        C.DEPENDENCY_MISSING,
        0.96,
        "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#datetimes-are-now-parsed-with-a-consistent-format "
        "(to_datetime format='ISO8601' / 'mixed' are new in 2.0.0)",
        "format='ISO8601' or 'mixed' is only understood by pandas 2.0+: the installed pandas is older",
    ),
    _r(
        r"cannot import name '(?:soft_unicode)' from 'markupsafe'|cannot import name '(?:Markup|escape|contextfunction|environmentfilter|evalcontextfilter)' from 'jinja2'",
        C.DEPENDENCY_MISSING,
        0.96,
        "https://markupsafe.palletsprojects.com/en/stable/changes/#version-2-1-0; https://jinja.palletsprojects.com/en/stable/changes/#version-3-1-0",
        "MarkupSafe 2.1 / Jinja 3.1 removed this name: the installed versions do not fit together",
    ),
    # --- an OS library or build tool is missing: the image must change, not the requirements ---
    _r(
        r"cannot open shared object file|Library not loaded: |pg_config executable not found|error: command '[\w-]+' failed|Microsoft Visual C\+\+ \d+\.\d+ or greater is required",
        C.DEPENDENCY_MISSING,
        0.85,
        "https://man7.org/linux/man-pages/man8/ld.so.8.html; https://www.psycopg.org/docs/install.html#build-prerequisites",
        "an operating-system library or build tool is missing from the image",
        Remediation.ESCALATE,
    ),
    # --- the Java runtime does not fit the classes (JVM spec 4.1: a class file's major_version names
    #     the Java release that compiled it; 52 = Java 8, 55 = 11, 61 = 17) -----------------------
    _r(
        r"Unsupported class file major version \d+|UnsupportedClassVersionError|compiled by a more recent version of the Java Runtime",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://docs.oracle.com/javase/specs/jvms/se21/html/jvms-4.html#jvms-4.1 (major_version); "
        "https://spark.apache.org/docs/latest/#downloading (the Java releases Spark runs on)",
        "the Java runtime is not a release these classes (or Spark) support: install the JDK they need",
        Remediation.ESCALATE,
    ),
    # --- Spark: a data source whose package is not on the classpath (DATA_SOURCE_NOT_FOUND, 42K02;
    #     Spark 2.x/3.0 printed "Failed to find data source: kafka") -----------------------------
    _r(
        r"Failed to find (?:the )?data source: [\w.]+",
        C.DEPENDENCY_MISSING,
        0.85,
        "https://spark.apache.org/docs/latest/sql-error-conditions.html (DATA_SOURCE_NOT_FOUND); "
        "https://spark.apache.org/docs/latest/structured-streaming-kafka-integration.html#deploying",
        "the data source's package is not deployed with the job (spark-submit --packages / spark.jars.packages)",
    ),
    # SQL Server 208 whose name holds a bracket: the statement's quoting is broken (the other SQL Server
    # messages are read by catalogs/server_messages.py, with their numbers)
    _r(
        r"Invalid object name '[^'\]\[]*\][^']*'|Invalid object name '[^']*\[[^']*'",
        C.CODE_ERROR,
        0.9,
        SQLSERVER + " (208)",
        "the statement's bracket quoting is broken: a bracket is part of the object's name",
    ),
    # Cassandra's request timeouts (the native protocol's WriteTimeout/ReadTimeout, as the drivers
    # print them): the replicas did not answer in time
    _r(
        r"\b(?:Write|Read)_timeout\b|Coordinator node timed out waiting for replica nodes|received only \d+ responses",
        C.INFRA_TIMEOUT,
        0.85,
        "https://cassandra.apache.org/doc/latest/cassandra/reference/native-protocol.html (Write_timeout, Read_timeout)",
        "the Cassandra replicas did not answer within the timeout",
        Remediation.RETRY,
    ),
    # provider hooks that give up after their own retries (the Fivetran provider's "API requests to
    # Fivetran failed 3 times"): the service did not answer
    _r(
        r"API requests to \w+ failed \d+ times",
        C.INFRA_NETWORK,
        0.8,
        "https://github.com/astronomer/airflow-provider-fivetran-async (FivetranHook._do_api_call retries)",
        "the service's API failed on every retry",
        Remediation.RETRY,
    ),
    # astronomer-cosmos (cosmos/dbt/graph.py): the dbt executable is not where the DAG says
    _r(
        r"Unable to find the dbt executable",
        C.DEPENDENCY_MISSING,
        0.8,
        "https://astronomer.github.io/astronomer-cosmos/configuration/execution-config.html (dbt_executable_path)",
        "the dbt executable is not installed where the DAG's execution config looks for it",
        Remediation.ESCALATE,
    ),
    # SQLite's SQLITE_BUSY (https://www.sqlite.org/rescode.html#busy): another connection holds the
    # database's lock; like other lock contention, a re-run after it is released succeeds
    _r(
        r"database is locked|database table is locked",
        C.INFRA_TIMEOUT,
        0.85,
        "https://www.sqlite.org/rescode.html#busy (SQLITE_BUSY, SQLITE_LOCKED)",
        "another connection holds the SQLite database's lock (lock contention: re-run once it is released)",
        Remediation.RETRY,
    ),
    # Elasticsearch / OpenSearch error types, as the bulk and search APIs return them
    # (https://www.elastic.co/guide/en/elasticsearch/reference/current/disk-allocator.html;
    # .../circuit-breaker.html): a full disk's read-only block and the memory breakers are resources
    _r(
        r"flood[- ]stage watermark|read-only-allow-delete|circuit_breaking_exception|es_rejected_execution_exception",
        C.INFRA_RESOURCE,
        0.85,
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/fix-watermark-errors.html; "
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/circuit-breaker-errors.html",
        "the search cluster is out of disk (flood-stage read-only block) or memory (a circuit breaker)",
    ),
    _r(
        r"index_not_found_exception|no such index \[",
        C.SCHEMA_MISSING_RELATION,
        0.85,
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/indices.html",
        "the Elasticsearch index does not exist",
    ),
    _r(
        r"mapper_parsing_exception|illegal_argument_exception.{0,80}mapper \[|failed to parse field \[",
        C.DATA_TYPE_MISMATCH,
        0.8,
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/mapping.html",
        "a document's field does not fit the index mapping's type",
    ),
    # Flink's table factory discovery (FactoryUtil): the connector's jar is not on the classpath
    _r(
        r"Could not find any factory for identifier '[\w-]+' that implements",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/table/overview/ (connector jars); "
        "https://github.com/apache/flink/blob/master/flink-table/flink-table-common/src/main/java/org/apache/flink/table/factories/FactoryUtil.java",
        "the connector's jar is not on the job's classpath",
    ),
    # The reader guessed a column's type from a sample and a later value does not fit: the engines'
    # own messages name the fix in the reading call (DuckDB's CSV sniffer, src/execution/operator/
    # csv_scanner; dask's read_csv dtype check, dask/dataframe/io/csv.py)
    _r(
        r"This type was auto-detected from the CSV file|dask's dtype inference failing",
        C.CODE_ERROR,
        0.9,
        "https://duckdb.org/docs/data/csv/auto_detection; "
        "https://docs.dask.org/en/stable/generated/dask.dataframe.read_csv.html (dtype inference from a sample)",
        "the reader guessed the column's type from a sample: declare the type in the reading call",
    ),
    # HDF5 (H5Fint.c H5F_open "file signature not found", as h5py, netCDF4 and pandas.HDFStore print
    # it): the file is not HDF5, or is damaged
    _r(
        r"[Ff]ile signature not found",
        C.DATA_MALFORMED,
        0.85,
        "https://github.com/HDFGroup/hdf5/blob/develop/src/H5Fint.c (H5F_open: unable to find a file signature)",
        "the file is not a valid HDF5 file (damaged, truncated or another format)",
    ),
    # xlrd (xlrd/__init__.py, biffh.py): a workbook starts with a BOF record; a file that starts with
    # text (a UTF-8 BOM, a header of words and tabs or commas) is a CSV/TSV handed to an Excel reader
    _r(
        r"Expected BOF record; found b?'(?:\\xef\\xbb\\xbf|[\w\"][\w \\t,;\"-]*')",
        C.CODE_ERROR,
        0.8,
        "https://github.com/python-excel/xlrd/blob/master/xlrd/__init__.py (open_workbook: Expected BOF record)",
        "the file is text (CSV/TSV), not a workbook: read it with a text reader",
    ),
    _r(
        r"Excel xlsx file; not supported",
        C.DEPENDENCY_MISSING,
        0.85,
        "https://xlrd.readthedocs.io/en/latest/changes.html#id1 (xlrd 2.0.0 reads only .xls)",
        "xlrd 2.0 dropped .xlsx: the installed xlrd does not fit the code",
    ),
    # --- PostgreSQL namespace.c: "improper relation name (too many dotted names)" (42601): the
    #     name was composed from database/schema settings (a dbt profile or custom schema macro) ---
    _r(
        r"improper (?:relation|qualified) name \(too many dotted names\)",
        C.CONFIG_MISSING,
        0.6,
        "https://github.com/postgres/postgres/blob/master/src/backend/catalog/namespace.c (makeRangeVarFromNameList)",
        "the relation name has more parts than database.schema.name: the database/schema settings compose it wrongly",
    ),
    # --- a function or type of a PostgreSQL extension the database never created (pg_extensions.py):
    #     the database lacks a package, not the statement a cast --------------------------------
    _r(
        pg_extensions.PATTERN,
        C.DEPENDENCY_MISSING,
        0.9,
        pg_extensions.SOURCE,
        "the function or type belongs to a PostgreSQL extension this database does not have (CREATE EXTENSION)",
        Remediation.ESCALATE,
    ),
    # --- SQLAlchemy engine/url.py: an empty connection URL is a connection nobody configured ---
    _r(
        r"Could not parse (?:rfc1738 |SQLAlchemy )?URL from string '\s*'",
        C.CONFIG_MISSING,
        0.85,
        "https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/engine/url.py (make_url / _parse_url)",
        "the database URL is empty: the connection or env var that should supply it is unset",
    ),
    # --- CPython _strptime.py: an empty or blank string parsed as a date is a value nobody set
    #     (an unset setting, variable or env var), not a malformed value ---------------------
    _r(
        r"time data '\s*' does not match format",
        C.CONFIG_MISSING,
        0.9,
        "https://github.com/python/cpython/blob/main/Lib/_strptime.py (ValueError: time data %r does not match format %r)",
        "an empty date string is parsed: the setting or variable that should supply it is unset",
    ),
    # --- shell scripts: the parser's own messages (bash parse.y "syntax error near unexpected token",
    #     "unexpected EOF while looking for matching"; dash "Syntax error: ... unexpected") ---------
    _r(
        r"syntax error near unexpected token|unexpected EOF while looking for matching|"
        r"syntax error: unexpected end of file|\b\d+: Syntax error: .{1,40} unexpected",
        C.CODE_ERROR,
        0.9,
        "https://git.savannah.gnu.org/cgit/bash.git/tree/parse.y; https://git.kernel.org/pub/scm/utils/dash/dash.git/tree/src/parser.c",
        "the shell script does not parse",
        Remediation.PATCH,
    ),
    # --- CPython: a circular import (Python/import.c "partially initialized module") -----------
    _r(
        r"partially initialized module .* \(most likely due to a circular import\)",
        C.CODE_ERROR,
        0.9,
        "https://github.com/python/cpython/blob/main/Python/import.c",
        "two of the pipeline's modules import each other",
    ),
    # --- pandas: duplicate keys where unique ones are required (pandas/core/indexes/base.py, reshape) --
    _r(
        r"cannot reindex (?:from|on) an axis with duplicate labels|Index contains duplicate entries, cannot reshape|Merge keys are not unique|Duplicate column names found|columns overlap but no suffix specified",
        C.DATA_QUALITY,
        0.75,
        "https://pandas.pydata.org/docs/user_guide/duplicates.html",
        "keys are duplicated where they must be unique",
    ),
    # --- a MERGE/upsert whose source has several rows for one target key (SQLSTATE 21000
    #     cardinality_violation; a dbt snapshot's or incremental model's unique_key is not unique;
    #     PostgreSQL's "... command cannot affect row a second time" is pg_messages.py's, BigQuery's
    #     "UPDATE/MERGE must match at most one source row" bigquery.py's) --
    _r(
        r"Duplicate row detected during DML action|"
        r"multiple source rows matched and attempted to (?:modify|update|delete) the same target row",
        C.DATA_QUALITY,
        0.85,
        "https://docs.snowflake.com/en/sql-reference/sql/merge#duplicate-join-behavior; "
        "https://docs.databricks.com/en/error-messages/delta-multiple-source-row-matching-target-row-in-merge-error-class.html",
        "the merge source holds several rows for one key (the unique_key is not unique in the data)",
    ),
    # --- Airflow: invalid ids (airflow/utils/helpers.py validate_key) ---------------------------
    _r(
        r"has to be made of alphanumeric characters, dashes,.{0,20}underscores exclusively",
        C.CODE_ERROR,
        0.9,
        "installed airflow/sdk/definitions/_internal/node.py (validate_key)",
        "a DAG or task id is invalid",
    ),
    # --- TLS: the server's certificate is not trusted (OpenSSL's reason) ------------------------
    # OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED: the server's certificate ran out; its owner renews it
    # (nothing on the client's side to change, unlike a CA bundle or a self-signed chain)
    _r(
        r"certificate verify failed: certificate has expired|CERT_HAS_EXPIRED",
        C.INFRA_NETWORK,
        0.9,
        "https://docs.openssl.org/master/man3/X509_STORE_CTX_get_error/ (X509_V_ERR_CERT_HAS_EXPIRED)",
        "the server's TLS certificate has expired: the service's owner must renew it",
        Remediation.ESCALATE,
    ),
    _r(
        r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed certificate in certificate chain",
        C.INFRA_AUTH,
        0.9,
        "https://docs.openssl.org/master/man3/X509_STORE_CTX_get_error/",
        "the server's TLS certificate is not trusted (fix the CA bundle or the endpoint)",
    ),
    # --- polars: a value of the data does not fit its dtype (before the packaging rule, whose
    # "is incompatible with" would take polars' SchemaMismatch text). The CSV reader's ComputeError
    # (crates/polars-io/src/csv/read/parser.rs), a strict cast (crates/polars-core/src/utils/series.rs;
    # before 0.20 "strict conversion from ... failed for value(s)"), dtype.rs's SchemaMismatch ---------
    _r(
        r"could not parse `[^`\n]*` as dtype `?[^`\n]+?`? at column|"
        r"conversion from `?[\w\[\](), ]+`? to `?[^`\n]+?`? failed (?:in column|for value)|"
        r"\btype \w[\w()\[\], ]* is incompatible with expected type \w",
        C.DATA_TYPE_MISMATCH,
        0.85,
        POLARS,
        "a value of the data does not fit the dtype polars reads or casts it to",
    ),
    # --- Python packaging --------------------------------------------------------------------
    _r(
        r"ResolutionImpossible|conflicting dependencies|VersionConflict|No matching distribution found for|requires [\w.-]+[<>=!~]=?[\w.*]+, but you have|is incompatible with|Could not find a version that satisfies",
        C.DEPENDENCY_MISSING,
        0.85,
        PIP,
        "a package version does not fit the installed ones",
    ),
    # --- warehouse authentication (key pair, JWT, OAuth, passwords) ---------------------------
    _r(
        r"JWT token is invalid|Authentication token has expired|OAuth access token (?:has )?expired|Incorrect username or password|Failed to authenticate|private key is encrypted|Could not deserialize key data|Bad decrypt|Invalid access token|invalid_grant|token (?:has )?expired|ExpiredToken|Login failed for user|password authentication failed|authentication failed",
        C.INFRA_AUTH,
        0.9,
        SNOWFLAKE,
        "the warehouse refused the credentials (password, key pair, JWT or OAuth)",
    ),
    _r(
        # PostgreSQL's "permission denied for <object>" is pg_messages.py's (42501)
        r"Insufficient privileges to operate on|Access Denied: |User does not have permission|PERMISSION_DENIED",
        C.INFRA_AUTH,
        0.9,
        f"{SNOWFLAKE}; {BIGQUERY} (accessDenied)",
        "the account lacks a privilege on the object",
    ),
    _r(
        # Google Cloud's IAM denial as the REST API, gcloud and client libraries print it, naming
        # the permission (service.resource.verb) the principal lacks
        r"Permission '[a-z]\w*(?:\.\w+)+' denied on (?:the )?resource|does not have [a-z]\w*(?:\.\w+){2,} access to ",
        C.INFRA_AUTH,
        0.9,
        "https://cloud.google.com/iam/docs/permission-error-messages (REST API and gcloud messages)",
        "the principal lacks a Google Cloud IAM permission on the resource (a role binding, or a deny policy)",
    ),
    _r(
        r"(?:Database|Schema|Warehouse|Stage|Integration|Role) '[^']+' does not exist or not authorized",
        C.INFRA_AUTH,
        0.75,
        "https://docs.snowflake.com/en/user-guide/security-access-control-considerations (002003: the role cannot see the object)",
        "the role cannot see the database/schema/warehouse (missing grant or wrong name)",
    ),
    _r(
        r"SQL compilation error:\s*syntax error|syntax error line \d+ at position \d+",
        C.CODE_ERROR,
        0.9,
        SNOWFLAKE,
        "the SQL does not parse (Snowflake 001003)",
    ),
    _r(
        r"Unable to allocate [\d.]+ [KMGT]?i?B for an array",
        C.INFRA_RESOURCE,
        0.95,
        "https://github.com/numpy/numpy/blob/main/numpy/_core/_exceptions.py (_ArrayMemoryError)",
        "NumPy could not allocate the array",
    ),
    _r(
        r"This session does not have a current database|No active warehouse selected|does not have a current (?:schema|warehouse)",
        C.CONFIG_MISSING,
        0.95,  # Snowflake prints 000606 with SQLSTATE 57P03, PostgreSQL's "cannot connect now": its words decide
        SNOWFLAKE,
        "the connection names no database or warehouse",
    ),
    _r(
        r"reached its statement or warehouse timeout|statement timeout|Query exceeded (?:the )?(?:maximum )?(?:execution )?time|Interrupt Error|query was canceled|SQL execution canceled",
        C.INFRA_TIMEOUT,
        0.9,
        SNOWFLAKE,
        "a statement hit its timeout",
    ),
    # --- PostgreSQL 22P02 "invalid input syntax": whose value was it? ------------------------
    _r(
        # the rejected value is a literal of the statement itself: the error position (LINE n and
        # its caret) points into the query text, so the SQL is wrong, not the data
        r"invalid input syntax for (?:type )?[\w ]+: \"(?P<v>[^\"\n]{0,200})\".{0,400}?LINE \d+: [^\n]*?"
        r"(?:'(?P=v)'\s*::|cast\s*\(\s*'(?P=v)'\s+as\b)",
        C.CODE_ERROR,
        0.95,
        "https://www.postgresql.org/docs/current/protocol-error-fields.html (P: the error position, an index "
        "into the original query string, shown as LINE n with a caret)",
        "the value that fails to convert is a literal cast in the SQL itself",
        Remediation.PATCH,
    ),
    _r(
        # a whole delimited row in one column: COPY split the line with another delimiter than the
        # file uses (text format's default is a tab; psycopg2 copy_from's sep='\t')
        # (two or more separators in a value that is not a number written with separators)
        r"invalid input syntax for (?:type )?[\w ]+: \"(?![\d,.;|\s+-]*\")"
        r"(?:(?:[^\"\n,]*,){2,}|(?:[^\"\n;]*;){2,}|(?:[^\"\n|]*\|){2,})[^\"\n]*\"?",
        C.DATA_MALFORMED,
        0.95,
        "https://www.postgresql.org/docs/current/sql-copy.html (DELIMITER: a tab by default in text format); "
        "https://www.psycopg.org/docs/cursor.html#cursor.copy_from (sep='\\t')",
        "a whole delimited row lands in one column: the file's delimiter or format is not the one COPY reads",
    ),
    _r(
        r"(?:Numeric|Date|Timestamp|Time|Boolean) value '[^']*' is not recognized|is not recognized as a valid|Failed to cast variant value|Conversion Error",
        C.DATA_TYPE_MISMATCH,
        0.9,
        SNOWFLAKE,
        "a value cannot be converted to the column's type",
    ),
    # SQLSTATE 22003 numeric_value_out_of_range in Redshift's words ("Numeric data overflow", its
    # STL_ERROR code 1058); PostgreSQL's "numeric field overflow" / "integer out of range" are pg_messages.py's
    _r(
        r"\bnumeric data overflow\b",
        C.DATA_TYPE_MISMATCH,
        0.85,
        "https://docs.aws.amazon.com/redshift/latest/dg/r_STL_ERROR.html",
        "a number does not fit the precision of its column or type (SQLSTATE 22003)",
    ),
    _r(
        r"QueuePool limit of size \d+ overflow \d+ reached",
        C.CONFIG_MISSING,
        0.85,  # SQLAlchemy's own words: beats the generic 'timed out' of rules.py
        "https://docs.sqlalchemy.org/en/20/errors.html#error-3o7r",
        "SQLAlchemy's connection pool is used up: its size for this load, or connections the code never returns",
        Remediation.ESCALATE,
    ),
    _r(
        # PostgreSQL's lock.c "out of shared memory" is pg_messages.py's (53200)
        r"Out of Memory Error|could not resize shared memory|resource monitor",
        C.INFRA_RESOURCE,
        0.9,
        DUCKDB,
        "the database ran out of memory or credits",
    ),
    # --- libpq client (src/interfaces/libpq/fe-auth.c, fe-connect.c) -------------------------
    _r(
        r"fe_sendauth: no password supplied|no password supplied|password authentication failed for user \S+ \(no password\)",
        C.CONFIG_MISSING,
        0.85,
        "https://github.com/postgres/postgres/blob/master/src/interfaces/libpq/fe-auth.c",
        "the connection has no password configured",
    ),
    # --- pip builds: a package cannot be built or installed -----------------------------------
    _r(
        r"Failed building wheel for|error: subprocess-exited-with-error|metadata-generation-failed|legacy-install-failure|Could not build wheels for",
        C.DEPENDENCY_MISSING,
        0.85,
        PIP,
        "a package could not be built or installed",
    ),
    # --- JSON readers (pandas' vendored ujson: pandas/_libs/src/vendored/ujson/lib/ultrajsondec.c) --
    _r(
        r"Unmatched '.{1,3}' when (?:when )?decoding|Expected object or value|Trailing data|Unexpected character found when decoding|Unterminated string starting at|Expecting (?:value|property name|',' delimiter)",
        C.DATA_MALFORMED,
        0.85,
        "https://github.com/pandas-dev/pandas/blob/main/pandas/_libs/src/vendored/ujson/lib/ultrajsondec.c; https://docs.python.org/3/library/json.html#json.JSONDecodeError",
        "a JSON input cannot be parsed",
    ),
    # --- timeouts that name themselves (dbt adapters, client libraries) -----------------------
    _r(
        r"did not complete within the designated timeout|timed out after \d+|Timeout of \d+(?:\.\d+)?\s*(?:s|seconds|ms)? (?:exceeded|reached)|Deadline of \d+(?:\.\d+)?s exceeded|operation took too long",
        C.INFRA_TIMEOUT,
        0.8,
        "https://docs.getdbt.com/docs/core/connect-data-platform/bigquery-setup#job_execution_timeout_seconds",
        "an operation exceeded its time limit",
    ),
    # --- Arrow and pandas conversion messages (arrow/python/pyarrow/src/arrow/python/python_to_arrow.cc,
    #     pandas/core/reshape/merge.py) ----------------------------------------------------------
    _r(
        r"Could not convert .{0,200}? with type \w+: tried to convert to|Conversion failed for column|You are trying to merge on \w+ and \w+ columns|cannot safely cast non-equivalent|Unable to parse string .* at position|Integer column has NA values",
        C.DATA_TYPE_MISMATCH,
        0.9,
        "https://github.com/apache/arrow/blob/main/python/pyarrow/src/arrow/python/python_to_arrow.cc; https://github.com/pandas-dev/pandas/blob/main/pandas/core/reshape/merge.py",
        "values do not have the type the reader or merge expects",
    ),
    _r(
        r"does not have sufficient permissions|Insufficient permissions|not authorized to perform|is not authorized to access|lacks? (?:the )?(?:required )?permissions?",
        C.INFRA_AUTH,
        0.85,
        PG_MSG,
        "the account lacks a permission",
    ),
    # Snowflake SQL compilation: a function called with argument types it does not take
    _r(
        r"Function \w+ cannot be used with arguments of types|[Ii]nvalid argument types for function '?\w+'?",
        C.CODE_ERROR,
        0.85,
        "https://docs.snowflake.com/en/sql-reference/functions-conversion (argument types)",
        "the SQL calls a function with argument types it does not take",
    ),
    # PostgreSQL / Redshift parse_coerce.c (42846 cannot_coerce): an untyped literal or column the
    # statement must cast
    _r(
        r"failed to find conversion function from \S+ to [\w ]+",
        C.CODE_ERROR,
        0.85,
        "https://github.com/postgres/postgres/blob/master/src/backend/parser/parse_coerce.c (42846)",
        "the statement needs an explicit cast (an untyped literal or column)",
    ),
    # Google Cloud Dataflow / Compute Engine: the project's quota or the zone's capacity
    _r(
        r"has insufficient quota\(s\) to execute this workflow|ZONE_RESOURCE_POOL_EXHAUSTED|"
        r"Quota '\w+' exceeded\.\s+Limit: |QUOTA_EXCEEDED|exceeding quota limits of \w+|AZURE_QUOTA_EXCEEDED_EXCEPTION",
        C.INFRA_RESOURCE,
        0.85,
        "https://cloud.google.com/dataflow/docs/guides/common-errors; "
        "https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-resource-availability; "
        "https://learn.microsoft.com/en-us/azure/quotas/view-quotas (Azure core quota); "
        "https://docs.databricks.com/api/workspace/clusters (termination code AZURE_QUOTA_EXCEEDED_EXCEPTION)",
        "the project's quota or the zone's capacity cannot start the workers",
    ),
    # Databricks Jobs: the notebook a task or a Data Factory activity names does not exist at that
    # path (the workspace's RESOURCE_DOES_NOT_EXIST): the pipeline's definition names it
    _r(
        r"Notebook not found: \S+",
        C.CODE_ERROR,
        0.75,
        "https://docs.databricks.com/api/workspace/jobs/submit (notebook_task.notebook_path: an absolute workspace path)",
        "the notebook path the job or activity names does not exist in the workspace",
    ),
    # joblib (joblib/externals/loky/process_executor.py TerminatedWorkerError): a worker died, by
    # joblib's own account a segmentation fault or the OS killing it for memory
    _r(
        r"TerminatedWorkerError: A worker process managed by the executor was unexpectedly terminated",
        C.INFRA_RESOURCE,
        0.6,
        "https://github.com/joblib/loky/blob/master/loky/process_executor.py (TerminatedWorkerError)",
        "a worker process was killed (joblib: a segfault or the OS's memory killer)",
    ),
    _r(
        r"IO Error: No files found that match the pattern|No files found that match",
        C.UPSTREAM_FAILED,
        0.85,
        DUCKDB,
        "no input file matches the path",
    ),
]


# The family modules' rules: FIRST before the list above (more specific), LAST after it (gaps).
_FAMILIES = (airflow_messages, client_messages, dbt_messages)
ORDERED = (
    [rule for family in _FAMILIES for rule in family.FIRST]
    + RULES
    + [rule for family in _FAMILIES for rule in family.LAST]
)


def match(text: str) -> tuple[TextRule, Verdict] | None:
    for rule in ORDERED:
        if rule.regex.search(text):
            return rule, rule.verdict
    return None


# CPython's own messages -> the built-in class that carries them, for output that prints the
# message without the class ("Broken DAG: [dag.py] name 'x' is not defined", a scheduler's
# "Couldn't apply scheduled task: f() missing 1 required positional argument").
# Source: https://github.com/python/cpython (Python/ceval.c, Python/errors.c, Parser/pegen_errors.c,
# Python/import.c); https://docs.python.org/3/library/exceptions.html
CPYTHON_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bname '\w+' is not defined"), "NameError"),
    (
        re.compile(
            r"local variable '\w+' referenced before assignment|cannot access local variable '\w+' where it is not "
            r"associated with a value"
        ),
        "UnboundLocalError",
    ),
    (
        re.compile(
            r"invalid syntax|unexpected indent|unindent does not match|expected an indented block|"
            r"expected ':'|was never closed|unterminated string literal|EOL while scanning|EOF while scanning|"
            r"invalid character .* \(U\+|unmatched '[)\]}]'|Perhaps you forgot a comma"
        ),
        "SyntaxError",
    ),
    (re.compile(r"No module named '[\w.]+'"), "ModuleNotFoundError"),
    # Python 2 and 3 before 3.7 printed the name alone, Python 2 without quotes (Python/ceval.c import_from)
    (re.compile(r"cannot import name '\w+' from '[\w.]+'|cannot import name '?\w+'?\s*$", re.M), "ImportError"),
    (re.compile(r"'[\w.]+' object has no attribute '\w+'|module '[\w.]+' has no attribute '\w+'"), "AttributeError"),
    (
        re.compile(
            r"missing \d+ required (?:positional|keyword-only) arguments?|got an unexpected keyword argument|"
            r"takes \d+ positional arguments? but \d+ (?:were|was) given|object is not (?:callable|subscriptable|iterable)|"
            r"unsupported operand type\(s\)|can only concatenate str"
        ),
        "TypeError",
    ),
    (re.compile(r"\[Errno 13\] Permission denied|Operation not permitted"), "PermissionError"),
    (re.compile(r"\[Errno 2\] No such file or directory"), "FileNotFoundError"),
]


def infer_python_type(text: str) -> str | None:
    for pattern, name in CPYTHON_MESSAGES:
        if pattern.search(text):
            return name
    return None
