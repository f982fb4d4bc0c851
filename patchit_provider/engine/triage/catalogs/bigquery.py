"""BigQuery error reasons -> category, from BigQuery's own error table.

Source: https://cloud.google.com/bigquery/docs/error-messages (the error table: the `reason` of an
ErrorProto with its HTTP code), plus the reasons BigQuery returns beyond that table
(`bytesBilledLimitExceeded` for maximumBytesBilled, Google APIs' `userRateLimitExceeded` and
`authError`, bq's `termsOfServiceNotAccepted`). Clients print the reason in their own shapes:
google-cloud-bigquery and googleapiclient `'reason': 'invalidQuery'`, the Java client
`BigQueryError{reason=invalid, ...}`, Go `googleapi: Error 400: <message>, invalidQuery` and
`Reason: invalidQuery, Message: ...`, google-api-core's `reason: billingNotEnabled`, R bigrquery
`<message> [backendError]`, the Airflow
provider `BigQuery job failed. Final error was: {'reason': ...}`. The bq CLI prints no reason: it
says `Error in query string:` for invalidQuery and `BigQuery error in <op> operation:` for the
rest (bq_error.py / bq_error_utils.py), so its message text decides; the texts below are the
reasons' own messages, read where a client printed the message without its reason.
Only errors that are BigQuery's count: a BigQuery name in the text, a reason only BigQuery has,
or one of its own messages (Cloud Storage's `'reason': 'notFound'` is not this table's).

Many logs carry the message alone: the bq CLI, the Airflow operators' deferred errors
(`AirflowException(<errorResult.message>)`), google-api-core's `400 <message>`. The message then
decides, and under the reason it often comes with it says more than the reason (`invalid` covers a
wrong request and a malformed file alike), so the messages are read first. They come from the pages
that state them: partitioned and clustered tables, DML, schema changes, load and query jobs, quotas
(MESSAGE_DOCS). A message only GoogleSQL or BigQuery prints counts anywhere; a message of a shape
other engines share counts only in a BigQuery error (the gate below).
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = "https://cloud.google.com/bigquery/docs/error-messages (error table: ErrorProto.reason)"
QUOTAS = "https://cloud.google.com/bigquery/docs/troubleshoot-quotas"
QUERIES = "https://cloud.google.com/bigquery/docs/troubleshoot-queries"
BQ_CLI = (
    "https://github.com/google-cloud-sdk-unofficial/google-cloud-sdk/blob/master/platform/bq/utils/bq_error.py "
    "(CreateBigqueryError); .../platform/bq/utils/bq_error_utils.py (process_error: 'Error in query string')"
)
GO_CLIENT = "https://github.com/googleapis/google-api-go-client/blob/main/googleapi/googleapi.go (Error.Error)"
# the pages that state the messages read below without their reason
PARTITIONS = (
    "https://cloud.google.com/bigquery/docs/managing-partitioned-tables; "
    "https://cloud.google.com/bigquery/docs/querying-partitioned-tables (require_partition_filter); "
    "https://cloud.google.com/bigquery/docs/creating-partitioned-tables; "
    "https://cloud.google.com/bigquery/docs/creating-clustered-tables"
)
SCHEMAS = (
    "https://cloud.google.com/bigquery/docs/managing-table-schemas#manually_adding_an_empty_column "
    "(schemaUpdateOptions ALLOW_FIELD_ADDITION / ALLOW_FIELD_RELAXATION); "
    "https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfigurationLoad (schemaUpdateOptions)"
)
DML = (
    "https://cloud.google.com/bigquery/docs/troubleshoot-queries#could_not_serialize_access_to_table_due_to_concurrent_update; "
    "https://cloud.google.com/bigquery/docs/transactions#transaction_concurrency; "
    "https://cloud.google.com/bigquery/docs/data-manipulation-language (DML limitations)"
)
LOADS = (
    "https://cloud.google.com/bigquery/docs/batch-loading-data (wildcards: a URI that matches no file); "
    "https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet (Parquet type conversions); "
    "https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-csv#troubleshoot_parsing_errors; "
    "https://cloud.google.com/bigquery/quotas (load jobs: compressed file size)"
)
QUERIES_SQL = (
    f"{QUERIES}; "
    "https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical; "
    "https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax"
)
FUNCTIONS = (
    "https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-and-operators; "
    "https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules (GoogleSQL signatures)"
)
UDF_VIEWS = "https://cloud.google.com/bigquery/docs/user-defined-functions#views"
AIRFLOW_HOOK = (
    "https://github.com/apache/airflow/blob/main/providers/google/src/airflow/providers/google/cloud/hooks/bigquery.py "
    "(run_query: allowed_schema_update_options)"
)
MESSAGE_DOCS = (PARTITIONS, SCHEMAS, DML, LOADS, QUERIES_SQL, FUNCTIONS, UDF_VIEWS, QUOTAS, AIRFLOW_HOOK)


def _v(
    category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.9, source: str = SOURCE
) -> Verdict:
    return Verdict(category, confidence, source, f"BigQuery {why}", remediation)


# Transient: the service failed or shed load; the table says retry (with backoff, a new job id).
_TRANSIENT = _v(C.INFRA_NETWORK, "answered a transient server-side failure: retry with backoff", Remediation.RETRY)
# A short-term rate limit: slow down and retry.
_RATE = _v(C.INFRA_NETWORK, "rate limit: too many requests too quickly; retry with backoff", Remediation.RETRY)
# The job ran past what its project, slots or cost cap allow: a person changes the query or the limit.
_RESOURCE = _v(C.INFRA_RESOURCE, "job exceeded a resource, billing-tier or bytes-billed limit")
# Access refused to the principal: a grant or a credential is missing.
_AUTH = _v(C.INFRA_AUTH, "refused access to the principal (missing permission or credentials)")

CODES: dict[str, Verdict] = {
    **dict.fromkeys("backendError internalError jobBackendError jobInternalError tableUnavailable".split(), _TRANSIENT),
    **dict.fromkeys("rateLimitExceeded jobRateLimitExceeded userRateLimitExceeded".split(), _RATE),
    **dict.fromkeys("resourcesExceeded billingTierLimitExceeded bytesBilledLimitExceeded".split(), _RESOURCE),
    # the query's results exceed the maximum response size (LIMIT, or a destination table)
    "responseTooLarge": _v(C.INFRA_RESOURCE, "responseTooLarge: the results exceed the maximum response size"),
    # a long-term (often daily) project or table quota, not a rate: waiting seconds does not clear it
    "quotaExceeded": _v(C.INFRA_RESOURCE, "quotaExceeded: a project, table or custom quota is used up", source=QUOTAS),
    **dict.fromkeys(
        "accessDenied invalidUser authError proxyAuthenticationRequired termsOfServiceNotAccepted".split(), _AUTH
    ),
    # the project's setup, not the pipeline's code: someone enables billing
    "billingNotEnabled": _v(C.CONFIG_MISSING, "billingNotEnabled: billing is not enabled for the project"),
    "timeout": _v(C.INFRA_TIMEOUT, "timeout: the job ran past its time limit"),
    # the statement itself: a lower confidence than the analyzer's specific texts
    # (Unrecognized name, Function not found, Bad int64 value), which name the real cause
    "invalidQuery": _v(C.CODE_ERROR, "invalidQuery: the SQL statement is invalid", confidence=0.8),
    "attributeError": _v(C.CODE_ERROR, "attributeError: user code calls an attribute that does not exist"),
    "notImplemented": _v(
        C.CODE_ERROR, "notImplemented: the code uses a feature BigQuery does not have", confidence=0.7
    ),
    # `invalid` is any invalid input but a query: a request the code builds, or a loaded file's
    # rows (the load messages of client_messages.py name those)
    "invalid": _v(C.CODE_ERROR, "invalid: the request or its input is invalid", confidence=0.6),
    "duplicate": _v(C.CODE_ERROR, "duplicate: the job, dataset or table to create already exists", confidence=0.75),
    # the location's own message (not found in location X) decides first, below
    "notFound": _v(C.SCHEMA_MISSING_RELATION, "notFound: the dataset, table or job does not exist", confidence=0.75),
}

# Reasons no other Google API returns: they alone make an error BigQuery's.
_ONLY_BIGQUERY = (
    "invalidQuery resourcesExceeded billingTierLimitExceeded bytesBilledLimitExceeded responseTooLarge "
    "jobBackendError jobInternalError jobRateLimitExceeded tableUnavailable"
).split()

# The reasons' own messages, for clients that print the message without the reason (the bq CLI,
# google-api-core's "400 <message>"): (pattern, reason, verdict), most specific first.
_NOT_IN_LOCATION = _v(
    C.CONFIG_MISSING,
    "notFound in location: the job runs in another location than the dataset (the job's or profile's location)",
    confidence=0.8,
)
_MISSING_OBJECT = _v(C.SCHEMA_MISSING_RELATION, "notFound: the table, view or dataset does not exist", confidence=0.85)
# a load job's Cloud Storage source: a file another step should have written
_MISSING_SOURCE = _v(
    C.UPSTREAM_FAILED, "notFound: the load job's source file in Cloud Storage does not exist", confidence=0.85
)
# CREATE TABLE without OR REPLACE / IF NOT EXISTS, or a fixed job id: the statement's own choice
_ALREADY_EXISTS = _v(C.CODE_ERROR, "duplicate: the statement creates an object that already exists", confidence=0.85)
_STREAMING_BUFFER = _v(
    C.UPSTREAM_FAILED,
    "badRequest: DML over rows still in the streaming buffer; they become available within minutes",
    Remediation.RETRY,
    0.85,
)
_TEXTS: list[tuple[re.Pattern[str], str, Verdict]] = [
    (re.compile(pattern), reason, verdict)
    for pattern, reason, verdict in (
        (r"Not found: (?:Dataset )?[\w:.\-`\"<>*]+ was not found in location \S+", "notFound", _NOT_IN_LOCATION),
        (r"Not found: (?:Table|View|Dataset) [\w:.\-`\"<>]+", "notFound", _MISSING_OBJECT),
        (r"Not found: URIs? gs://", "notFound", _MISSING_SOURCE),
        (r"Already Exists: (?:Table|Dataset|Job|View|Routine) [\w:.\-`\"<>*]+", "duplicate", _ALREADY_EXISTS),
        (r"Resources exceeded during query execution", "resourcesExceeded", CODES["resourcesExceeded"]),
        (r"Response too large to return", "responseTooLarge", CODES["responseTooLarge"]),
        (r"Query exceeded limit for bytes billed", "bytesBilledLimitExceeded", CODES["bytesBilledLimitExceeded"]),
        (r"Exceeded rate limits: ", "rateLimitExceeded", CODES["rateLimitExceeded"]),
        (
            r"Quota exceeded: Your (?:project|table|dataset|user|organization)\b.{0,80}? exceeded quota for",
            "quotaExceeded",
            CODES["quotaExceeded"],
        ),
        (r"Billing has not been enabled for this project", "billingNotEnabled", CODES["billingNotEnabled"]),
        (r"The job encountered an internal error during execution", "jobInternalError", CODES["jobInternalError"]),
        (r"Error encountered during execution\. Retrying may solve the problem", "backendError", _TRANSIENT),
        (r"The job encountered an error during execution\. Retrying the job may solve", "jobBackendError", _TRANSIENT),
        (
            r"Operation timed out after [\d.]+ \w+\. Consider reducing the amount of work performed",
            "timeout",
            CODES["timeout"],
        ),
        (r"would affect rows in the streaming buffer, which is not supported", "badRequest", _STREAMING_BUFFER),
    )
]


def _msg(category: C, why: str, remediation: Remediation | None = None, source: str = SOURCE) -> Verdict:
    """A message's verdict: as sure as the reasons' own texts above."""
    return _v(category, why, remediation, 0.85, source)


# --- The messages clients print without their reason, by the page that states them: (pattern, the
#     reason BigQuery reports it with, verdict). Whitespace between words is `\s+`: the bq CLI and
#     mail archives wrap long messages.
# Partitioned and clustered tables (invalid, invalidQuery): the job's destination, partitioning or
# query does not fit the table's partitioning: the job's code or configuration changes.
_PARTITION_SPEC = _msg(
    C.CODE_ERROR,
    "invalid: the job's partitioning or clustering does not fit the destination table's",
    source=PARTITIONS,
)
_WRONG_PARTITION = _msg(
    C.CODE_ERROR,
    "invalid: the query writes rows of other dates into a partition decorator ($YYYYMMDD): its filter or destination is wrong",
    source=PARTITIONS,
)
_PARTITION_FILTER = _msg(
    C.CODE_ERROR,
    "invalidQuery: the table requires a filter on its partitioning column (require_partition_filter) that the query lacks",
    source=PARTITIONS,
)
_PARTITION_SQL = _msg(
    C.CODE_ERROR,
    "invalidQuery: the DDL's PARTITION BY / CLUSTER BY or the clustered query is not allowed",
    source=PARTITIONS,
)
# a limit of what one job may modify, not a wrong statement: the job is split or the limit raised
_TOO_MANY_PARTITIONS = _msg(
    C.INFRA_RESOURCE, "invalid: the job modifies more partitions than one job may", source=f"{PARTITIONS}; {QUOTAS}"
)
# Schema changes (invalid): the job's schema adds, drops, retypes or requires fields without the
# schemaUpdateOptions that allow it (or with options its write disposition does not take)
_SCHEMA_CHANGE = _msg(
    C.CODE_ERROR,
    "invalid: the job's schema changes the table's in a way its schemaUpdateOptions do not allow",
    source=SCHEMAS,
)
_NAMES = _msg(C.CODE_ERROR, "invalid: a table, dataset or field name the job gives is not a valid name", source=SCHEMAS)
# DML: concurrent mutations of one table; BigQuery aborts one of them and the docs say retry
_CONTENTION = _msg(
    C.INFRA_NETWORK,
    "invalidQuery: a concurrent DML statement changed the table; this one was aborted: retry",
    Remediation.RETRY,
    source=DML,
)
_DML_JOB = _msg(C.CODE_ERROR, "invalidQuery: the DML statement or its job configuration is not allowed", source=DML)
# Load jobs: a wildcard URI that matches nothing is a file another step should have written
_NO_FILES = _msg(
    C.UPSTREAM_FAILED,
    "invalid: the load job's Cloud Storage URI matched no file (the step that writes it has not run or wrote elsewhere)",
    source=LOADS,
)
_LOAD_TYPE = _msg(
    C.DATA_TYPE_MISMATCH, "invalid: a column of the loaded file has another type than the table's", source=LOADS
)
_LOAD_MALFORMED = _msg(
    C.DATA_MALFORMED, "invalid: the loaded file cannot be parsed in its declared format", source=LOADS
)
_LOAD_TOO_BIG = _msg(
    C.INFRA_RESOURCE, "invalid: a compressed load file is larger than a load job may read", source=LOADS
)
# Query jobs (invalidQuery): GoogleSQL's analyzer names the statement's error and its [line:column]
_SYNTAX = _msg(C.CODE_ERROR, "invalidQuery: the SQL does not parse (GoogleSQL syntax error)", source=QUERIES_SQL)
_NO_COLUMN = _msg(
    C.SCHEMA_MISSING_COLUMN, "invalidQuery: the SQL names a column or field the table does not have", source=QUERIES_SQL
)
_SQL = _msg(
    C.CODE_ERROR, "invalidQuery: the statement is invalid for the tables it reads and writes", source=QUERIES_SQL
)
# the data breaks a promise of the statement: one row of a scalar subquery, no NULL in an array
_SQL_DATA = _msg(
    C.DATA_QUALITY, "invalidQuery: the data breaks what the statement assumes (one row, no NULL)", source=QUERIES_SQL
)
_VALUE = _msg(C.DATA_TYPE_MISMATCH, "invalidQuery: a value of the data cannot be read as its type", source=QUERIES_SQL)
# a function or type another dialect has (TO_CHAR, TEXT), or argument types no signature takes
_FUNCTION = _msg(
    C.CODE_ERROR,
    "invalidQuery: the SQL uses a function or type BigQuery does not have, or argument types it does not take",
    source=FUNCTIONS,
)
# a view created in another project must name its functions' project
_UDF_PROJECT = _msg(C.CODE_ERROR, "invalidQuery: a view's function reference lacks its project id", source=UDF_VIEWS)
# The project or service the job runs in: the connection's or deployment's configuration
_PROJECT = _v(
    C.CONFIG_MISSING,
    "the project, its BigQuery API or a connection the job names does not exist or is not enabled",
    confidence=0.8,
)

_TEXTS += [
    (re.compile(pattern), reason, verdict)
    for pattern, reason, verdict in (
        # partitioned and clustered tables
        (r"Incompatible\s+table\s+partitioning\s+specification", "invalid", _PARTITION_SPEC),
        (
            r"Partitioning\s+specification\s+must\s+be\s+provided\s+in\s+order\s+to\s+create\s+partitioned\s+table",
            "invalid",
            _PARTITION_SPEC,
        ),
        (
            r"If partitioning specification is present, destination table must also be present",
            "invalid",
            _PARTITION_SPEC,
        ),
        (r"Cannot add storage to a non-\s*partitioned table with a partition reference", "invalid", _PARTITION_SPEC),
        (r"Cannot read partition information from a table that is not partitioned", "invalid", _PARTITION_SPEC),
        (r"Table with field based partitioning must have a schema", "invalid", _PARTITION_SPEC),
        (r"Cannot replace a table with a different\s+(?:partitioning|clustering)\s+spec", "invalid", _PARTITION_SPEC),
        (r"Some rows belong to different partitions rather than destination partition", "invalid", _WRONG_PARTITION),
        (r"Cannot query over table '[^']+' without a filter over column\(s\)", "invalidQuery", _PARTITION_FILTER),
        (r"Result of ORDER BY queries cannot be clustered", "invalidQuery", _PARTITION_SQL),
        (r"Entries in the CLUSTER BY clause must be column names", "invalidQuery", _PARTITION_SQL),
        (r"PARTITION BY expression must be \w+\(", "invalidQuery", _PARTITION_SQL),
        (r"Partitioning by expressions of type \w+ is not allowed", "invalidQuery", _PARTITION_SQL),
        (r"Too many partitions produced by query, allowed \d+", "invalid", _TOO_MANY_PARTITIONS),
        # schema changes
        (r"Provided\s+Schema\s+does\s+not\s+match\s+Table", "invalid", _SCHEMA_CHANGE),
        (r"Cannot add required fields to an existing schema", "invalid", _SCHEMA_CHANGE),
        (r"Schema update options should only be specified with WRITE_APPEND disposition", "invalid", _SCHEMA_CHANGE),
        # Airflow's hook refuses what BigQuery would refuse as invalid (AIRFLOW_HOOK)
        (
            r"contains invalid schema update options\. Please only use one or more of the following options",
            "invalid",
            _msg(C.CODE_ERROR, "schemaUpdateOptions holds an option a query job does not take", source=AIRFLOW_HOOK),
        ),
        (
            r'Invalid field name "[^"\n]*"\. Fields must contain only letters, numbers, and underscores',
            "invalid",
            _NAMES,
        ),
        (r'Invalid (?:table|dataset) ID "[^"\n]*"\. (?:Table|Dataset) IDs must be alphanumeric', "invalid", _NAMES),
        (r"Duplicate column names in the result are not supported", "invalidQuery", _NAMES),
        # DML
        (r"Could not serialize access to table \S+ due to concurrent update", "invalidQuery", _CONTENTION),
        (r"Transaction is aborted due to concurrent update against table", "invalidQuery", _CONTENTION),
        (r"Cannot set (?:destination table|write disposition) in jobs with DML statements", "invalid", _DML_JOB),
        (r"configuration\.query\.destinationTable cannot be set for scripts", "invalid", _DML_JOB),
        (r"\b(?:UPDATE|DELETE) must have a WHERE clause", "invalidQuery", _DML_JOB),
        # load jobs
        (r"Failed to expand table \S+ with file pattern \S+ matched no files", "invalid", _NO_FILES),
        (r"Parquet column '[^']+' has type \w+ which does not match the target cpp_type \w+", "invalid", _LOAD_TYPE),
        (r'Missing close double quote \(["\\]*\) character', "invalid", _LOAD_MALFORMED),
        (r'Data between close double quote \(["\\]*\) and field separator', "invalid", _LOAD_MALFORMED),
        (r"Bad character \(ASCII \d+\) encountered", "invalid", _LOAD_MALFORMED),
        (r"The Apache Avro library failed to parse the header", "invalid", _LOAD_MALFORMED),
        (r"Error while reading data, error message: Failed to parse JSON", "invalid", _LOAD_MALFORMED),
        (
            r"Input (?:CSV|JSON) files are not splittable and at least one of the files is larger than the maximum",
            "invalid",
            _LOAD_TOO_BIG,
        ),
        # the loaded file's values and rows (loading-data-cloud-storage-csv#troubleshoot_parsing_errors):
        # a value that does not convert first, then a row or file that does not parse
        (
            r"(?is:Could not parse '[^'\n]{0,200}' as \w+ for field|Could not convert value .{0,200}? to \w+\. Field: )",
            "invalid",
            _LOAD_TYPE,
        ),
        (
            r"(?i:(?:CSV|JSON) (?:table|processing) encountered too many errors, giving up|"
            r"CSV table references column position \d+, but line (?:starting at position:\s*\d+ )?contains only \d+ columns|"
            r"JSON parsing error in row starting at position \d+|Error detected while parsing row starting at position|"
            r"Too many values in row starting at position:\s*\d+)",
            "invalid",
            _LOAD_MALFORMED,
        ),
        # query jobs: the concurrency texts above come first (they end in an [line:column] too)
        (r"Syntax error: [^\n]{0,300}? at \[\d+:\d+\]", "invalidQuery", _SYNTAX),
        (r"(?i:Unrecognized name: )", "invalidQuery", _NO_COLUMN),
        (r"Name \S+ not found inside \S+ at \[\d+:\d+\]", "invalidQuery", _NO_COLUMN),
        (r"Column \S+ in SELECT \* (?:EXCEPT|REPLACE) list does not exist", "invalidQuery", _NO_COLUMN),
        (r'Table name "[^"\n]+" missing dataset while no default dataset is set in the request', "invalidQuery", _SQL),
        (
            r"Query column \d+ has type \w+ which cannot be inserted into column \S+, which has type",
            "invalidQuery",
            _SQL,
        ),
        (r"Inserted row has wrong column count; Has \d+, expected \d+", "invalidQuery", _SQL),
        (
            r"SELECT list expression references (?:column )?\S+ which is neither grouped nor aggregated",
            "invalidQuery",
            _SQL,
        ),
        (r"Column name \S+ is ambiguous at \[\d+:\d+\]", "invalidQuery", _SQL),
        (r"Cannot access field \S+ on a value with type ARRAY<", "invalidQuery", _SQL),
        (r"Correlated subqueries that reference other tables are not supported unless", "invalidQuery", _SQL),
        (r"Query text specifies use_legacy_sql:(?:false|true), while API options specify:", "invalidQuery", _SQL),
        (r'Could not cast literal "[^"\n]*" to type \w+', "invalidQuery", _SQL),
        (r"The query is too large\. The maximum (?:standard SQL )?query length is", "invalidQuery", _SQL),
        (r"Scalar subquery produced more than one element", "invalidQuery", _SQL_DATA),
        (r"(?i:UPDATE/MERGE must match at most one source row for each target row)", "invalidQuery", _SQL_DATA),
        (r"Array cannot have a null element; error in writing field", "invalidQuery", _SQL_DATA),
        (
            r"Cannot return an invalid timestamp value of -?\d+ microseconds relative to the Unix epoch",
            "invalidQuery",
            _VALUE,
        ),
        (
            r"(?i:Bad (?:int64|double|bool|numeric|bignumeric|date|datetime|timestamp|time) value: )",
            "invalidQuery",
            _VALUE,
        ),
        (
            r"(?i:(?:Function|Type|Table-valued function) not found: [\w.`]+|No matching signature for\b)",
            "invalidQuery",
            _FUNCTION,
        ),
        (
            r"(?i:references to functions/procedures require explicit project IDs|references are not project-qualified)",
            "invalidQuery",
            _UDF_PROJECT,
        ),
        # quotas and limits the reasons' own texts above do not name
        (r"Job exceeded rate limits: ", "rateLimitExceeded", _RATE),
        (r"Query exceeded resource limits\b", "billingTierLimitExceeded", CODES["billingTierLimitExceeded"]),
        (r"Cannot query rows larger than \d+MB limit", "resourcesExceeded", CODES["resourcesExceeded"]),
        # the project, the service or a connection the job runs with
        (r"Not found: Project [\w:.\-]+", "notFound", _PROJECT),
        (r"Not found: Connection \S+", "notFound", _PROJECT),
        (r"Invalid project ID '[^'\n]*'\. Project IDs must contain", "invalid", _PROJECT),
        (r"BigQuery API has not been used in project \S+ before or it is disabled", "accessDenied", _PROJECT),
    )
]
# Messages of a shape other engines share: read only in a BigQuery error (the gate).
_GATED_TEXTS: list[tuple[re.Pattern[str], str, Verdict]] = [
    (re.compile(pattern), reason, verdict)
    for pattern, reason, verdict in (
        (r"Invalid (?:date|datetime|timestamp|time): '", "invalidQuery", _VALUE),
        (r"Invalid (?:BIG)?NUMERIC value: ", "invalidQuery", _VALUE),
        (r'Failed to parse input string "', "invalidQuery", _VALUE),
        # any BigQuery error about schemaUpdateOptions (bq's --schema_update_option, the API's, the
        # hook's) is the job's configuration: the options, or the disposition or destination they need
        (r"(?i)schema[_ ]?update[_ ]?options?", "invalid", _SCHEMA_CHANGE),
    )
]

# The bq CLI's classes (bq_error.py CreateBigqueryError) and what it prints for invalidQuery.
_BQ_CLASSES = {
    "BigqueryNotFoundError": "notFound",
    "BigqueryDuplicateError": "duplicate",
    "BigqueryAccessDeniedError": "accessDenied",
    "BigqueryInvalidQueryError": "invalidQuery",
    "BigqueryTermsOfServiceError": "termsOfServiceNotAccepted",
    "BigqueryBackendError": "backendError",
}
_BQ_INVALID_QUERY = re.compile(r"\bError in query string: ")

# `'reason': 'x'`, `"reason" : "x"`, `reason=x` (Java), `Reason: x,` / `Reason: "x"` (Go), `reason: x`;
# R bigrquery's condition "<message> [backendError]"
_REASON = re.compile(
    r"\b[Rr]eason['\"]?\s*[:=]\s*(?:u?['\"])?(?P<name>[a-z][A-Za-z]+)\b|\[(?P<r>[a-z][A-Za-z]+)\][ \t]*$", re.M
)
# Go googleapi.Error with one error: "googleapi: Error 403: <message>, accessDenied"
_GO_TRAILING = re.compile(r"googleapi: Error \d{3}: [^\n]*, (?P<name>[a-z][A-Za-z]+)\b")
_BIGQUERY = re.compile(
    r"bigquery|\bbqjob_|\bgbq\b|Error in query string: |\b(?:" + "|".join(_ONLY_BIGQUERY) + r")\b", re.I
)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The reason of a BigQuery error: its own message first (the most specific; a shared-shape
    message only in a BigQuery error), then the reason a client printed, then what the bq CLI's
    class or output stands for."""
    text = f"{type_name}: {message[:4000]}"
    for pattern, reason, verdict in _TEXTS:
        if pattern.search(text):
            return reason, verdict
    if not _BIGQUERY.search(text):
        return None
    for pattern, reason, verdict in _GATED_TEXTS:
        if pattern.search(text):
            return reason, verdict
    for match in (*_REASON.finditer(text), *_GO_TRAILING.finditer(text)):
        name = match.group("name") or match.groupdict().get("r")
        if name in CODES:
            return name, CODES[name]
    by_class = _BQ_CLASSES.get(type_name.rsplit(".", 1)[-1]) or (
        "invalidQuery" if _BQ_INVALID_QUERY.search(text) else None
    )
    return (by_class, CODES[by_class]) if by_class else None
