"""Exception classes -> category, with the class trees of the libraries that raise them.

`CLASSES` holds the verdict of a class; `BASES` its known bases (the libraries' own class trees,
checked against the installed packages by tests/engine/test_triage_catalogs.py). The resolver
walks from the raised class through its bases to the first class with a verdict, so a subclass
nobody listed (a provider's `ConnectionError` subclass, a new psycopg error) is still placed.
Python's built-in tree is read from the running interpreter. A class mapped to WRAPPER only
says that something else failed: its cause, the codes in its message or the log decide.

Sources (each entry's `source` names one):
"""

from __future__ import annotations

import builtins

from patchit_provider.engine.triage.catalogs import airflow_messages, client_messages, dbt_messages

from patchit_provider.engine.taxonomy import Category as C, Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict
from patchit_provider.engine.triage.catalogs.base import class_family as _family
from patchit_provider.engine.triage.catalogs.base import wrappers as _wrappers

PY = "https://docs.python.org/3/library/exceptions.html#exception-hierarchy"
DBAPI = "https://peps.python.org/pep-0249/#exceptions"
REQUESTS = "https://github.com/psf/requests/blob/main/src/requests/exceptions.py"
HTTPX = "https://www.python-httpx.org/exceptions/"
URLLIB3 = "https://github.com/urllib3/urllib3/blob/main/src/urllib3/exceptions.py"
BOTOCORE = "https://github.com/boto/botocore/blob/develop/botocore/exceptions.py"
GOOGLE = "https://github.com/googleapis/python-api-core/blob/main/google/api_core/exceptions.py"
GOOGLE_AUTH = "https://github.com/googleapis/google-auth-library-python/blob/main/google/auth/exceptions.py"
SNOWFLAKE = "https://github.com/snowflakedb/snowflake-connector-python/blob/main/src/snowflake/connector/errors.py"
PYARROW = "https://github.com/apache/arrow/blob/main/python/pyarrow/error.pxi"
PANDAS = "https://pandas.pydata.org/docs/reference/api/pandas.errors.html (installed pandas/errors/__init__.py)"
JINJA = "https://jinja.palletsprojects.com/en/stable/api/#exceptions (installed jinja2/exceptions.py)"
AIRFLOW = "installed airflow/exceptions.py and airflow/sdk/exceptions.py (Airflow 3.3); https://airflow.apache.org/docs/apache-airflow/2.10.5/_api/airflow/exceptions/index.html"
DBT = "https://github.com/dbt-labs/dbt-core/blob/main/core/dbt/exceptions.py, dbt_common/exceptions"
JAVA = "https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/lang/package-summary.html"
SPARK = "https://spark.apache.org/docs/latest/api/python/reference/pyspark.errors.html"
POLARS = (
    "https://docs.pola.rs/api/python/stable/reference/exceptions.html; "
    "https://github.com/pola-rs/polars/blob/main/crates/polars-python/src/exceptions.rs"
)

# Libraries whose class names are generic words other libraries reuse with another meaning
# (pymongo's `WriteError` is a rejected write, elasticsearch's `TransportError` carries an HTTP
# status): a short-name entry of these sources decides a qualified class only from its own modules.
OWNERS: dict[str, tuple[str, ...]] = {
    HTTPX: ("httpx", "httpcore"),
    URLLIB3: ("urllib3", "requests"),  # requests re-exports urllib3's classes
}


def owned(type_name: str, verdict: Verdict | None) -> bool:
    """False when a qualified class (`pymongo.errors.WriteError`) comes from another library than
    the one whose short-name entry matched; a vendored copy (`snowflake.connector.vendored.urllib3`)
    names its library among its modules."""
    owners = OWNERS.get(verdict.source) if verdict is not None else None
    modules = type_name.strip().split(".")[:-1]
    return owners is None or not modules or any(module in owners for module in modules)


CLASSES: dict[str, Verdict | None] = {
    # --- Python built-ins -------------------------------------------------------------------
    **_family("MemoryError", C.INFRA_RESOURCE, 0.95, PY, "the process ran out of memory"),
    **_family("SyntaxError IndentationError TabError", C.CODE_ERROR, 0.95, PY, "the code does not parse"),
    **_family(
        "NameError UnboundLocalError AttributeError", C.CODE_ERROR, 0.85, PY, "the code uses a name that does not exist"
    ),
    **_family(
        "TypeError NotImplementedError RecursionError StopIteration IndexError",
        C.CODE_ERROR,
        0.7,
        PY,
        "a programming error",
    ),
    **_family("ModuleNotFoundError ImportError", C.DEPENDENCY_MISSING, 0.8, PY, "a module or name cannot be imported"),
    **_family("UnicodeDecodeError UnicodeError", C.DATA_MALFORMED, 0.85, PY, "bytes are not valid in their encoding"),
    # Encoding goes the other way: the text is valid, the codec the code writes with (often the
    # platform's default, cp1252 or ascii) cannot represent it; the code must name an encoding.
    # https://docs.python.org/3/library/exceptions.html#UnicodeEncodeError; https://peps.python.org/pep-0686/
    **_family(
        "UnicodeEncodeError",
        C.CODE_ERROR,
        0.75,
        PY,
        "the code writes text with a codec that cannot represent it (name an encoding such as utf-8)",
    ),
    **_family("EOFError", C.DATA_MALFORMED, 0.6, PY, "the input ended early"),
    **_family("OverflowError FloatingPointError", C.DATA_TYPE_MISMATCH, 0.6, PY, "a value is out of range"),
    **_family("ZeroDivisionError", C.DATA_EMPTY, 0.6, PY, "a division by a count of zero rows"),
    **_family("AssertionError", C.DATA_QUALITY, 0.7, PY, "an assertion on the data failed"),
    **_family("PermissionError", C.INFRA_AUTH, 0.85, PY, "the OS refused access (EACCES/EPERM)"),
    **_family(
        "ConnectionError ConnectionRefusedError ConnectionResetError ConnectionAbortedError BrokenPipeError gaierror herror",
        C.INFRA_NETWORK,
        0.9,
        PY,
        "a network connection failed",
    ),
    **_family("TimeoutError timeout TimeoutExpired", C.INFRA_TIMEOUT, 0.7, PY, "an operation timed out"),
    **_family("ChildProcessError BlockingIOError", C.INFRA_RESOURCE, 0.5, PY, "an OS process or I/O resource failed"),
    **_family(
        "JSONDecodeError BadGzipFile BadZipFile ParseError ExpatError",
        C.DATA_MALFORMED,
        0.85,
        PY,
        "input bytes cannot be parsed (json, gzip, zipfile, xml, csv)",
    ),
    **_family("SSLCertVerificationError", C.INFRA_AUTH, 0.75, PY, "the server's TLS certificate was not trusted"),
    **_family("SSLError", C.INFRA_NETWORK, 0.7, PY, "a TLS connection failed"),
    **_wrappers(
        "Exception BaseException SystemExit KeyboardInterrupt CalledProcessError RuntimeError OSError IOError "
        "EnvironmentError LookupError ValueError ArithmeticError ExceptionGroup BaseExceptionGroup"
    ),
    # --- DB-API 2.0 (PEP 249): sqlite3, psycopg, snowflake, pyodbc, pymysql, databricks-sql ----
    **_wrappers("DatabaseError Warning InternalError"),
    **_family("InterfaceError", C.INFRA_NETWORK, 0.55, DBAPI, "the driver's interface to the database failed"),
    **_family(
        "OperationalError", C.INFRA_NETWORK, 0.55, DBAPI, "a database operation failed outside the program's control"
    ),
    **_family("ProgrammingError", C.CODE_ERROR, 0.55, DBAPI, "the SQL or its parameters are wrong"),
    **_family("DataError", C.DATA_TYPE_MISMATCH, 0.7, DBAPI, "a value does not fit its column"),
    **_family("IntegrityError", C.DATA_QUALITY, 0.8, DBAPI, "a constraint on the data was violated"),
    **_family("NotSupportedError", C.CODE_ERROR, 0.6, DBAPI, "the database does not support the operation"),
    # --- requests / httpx / urllib3 ---------------------------------------------------------
    **_family(
        "RequestException ConnectTimeout ReadTimeout Timeout ChunkedEncodingError ProxyError RetryError "
        "ContentDecodingError",
        C.INFRA_NETWORK,
        0.8,
        REQUESTS,
        "an HTTP request failed in transport",
    ),
    # requests and httpx stop after max_redirects: the server sends the client round a loop, and a
    # re-run follows the same loop
    "TooManyRedirects": Verdict(
        C.INFRA_NETWORK,
        0.8,
        REQUESTS,
        "the server redirects in a loop (re-running follows it again)",
        Remediation.ESCALATE,
    ),
    **_family(
        "InvalidURL MissingSchema InvalidSchema InvalidHeader URLRequired InvalidProxyURL UnsupportedProtocol "
        "LocationValueError LocationParseError URLSchemeUnknown",
        C.CONFIG_MISSING,
        0.7,
        REQUESTS,
        "the URL or header configured for the call is invalid",
    ),
    **_family(
        "TransportError NetworkError ConnectError ReadError WriteError CloseError TimeoutException WriteTimeout "
        "PoolTimeout RemoteProtocolError",
        C.INFRA_NETWORK,
        0.85,
        HTTPX,
        "an HTTP transport error",
    ),
    **_family(
        "MaxRetryError NewConnectionError NameResolutionError ConnectTimeoutError ReadTimeoutError "
        "IncompleteRead InvalidChunkLength ProtocolError PoolError EmptyPoolError ClosedPoolError "
        "RemoteDisconnected",
        C.INFRA_NETWORK,
        0.85,
        URLLIB3,
        "an HTTP connection failed",
    ),
    **_wrappers("HTTPError HTTPStatusError RequestError"),  # the status code decides (see codes.http)
    **_family("DecodingError", C.DATA_MALFORMED, 0.6, HTTPX, "a response body cannot be decoded"),
    # --- botocore / boto3 -------------------------------------------------------------------
    **_family(
        "NoCredentialsError PartialCredentialsError NoRegionError ProfileNotFound CredentialRetrievalError "
        "NoAuthTokenError",
        C.CONFIG_MISSING,
        0.85,
        BOTOCORE,
        "AWS credentials or region are not configured",
    ),
    **_family(
        "EndpointConnectionError ConnectionClosedError ProxyConnectionError",
        C.INFRA_NETWORK,
        0.85,
        BOTOCORE,
        "an AWS endpoint could not be reached",
    ),
    **_family(
        "TokenRetrievalError UnauthorizedSSOTokenError SSOTokenLoadError",
        C.INFRA_AUTH,
        0.85,
        BOTOCORE,
        "an AWS token could not be obtained",
    ),
    **_family("ParamValidationError", C.CODE_ERROR, 0.8, BOTOCORE, "a call's parameters are invalid"),
    **_family("WaiterError", C.INFRA_TIMEOUT, 0.6, BOTOCORE, "an AWS waiter gave up"),
    **_wrappers("ClientError BotoCoreError"),  # the error code decides (see codes.aws)
    # --- google-api-core / google-auth (HTTP status in the class) ---------------------------
    **_family("Unauthorized Unauthenticated", C.INFRA_AUTH, 0.9, GOOGLE, "HTTP 401: credentials were refused"),
    **_family("Forbidden PermissionDenied", C.INFRA_AUTH, 0.85, GOOGLE, "HTTP 403: access was refused"),
    **_family(
        "TooManyRequests ResourceExhausted InternalServerError BadGateway ServiceUnavailable GatewayTimeout "
        "Aborted Unavailable",
        C.INFRA_NETWORK,
        0.85,
        GOOGLE,
        "a transient HTTP 429/5xx answer",
    ),
    **_family("DeadlineExceeded", C.INFRA_TIMEOUT, 0.8, GOOGLE, "an RPC deadline was exceeded"),
    **_family("NotFound", C.UPSTREAM_FAILED, 0.6, GOOGLE, "HTTP 404: the resource does not exist"),
    **_family(
        "BadRequest InvalidArgument FailedPrecondition", C.CODE_ERROR, 0.55, GOOGLE, "HTTP 400: the request is invalid"
    ),
    **_family("DefaultCredentialsError", C.CONFIG_MISSING, 0.85, GOOGLE_AUTH, "no Google credentials are configured"),
    **_family("RefreshError", C.INFRA_AUTH, 0.85, GOOGLE_AUTH, "a Google token could not be refreshed"),
    **_wrappers("GoogleAPICallError GoogleAPIError ClientError ServerError"),
    # --- snowflake-connector-python (beyond PEP 249) ----------------------------------------
    **_family("ForbiddenError", C.INFRA_AUTH, 0.85, SNOWFLAKE, "HTTP 403 from Snowflake"),
    **_family(
        "RequestTimeoutError ServiceUnavailableError GatewayTimeoutError BadGatewayError OtherHTTPRetryableError",
        C.INFRA_NETWORK,
        0.85,
        SNOWFLAKE,
        "a transient HTTP answer from Snowflake",
    ),
    **_family(
        "MissingDependencyError", C.DEPENDENCY_MISSING, 0.85, SNOWFLAKE, "an optional dependency is not installed"
    ),
    # --- pyarrow ----------------------------------------------------------------------------
    **_family("ArrowInvalid ArrowSerializationError", C.DATA_MALFORMED, 0.75, PYARROW, "Arrow cannot read the data"),
    **_family("ArrowTypeError", C.DATA_TYPE_MISMATCH, 0.8, PYARROW, "a value has the wrong Arrow type"),
    **_family(
        "ArrowMemoryError ArrowCapacityError", C.INFRA_RESOURCE, 0.85, PYARROW, "Arrow ran out of memory or capacity"
    ),
    **_family("ArrowKeyError", C.SCHEMA_MISSING_COLUMN, 0.6, PYARROW, "a field is missing"),
    **_family("ArrowNotImplementedError ArrowIndexError", C.CODE_ERROR, 0.6, PYARROW, "an unsupported Arrow operation"),
    **_wrappers("ArrowException ArrowIOError"),
    # --- pandas.errors ----------------------------------------------------------------------
    **_family("EmptyDataError", C.DATA_EMPTY, 0.95, PANDAS, "the input file is empty"),
    **_family("ParserError", C.DATA_MALFORMED, 0.9, PANDAS, "the input cannot be parsed"),
    **_family(
        "IntCastingNaNError OutOfBoundsDatetime OutOfBoundsTimedelta DateParseError",
        C.DATA_TYPE_MISMATCH,
        0.85,
        PANDAS,
        "a value cannot be converted",
    ),
    **_family("MergeError DuplicateLabelError", C.DATA_QUALITY, 0.6, PANDAS, "keys are not unique where they must be"),
    **_family("UndefinedVariableError", C.SCHEMA_MISSING_COLUMN, 0.7, PANDAS, "a query names a column the frame lacks"),
    **_family(
        "InvalidIndexError IndexingError SpecificationError NullFrequencyError AbstractMethodError",
        C.CODE_ERROR,
        0.65,
        PANDAS,
        "pandas was called wrongly",
    ),
    # --- Jinja ------------------------------------------------------------------------------
    **_family(
        "TemplateError TemplateSyntaxError TemplateAssertionError UndefinedError TemplateRuntimeError "
        "TemplateNotFound TemplatesNotFound FilterArgumentError SecurityError",
        C.CONFIG_TEMPLATE,
        0.9,
        JINJA,
        "a Jinja template failed to render",
    ),
    # --- Airflow 2.x and 3.x ----------------------------------------------------------------
    **_wrappers("AirflowException AirflowFailException AirflowRuntimeError AirflowInternalRuntimeError"),
    **_family(
        "AirflowTaskTimeout AirflowSensorTimeout TaskDeferralTimeout DagRunTimeout PodLaunchTimeoutException",
        C.INFRA_TIMEOUT,
        0.95,
        AIRFLOW,
        "the task or sensor exceeded its timeout",
    ),
    **_family("AirflowTaskTerminated", C.INFRA_RESOURCE, 0.75, AIRFLOW, "the task was terminated from outside"),
    **_family(
        "AirflowNotFoundException DagNotFound DagRunNotFound TaskInstanceNotFound PoolNotFound DagCodeNotFound "
        "ConnectionNotUnique VariableNotUnique AirflowConfigException",
        C.CONFIG_MISSING,
        0.8,
        AIRFLOW,
        "a connection, variable, pool or DAG named in the deployment is missing",
    ),
    **_family("AirflowSecretsBackendAccessDenied", C.INFRA_AUTH, 0.9, AIRFLOW, "the secrets backend refused access"),
    **_family(
        "AirflowOptionalProviderFeatureException",
        C.DEPENDENCY_MISSING,
        0.8,
        AIRFLOW,
        "a provider feature needs a package",
    ),
    **_family(
        "XComNotFound XComForMappingNotPushed", C.UPSTREAM_FAILED, 0.75, AIRFLOW, "an upstream task pushed no XCom"
    ),
    **_family(
        "DuplicateTaskIdFound AirflowDagCycleException DagCycleException AirflowDagDuplicatedIdException "
        "TaskAlreadyInTaskGroup AirflowClusterPolicyViolation FailFastDagInvalidTriggerRule AirflowTimetableInvalid "
        "AirflowFileParseException AirflowDagInconsistent UnmappableXComTypePushed SerializationError "
        "DagRunAlreadyExists AirflowBadRequest",
        C.CODE_ERROR,
        0.8,
        AIRFLOW,
        "the DAG's definition is invalid",
    ),
    **_family("PodLaunchFailedException", C.INFRA_RESOURCE, 0.6, AIRFLOW, "a Kubernetes pod failed to launch"),
    # --- dbt (class names and the console kinds the log readers give as "dbt <Kind> Error") ---
    **_wrappers(
        "DbtRuntimeError DbtDatabaseError dbt_Runtime_Error dbt_Database_Error dbt_Internal_Error DbtInternalError"
    ),
    **_family(
        "CompilationError dbt_Compilation_Error dbt_Parsing_Error ParsingError",
        C.CODE_ERROR,
        0.75,
        DBT,
        "the dbt project does not compile",
    ),
    **_family(
        "DbtProfileError DbtProjectError dbt_Env_var_Error EnvVarMissingError",
        C.CONFIG_MISSING,
        0.8,
        DBT,
        "a dbt profile, project setting or env var is missing",
    ),
    **_family(
        "DependencyError dbt_Dependency_Error DependencyNotFoundError",
        C.DEPENDENCY_MISSING,
        0.8,
        DBT,
        "a dbt package is missing or incompatible",
    ),
    **_family("dbt_Failure_in_test", C.DATA_QUALITY, 0.9, DBT, "a dbt data test failed"),
    **_family(
        "dbt_Failure_in_unit_test",
        C.CODE_ERROR,
        0.9,
        dbt_messages.DBT_UNIT_TESTS,
        "a dbt unit test failed: the model's SQL on the test's fixed rows",
    ),
    **_family(
        "GraphDependencyNotFoundError DbtReferenceError TargetNotFoundError MissingRelationError DocTargetNotFoundError",
        C.SCHEMA_MISSING_RELATION,
        0.85,
        DBT,
        "a dbt node or relation the project refers to does not exist",
    ),
    **_family(
        "RequiredVarNotFoundError SecretEnvVarLocationError ProfileConfigError",
        C.CONFIG_MISSING,
        0.85,
        DBT,
        "a dbt var, env var or profile setting is missing",
    ),
    **_family(
        "PackageNotFoundError PackageVersionNotFoundError UninstalledPackagesFoundError PackageNotInDepsError "
        "PackageNotFoundForMacroError NoAdaptersAvailableError",
        C.DEPENDENCY_MISSING,
        0.85,
        DBT,
        "a dbt package or adapter is missing or at the wrong version",
    ),
    **_family(
        "YamlLoadError YamlParseDictError YamlParseListError TestConfigError SchemaConfigError ModelConfigError "
        "ContractError ContractBreakingChangeError DuplicateResourceNameError",
        C.CODE_ERROR,
        0.75,
        DBT,
        "the dbt project's files are invalid",
    ),
    **_family("RPCTimeoutException", C.INFRA_TIMEOUT, 0.8, DBT, "a dbt RPC call timed out"),
    **_family("RPCKilledException", C.INFRA_RESOURCE, 0.7, DBT, "a dbt RPC task was killed"),
    **_wrappers("FailFastError"),
    # --- JVM / Spark / Hadoop ---------------------------------------------------------------
    **_family("OutOfMemoryError", C.INFRA_RESOURCE, 0.95, JAVA, "the JVM ran out of memory"),
    **_family("AccessControlException AccessDeniedException", C.INFRA_AUTH, 0.85, JAVA, "access was refused"),
    **_family("FileNotFoundException NoSuchFileException", C.UPSTREAM_FAILED, 0.7, JAVA, "an input file is absent"),
    **_family(
        "ConnectException SocketTimeoutException UnknownHostException NoRouteToHostException Py4JNetworkError",
        C.INFRA_NETWORK,
        0.85,
        JAVA,
        "a network connection failed",
    ),
    **_family("NoSuchTableException", C.SCHEMA_MISSING_RELATION, 0.85, JAVA, "the table does not exist"),
    **_family("ClassNotFoundException NoClassDefFoundError", C.DEPENDENCY_MISSING, 0.75, JAVA, "a jar is missing"),
    # java.lang.LinkageError's subclasses: a class changed incompatibly after the calling jar was
    # compiled against it (a connector built for another Spark or library version)
    **_family(
        "NoSuchMethodError NoSuchFieldError AbstractMethodError IncompatibleClassChangeError",
        C.DEPENDENCY_MISSING,
        0.8,
        "https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/lang/LinkageError.html",
        "a jar was built against another version of a library it calls (pin matching versions)",
    ),
    **_family(
        "NumberFormatException DateTimeParseException", C.DATA_TYPE_MISMATCH, 0.8, JAVA, "a value cannot be parsed"
    ),
    # Celery (celery/exceptions.py; billiard): a task's hard/soft time limit, a worker process lost
    **_family(
        "TimeLimitExceeded SoftTimeLimitExceeded",
        C.INFRA_TIMEOUT,
        0.85,
        "https://docs.celeryq.dev/en/stable/reference/celery.exceptions.html",
        "the Celery task hit its time limit",
    ),
    **_family(
        "WorkerLostError",
        C.INFRA_RESOURCE,
        0.75,
        "https://docs.celeryq.dev/en/stable/reference/celery.exceptions.html",
        "the worker process running the task exited (killed, often for memory)",
    ),
    # SQLAlchemy (sqlalchemy/exc.py): "a dynamic loader cannot locate the named module" - the
    # dialect's package (snowflake-sqlalchemy, psycopg2, pymysql, ...) is not installed
    **_family(
        "NoSuchModuleError",
        C.DEPENDENCY_MISSING,
        0.85,
        "https://docs.sqlalchemy.org/en/20/core/exceptions.html#sqlalchemy.exc.NoSuchModuleError",
        "the SQLAlchemy dialect or driver package is not installed",
    ),
    # kafka-python (kafka/errors.py): no broker reachable at bootstrap
    **_family(
        "NoBrokersAvailable",
        C.INFRA_NETWORK,
        0.8,
        "https://github.com/dpkp/kafka-python/blob/master/kafka/errors.py",
        "no Kafka broker could be reached",
    ),
    **_wrappers(
        "Py4JJavaError AnalysisException SparkException CapturedException PySparkException SparkRuntimeException "
        "IllegalArgumentException IllegalStateException"
    ),
    # --- polars (polars.exceptions; the Rust PolarsError variants map one to one) ------------
    # ComputeError is polars' catch-all ("could not perform an underlying computation": CSV
    # parsing, strict casts before 0.20, cloud I/O, ...): its message decides (catalogs/messages.py)
    **_wrappers("PolarsError ComputeError"),
    **_family("ColumnNotFoundError", C.SCHEMA_MISSING_COLUMN, 0.9, POLARS, "a referenced column does not exist"),
    **_family(
        "SchemaFieldNotFoundError StructFieldNotFoundError",
        C.SCHEMA_MISSING_COLUMN,
        0.8,
        POLARS,
        "a schema field or struct field the code names does not exist",
    ),
    # SchemaMismatch: the data's dtypes differ from the ones expected (concat of frames whose
    # types drifted, an expression on a column of another type). Keyed by the qualified name:
    # pandera's and jsonschema's SchemaError mean something else.
    **_family(
        "polars.exceptions.SchemaError exceptions.SchemaError",
        C.DATA_TYPE_MISMATCH,
        0.65,
        POLARS,
        "the data's types differ from the schema the operation expects",
    ),
    **_family("NoDataError", C.DATA_EMPTY, 0.85, POLARS, "the input or frame is empty"),
    **_family("NoRowsReturnedError", C.DATA_EMPTY, 0.7, POLARS, "no row returned where one was expected"),
    **_family("TooManyRowsReturnedError", C.DATA_QUALITY, 0.7, POLARS, "several rows where exactly one was expected"),
    **_family("SQLSyntaxError", C.CODE_ERROR, 0.85, POLARS, "the SQL given to polars does not parse"),
    **_family(
        "InvalidOperationError DuplicateError OutOfBoundsError SQLInterfaceError StringCacheMismatchError "
        "ParameterCollisionError UnsuitableSQLError",
        C.CODE_ERROR,
        0.6,
        POLARS,
        "polars was asked for an operation the data structure or dtype does not allow",
    ),
    **_family(
        "ModuleUpgradeRequiredError", C.DEPENDENCY_MISSING, 0.85, POLARS, "an optional module needs a newer version"
    ),
}

# Known bases of classes of the libraries above, as their sources define them (built-ins come
# from the interpreter). Only where the class has no verdict of its own or a subclass needs it.
BASES: dict[str, tuple[str, ...]] = {
    # requests
    "RequestException": ("OSError",),
    "HTTPError": ("RequestException",),
    "SSLError": ("ConnectionError",),
    # CPython ssl (Lib/ssl.py, Modules/_ssl.c): every SSL*Error is an SSLError, itself an OSError
    "SSLEOFError": ("SSLError",),
    "SSLZeroReturnError": ("SSLError",),
    "SSLSyscallError": ("SSLError",),
    "SSLWantReadError": ("SSLError",),
    "SSLWantWriteError": ("SSLError",),
    # CPython http.client: the server closed the connection before answering
    "RemoteDisconnected": ("ConnectionResetError",),
    "IncompleteRead": ("ConnectionError",),
    # httpx
    "HTTPStatusError": ("HTTPError",),
    "RequestError": ("HTTPError",),
    "LocalProtocolError": ("ProtocolError",),
    # pandas
    "PerformanceWarning": ("Warning",),
    "DatabaseError": ("OSError",),
    # psycopg: every psycopg.errors class is one SQLSTATE (see sqlstate.psycopg_classes)
    "UndefinedColumn": ("ProgrammingError",),
    "UndefinedTable": ("ProgrammingError",),
    # snowflake-connector: HTTP errors derive from its DatabaseError / InterfaceError
    "ForbiddenError": ("DatabaseError",),
    "ProgrammingError": ("DatabaseError",),
    "OperationalError": ("DatabaseError",),
    "IntegrityError": ("DatabaseError",),
    "DataError": ("DatabaseError",),
    "InterfaceError": ("Error",),
    "NotSupportedError": ("DatabaseError",),
    "InternalError": ("DatabaseError",),
    # botocore
    "ClientError": ("BotoCoreError",),
    "NoSuchKey": ("ClientError",),
    "NoSuchBucket": ("ClientError",),
    # google-api-core
    "Conflict": ("ClientError",),
    "AlreadyExists": ("Conflict",),
    "PreconditionFailed": ("ClientError",),
    "MethodNotAllowed": ("ClientError",),
    "LengthRequired": ("ClientError",),
    "RequestRangeNotSatisfiable": ("ClientError",),
    "Cancelled": ("ClientError",),
    "OutOfRange": ("BadRequest",),
    "DataLoss": ("ServerError",),
    "Unknown": ("ServerError",),
    "MethodNotImplemented": ("ServerError",),
    # numpy (numpy/_core/_exceptions.py)
    "_ArrayMemoryError": ("MemoryError",),
    "AxisError": ("ValueError", "IndexError"),
    # kubernetes python client (kubernetes/client/exceptions.py): the HTTP status is in the message
    "ApiException": ("OpenApiException",),
    # pyarrow
    "ArrowInvalid": ("ValueError", "ArrowException"),
    "ArrowTypeError": ("TypeError", "ArrowException"),
    "ArrowIOError": ("IOError", "ArrowException"),
    "ArrowCancelled": ("ArrowException",),
    # Airflow
    "AirflowSensorTimeout": ("AirflowException",),
    "DagRunAlreadyExists": ("AirflowBadRequest",),
    "ParamValidationError": ("AirflowException", "ValueError"),
    "NodeNotFound": ("TaskNotFound", "KeyError"),
    "TaskNotFound": ("AirflowException",),
    "AirflowBadRequest": ("AirflowException",),
    # jinja2
    "TemplateNotFound": ("OSError", "LookupError", "TemplateError"),
    # pyspark
    "AnalysisException": ("CapturedException",),
    "ParseException": ("AnalysisException",),
    "IllegalArgumentException": ("CapturedException",),
    "StreamingQueryException": ("CapturedException",),
    "PythonException": ("CapturedException",),
    "SparkUpgradeException": ("CapturedException",),
    "ArithmeticException": ("CapturedException",),
    "NumberFormatException": ("IllegalArgumentException",),
    "DateTimeException": ("ArithmeticException",),
    # polars (crates/polars-python/src/exceptions.rs, py-polars/polars/exceptions.py)
    "PolarsError": ("Exception",),
    **dict.fromkeys(
        (
            "ColumnNotFoundError ComputeError DuplicateError InvalidOperationError NoDataError OutOfBoundsError "
            "SQLInterfaceError SQLSyntaxError SchemaError SchemaFieldNotFoundError ShapeError "
            "StringCacheMismatchError StructFieldNotFoundError RowsError ParameterCollisionError UnsuitableSQLError"
        ).split(),
        ("PolarsError",),
    ),
    "NoRowsReturnedError": ("RowsError",),
    "TooManyRowsReturnedError": ("RowsError",),
    "ModuleUpgradeRequiredError": ("ModuleNotFoundError",),
}

# The family modules' classes (catalogs/airflow_messages.py, client_messages.py, dbt_messages.py).
for _module in (airflow_messages, client_messages, dbt_messages):
    CLASSES.update(_module.CLASSES)
    BASES.update(_module.BASES)


def _builtin_bases(name: str) -> tuple[str, ...]:
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return tuple(b.__name__ for b in cls.__bases__ if b is not object)
    return ()


def lineage(name: str, limit: int = 12) -> list[str]:
    """The class and its known bases, nearest first (breadth first, each once)."""
    order: list[str] = []
    queue = [name]
    while queue and len(order) < limit:
        current = queue.pop(0)
        if current in order:
            continue
        order.append(current)
        queue.extend(BASES.get(current) or _builtin_bases(current))
    return order
