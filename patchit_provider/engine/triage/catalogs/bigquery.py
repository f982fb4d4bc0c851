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
    """The reason of a BigQuery error: its own message first (the most specific), then the reason
    a client printed, then what the bq CLI's class or output stands for."""
    text = f"{type_name}: {message[:4000]}"
    for pattern, reason, verdict in _TEXTS:
        if pattern.search(text):
            return reason, verdict
    if not _BIGQUERY.search(text):
        return None
    for match in (*_REASON.finditer(text), *_GO_TRAILING.finditer(text)):
        name = match.group("name") or match.groupdict().get("r")
        if name in CODES:
            return name, CODES[name]
    reason = _BQ_CLASSES.get(type_name.rsplit(".", 1)[-1]) or (
        "invalidQuery" if _BQ_INVALID_QUERY.search(text) else None
    )
    return (reason, CODES[reason]) if reason else None
