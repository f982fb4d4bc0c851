"""The triage rules: one declarative table, first match wins, ordered specific -> general.

A rule matches an exception by type (last dotted part; empty = any type) and/or a message
regex, optionally guarded by a named predicate (see classify.PREDICATES). Message shapes are
the real ones printed by Python, pandas, requests/httpx, Airflow, dbt, DuckDB, Postgres, Spark.

Rules marked `generic` (plain words such as "malformed", catch-all exception types) are tried
only after every specific rule failed on the whole exception chain: an engine's error class
(`[CAST_INVALID_INPUT] ... because it is malformed`) must beat a word its message happens to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from patchit_provider.engine.taxonomy import Category as C


@dataclass(frozen=True)
class Rule:
    category: C
    types: tuple[str, ...] = ()
    message: str | None = None
    confidence: float = 0.7
    why: str = ""
    when: str | None = None
    generic: bool = False
    pattern: re.Pattern[str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.message is not None:
            object.__setattr__(self, "pattern", re.compile(self.message, re.I | re.S))


R = Rule


def G(category: C, types: tuple[str, ...], message: str | None, confidence: float, why: str) -> Rule:
    """A generic rule: a last resort after every specific rule (see the module docstring)."""
    return Rule(category, types, message, confidence, why, generic=True)


HINT = r"Did you mean|Perhaps you meant|Candidate bindings|one of the following\? \[[^\]]"

RULES: list[Rule] = [
    # --- config.missing: Airflow connections / variables / env / profiles (before KeyError) ---
    R(
        C.CONFIG_MISSING,
        ("AirflowNotFoundException",),
        r"conn_id .* isn't defined",
        0.95,
        "an Airflow connection id is not defined",
    ),
    R(
        C.CONFIG_MISSING,
        ("AirflowRuntimeError",),
        r"(?:VARIABLE|CONNECTION)_NOT_FOUND",
        0.95,
        "an Airflow variable or connection is missing",
    ),
    R(C.CONFIG_MISSING, ("KeyError",), r"Variable \S+ does not exist", 0.95, "an Airflow Variable is missing"),
    R(C.CONFIG_MISSING, ("KeyError",), None, 0.8, "an environment variable is read but not set", when="env_lookup"),
    # the run's own configuration: `dag_run.conf` is the JSON given when the run was triggered and
    # `params` the DAG's params (https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/params.html);
    # a key the code reads from them and the trigger did not pass is the run's configuration
    R(
        C.CONFIG_MISSING,
        ("KeyError",),
        None,
        0.75,
        "a key the run's configuration (dag_run.conf or params) does not carry",
        when="run_conf_lookup",
    ),
    R(
        C.CONFIG_MISSING,
        (),
        r"Env var required but not provided|Could not find profile named|profiles\.yml file .*not found",
        0.9,
        "a dbt profile or env var is missing",
    ),
    R(
        C.CONFIG_MISSING,
        ("AirflowConfigException", "NoCredentialsError", "ImproperlyConfigured"),
        None,
        0.8,
        "a setting or credential is not configured",
    ),
    R(C.CONFIG_MISSING, ("FileNotFoundError",), None, 0.7, "a configuration file is missing", when="config_path"),
    # --- config.template ---
    R(
        C.CONFIG_TEMPLATE,
        ("UndefinedError", "TemplateSyntaxError", "TemplateNotFound", "TemplateAssertionError", "TemplateError"),
        None,
        0.9,
        "a Jinja template failed to render",
    ),
    R(
        C.CONFIG_TEMPLATE,
        (),
        r"Compilation Error.*(?:is undefined|unexpected '|expected token)",
        0.85,
        "a dbt model's Jinja failed to compile",
    ),
    # --- infra.timeout ---
    R(
        C.INFRA_TIMEOUT,
        ("AirflowTaskTimeout", "AirflowSensorTimeout", "DagRunTimeout"),
        None,
        0.95,
        "the task exceeded its execution timeout",
    ),
    R(C.INFRA_TIMEOUT, ("QueryCanceled",), None, 0.9, "a statement hit its timeout"),
    R(
        C.INFRA_TIMEOUT,
        (),
        r"Sensor has timed out|execution_timeout|Query exceeded (?:the )?timeout|statement timed out",
        0.85,
        "a statement or sensor timed out",
    ),
    # --- infra.resource ---
    R(C.INFRA_RESOURCE, ("MemoryError", "OutOfMemoryError"), None, 0.95, "the process ran out of memory"),
    R(
        C.INFRA_RESOURCE,
        (),
        r"No space left on device|Errno 28\b|java\.lang\.OutOfMemoryError|Out of Memory Error|Likely out of memory|SIGKILL|return code -9\b|exit code 137|ExecutorLostFailure|Container killed by YARN|exceeding memory limits",
        0.9,
        "the process was killed or ran out of a resource",
    ),
    # --- infra.auth ---
    R(C.INFRA_AUTH, ("PermissionError",), None, 0.85, "the OS refused access to a file"),
    R(
        C.INFRA_AUTH,
        (
            "InsufficientPrivilege",
            "InvalidPassword",
            "AccessDenied",
            "ExpiredTokenException",
            "AuthenticationError",
            "Forbidden",
            "Unauthorized",
        ),
        None,
        0.9,
        "credentials were refused",
    ),
    R(
        C.INFRA_AUTH,
        (),
        r"\b40[13]\b[^\n]{0,40}(?:Unauthorized|Forbidden)|(?:Unauthorized|Forbidden) for url|permission denied for|authentication failed|Incorrect username or password|ExpiredToken|security token included in the request is (?:expired|invalid)|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|access denied|invalid_grant|token (?:has )?expired",
        0.85,
        "authentication or authorization was refused",
    ),
    # --- infra.network (after auth: a 401 is not transient) ---
    R(
        C.INFRA_NETWORK,
        (
            "ConnectionRefusedError",
            "ConnectionResetError",
            "ConnectionAbortedError",
            "BrokenPipeError",
            "ConnectError",
            "ConnectTimeout",
            "ReadTimeout",
            "ReadTimeoutError",
            "RemoteDisconnected",
            "RemoteProtocolError",
            "gaierror",
            "NewConnectionError",
            "MaxRetryError",
            "ProtocolError",
            "ChunkedEncodingError",
            "SSLError",
        ),
        None,
        0.9,
        "a network dependency failed",
    ),
    R(
        C.INFRA_NETWORK,
        (),
        r"\b(?:500|502|503|504)\b[^\n]{0,40}(?:Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Internal Server Error)|Server error '5\d\d|\b429\b[^\n]{0,30}Too Many Requests|Too Many Requests for url|Max retries exceeded|Failed to establish a new connection|Connection refused|Connection reset by peer|Name or service not known|Temporary failure in name resolution|nodename nor servname|could not connect to server|server closed the connection unexpectedly|SSL SYSCALL error|could not translate host name|Connection timed out|Read timed out",
        0.85,
        "a network call failed (transient)",
    ),
    # --- upstream.failed ---
    R(
        C.UPSTREAM_FAILED,
        (),
        r"PATH_NOT_FOUND|Path does not exist|NoSuchKey|The specified key does not exist|upstream_failed|No files? found (?:matching|for)|missing partition",
        0.8,
        "an expected input from upstream is absent",
    ),
    R(
        C.UPSTREAM_FAILED,
        ("FileNotFoundError",),
        None,
        0.8,
        "an input file produced elsewhere is absent",
        when="input_path",
    ),
    # --- dependency.missing / code.error on imports ---
    R(
        C.CODE_ERROR,
        ("ModuleNotFoundError", "ImportError"),
        r"No module named|cannot import name",
        0.85,
        "the import names a module of the repository itself",
        when="module_in_repo",
    ),
    R(
        C.DEPENDENCY_MISSING,
        ("ModuleNotFoundError", "ImportError"),
        r"No module named|cannot import name",
        0.85,
        "a third-party package is not installed or lacks the name",
    ),
    R(
        C.DEPENDENCY_MISSING,
        ("DistributionNotFound", "PackageNotFoundError"),
        None,
        0.85,
        "a required distribution is not installed",
    ),
    R(
        C.DEPENDENCY_MISSING,
        (),
        r"command not found|\bsh: (?:line )?\d+: [\w.+-]+: not found|package\(s\) specified in packages\.yml, but only|run \"dbt deps\"",
        0.8,
        "an executable or dbt package is missing",
    ),
    R(C.DEPENDENCY_MISSING, ("FileNotFoundError",), None, 0.7, "an executable is not installed", when="executable"),
    # --- schema.missing_relation (before missing_column: both say "does not exist") ---
    R(
        C.SCHEMA_MISSING_RELATION,
        (),
        r"depends on a node named .* which was not found|Catalog Error: Table with name|Catalog Error: (?:View|Table) .* does not exist|TABLE_OR_VIEW_NOT_FOUND|Table or view not found|no such table|Object '[^']+' does not exist or not authorized|Table '[^']+' doesn't exist|UndefinedTable",
        0.9,
        "a table, view or dbt node does not exist",
    ),
    R(
        C.SCHEMA_MISSING_RELATION,
        ("UndefinedTable", "CatalogException", "NoSuchTableException"),
        None,
        0.85,
        "a relation does not exist",
    ),
    # --- schema.missing_column ---
    R(
        C.SCHEMA_MISSING_COLUMN,
        (),
        r"Referenced column \"[^\"]+\" not found|does not have a column named|column \"[^\"]+\" (?:of relation \"[^\"]+\" )?does not exist|column [\w.\"]+ does not exist|UNRESOLVED_COLUMN|cannot resolve '?`?[\w.]+`?'? given input columns|no such column|invalid identifier|Unknown column '|not in index|are in the \[columns\]|Usecols do not match columns|Column '[^']+' does not exist|Missing column",
        0.9,
        "a referenced column does not exist",
    ),
    R(C.SCHEMA_MISSING_COLUMN, ("UndefinedColumn",), None, 0.9, "a referenced column does not exist"),
    R(
        C.SCHEMA_MISSING_COLUMN,
        ("KeyError",),
        r"^'[^']+'$|^\"[^\"]+\"$",
        0.75,
        "a record or DataFrame is indexed by a key it does not hold",
    ),
    # --- data.empty (before malformed: EmptyDataError is a ParserError-like) ---
    R(C.DATA_EMPTY, ("EmptyDataError",), None, 0.95, "the input file is empty"),
    R(
        C.DATA_EMPTY,
        (),
        r"No columns to parse from file|No objects to concatenate|arg is an empty sequence|iterable argument is empty|empty sequence|out of bounds for axis \d+ with size 0|zero-size array|single positional indexer is out-of-bounds",
        0.85,
        "the input was empty where data was required",
    ),
    # ZeroDivisionError: the raising line shows the divisor. A size of the input (`len(rows)`,
    # `df.shape[0]`, `n_rows`) is zero because the input was empty (the class rule below); any other
    # divisor is a quantity the code divides by without guarding its zero.
    R(
        C.CODE_ERROR,
        ("ZeroDivisionError",),
        None,
        0.6,
        "the code divides by a computed value that can be zero and does not guard it",
        when="unguarded_divisor",
    ),
    R(C.DATA_EMPTY, ("ZeroDivisionError",), None, 0.6, "a division by a count of zero rows"),
    # --- data.malformed ---
    # No JSON value at the first character of an HTTP response body: the server answered with an
    # error page or nothing (a 5xx behind a proxy, a 204). requests' docs: a failed r.json() says
    # nothing of the response's success, check its status
    # (https://requests.readthedocs.io/en/latest/user/quickstart/#json-response-content).
    R(
        C.INFRA_NETWORK,
        ("JSONDecodeError",),
        r"^Expecting value: line 1 column 1 \(char 0\)",
        0.9,  # more than the JSON readers' messages (catalogs/messages.py): where the text came from decides
        "an HTTP response whose body is not JSON at all: the service answered with an error page or nothing",
        when="http_body",
    ),
    R(
        C.DATA_MALFORMED,
        (
            "JSONDecodeError",
            "ParserError",
            "UnicodeDecodeError",
            "BadGzipFile",
            "BadZipFile",
            "ArrowInvalid",
            "ParseError",
            "ExpatError",
            "ScannerError",
        ),
        None,
        0.9,
        "input bytes cannot be parsed",
    ),
    R(
        C.DATA_MALFORMED,
        ("Error",),
        r"field larger than field limit|new-line character seen|line contains NUL|unexpected end of data",
        0.85,
        "a CSV file cannot be parsed",
    ),
    R(
        C.DATA_MALFORMED,
        (),
        r"Error tokenizing data|Expecting (?:value|property name)|Unterminated string starting|Invalid Input Error: Could not convert|Malformed records are detected|MALFORMED_RECORD_IN_PARSING",
        0.8,
        "input bytes cannot be parsed",
    ),
    # Python writes sys.stdout in the locale's encoding: ASCII under cron's or a container's C/POSIX
    # locale, the console code page on Windows (https://docs.python.org/3/library/sys.html#sys.stdout,
    # PYTHONIOENCODING, PEP 538). A print that cannot encode is the job's environment.
    R(
        C.CONFIG_MISSING,
        ("UnicodeEncodeError",),
        r"'(?:ascii|charmap|cp\d+)' codec can't encode",
        0.8,
        "the job's locale makes stdout ASCII or a code page (set LANG=C.UTF-8 or PYTHONIOENCODING=utf-8 for the job)",
        when="stdout_write",
    ),
    # --- data.type_mismatch ---
    R(
        C.CODE_ERROR,
        ("ValueError",),
        r"does not match format",
        0.9,
        "the value is a good date in a sibling of the format (%y for %Y, %I for %H): the format string is wrong",
        when="format_misfit",
    ),
    R(
        C.DATA_TYPE_MISMATCH,
        (),
        r"invalid literal for int\(\)|could not convert string to float|(?:does not|doesn't) match format|unconverted data remains|Unknown (?:string|datetime string) format|Unable to parse string|Conversion Error|CAST_INVALID_INPUT|cannot convert float NaN to integer|Cannot convert non-finite values|Invalid value for dtype|could not be cast|Could not convert .* to numeric|out of range for type|cannot be cast to",
        0.85,
        "a value cannot be converted to the expected type",
    ),
    R(
        C.DATA_TYPE_MISMATCH,
        (
            "IntCastingNaNError",
            "DateParseError",
            "OutOfBoundsDatetime",
            "InvalidTextRepresentation",
            "NumericValueOutOfRange",
            "ConversionException",
            "ValidationError",
        ),
        None,
        0.8,
        "a value has the wrong type or format",
    ),
    # --- data.quality ---
    R(
        C.DATA_QUALITY,
        (),
        r"Failure in test|Got \d+ results?, configured to (?:fail|warn)|duplicate key value violates unique constraint|violates not-null constraint|violates foreign key constraint|violates check constraint|Constraint Error|data quality check failed|The following tests have failed|Test failed",
        0.85,
        "a data test or constraint failed on well-formed data",
    ),
    R(
        C.DATA_QUALITY,
        (
            "AssertionError",
            "UniqueViolation",
            "NotNullViolation",
            "ForeignKeyViolation",
            "CheckViolation",
            "IntegrityError",
            "ConstraintException",
            "DataQualityError",
        ),
        None,
        0.75,
        "an assertion or constraint on the data failed",
    ),
    # --- code.error ---
    R(
        C.CODE_ERROR,
        ("NameError", "AttributeError", "UnboundLocalError"),
        HINT,
        0.95,
        "a name is wrong, and Python suggests the right one",
    ),
    R(
        C.CODE_ERROR,
        ("NameError", "AttributeError", "UnboundLocalError"),
        None,
        0.85,
        "the code uses a name that does not exist",
    ),
    R(C.CODE_ERROR, ("SyntaxError", "IndentationError", "TabError"), None, 0.95, "the pipeline's code does not parse"),
    R(
        C.CODE_ERROR,
        (
            "TypeError",
            "RecursionError",
            "NotImplementedError",
            "IndexError",
            "DagCycleException",
            "AirflowDagCycleException",
            "ParamValidationError",
        ),
        None,
        0.7,
        "a programming error in the pipeline's code",
    ),
    R(
        C.CODE_ERROR,
        (),
        # dbt's "Compilation Error in model"; not Snowflake's "SQL compilation error:" prefix, which
        # every compile-phase error carries (002003 object does not exist or not authorized, 000904
        # invalid identifier: https://docs.snowflake.com/en/user-guide/security-access-control-considerations)
        r"(?<!SQL )Compilation Error|Parsing Error|syntax error at or near|Parser Error: syntax error|PARSE_SYNTAX_ERROR",
        0.8,
        "the SQL or model does not compile",
    ),
    # --- generic fallbacks: tried after every specific rule, on the whole chain ---
    G(
        C.DATA_MALFORMED,
        (),
        r"\bmalformed\b|Unexpected end of (?:file|input)|\btruncated\b",
        0.65,
        "the message says the input is malformed or truncated",
    ),
    G(
        C.INFRA_NETWORK,
        ("ConnectionError", "HTTPError", "HTTPStatusError", "OperationalError", "TransportError"),
        None,
        0.6,
        "a connection-level error",
    ),
    G(C.INFRA_TIMEOUT, ("TimeoutError", "TimeoutExpired", "Timeout"), None, 0.6, "an operation timed out"),
    G(C.DATA_TYPE_MISMATCH, ("ValueError",), r"invalid|could not|cannot|unable", 0.5, "a value could not be used"),
]

NEXT_STEPS: dict[C, str] = {
    C.SCHEMA_MISSING_COLUMN: "Compare the referenced column with the current upstream schema; rename the reference if the column was renamed, or ask the data owner if it was dropped.",
    C.SCHEMA_MISSING_RELATION: "Check that the table/view/model exists under the referenced name (typo, schema or upstream model not built); fix the reference or build the upstream model.",
    C.DATA_MALFORMED: "Inspect the input file named in the error; ask its producer to fix or re-deliver it. Do not skip bad records silently.",
    C.DATA_TYPE_MISMATCH: "Find the offending value in the input and agree with the data owner on the format; adjust parsing only if the new format is intended.",
    C.DATA_QUALITY: "Query the failing rows of the test/assertion and hand them to the data owner; fix the data, not the test.",
    C.DATA_EMPTY: "Check why the upstream input is empty (late, failed or filtered run) before re-running; decide whether empty input must be tolerated.",
    C.CODE_ERROR: "Fix the code at the culprit line (see the error and any 'Did you mean' hint), then re-run the task.",
    C.DEPENDENCY_MISSING: "Add the missing package (pinned) to the pipeline's requirements or image, or fix the import name.",
    C.CONFIG_MISSING: "Create or fix the named connection/variable/env var/profile in the deployment (not in code), then clear the task.",
    C.CONFIG_TEMPLATE: "Fix the template at the culprit: define the missing variable or correct the Jinja syntax.",
    C.INFRA_NETWORK: "Retry the task; if it keeps failing, check the remote service's health and network path.",
    C.INFRA_AUTH: "Renew or fix the credentials/permissions of the account the task uses (platform or secret owner).",
    C.INFRA_RESOURCE: "Give the task more memory/disk or reduce its working set (chunking, partitions); check the worker's limits.",
    C.INFRA_TIMEOUT: "Retry; if it recurs, find what got slower (data volume, locks, remote service) before raising the timeout.",
    C.UPSTREAM_FAILED: "Check the upstream task or system that should have produced the input; re-run it, then clear this task.",
    C.UNKNOWN: "Read the log excerpt and the culprit frame; classify by hand and consider adding a triage rule.",
}
