"""Codes that engines print in their messages: HTTP status, errno, AWS error codes, signals and
exit codes. Each table cites where its codes are defined."""

from __future__ import annotations

import errno as _errno
import os
import re
from typing import TypeVar

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

# --- HTTP status (RFC 9110 section 15; 429 from RFC 6585 section 4) ---------------------------
RFC = "https://www.rfc-editor.org/rfc/rfc9110.html#name-status-codes"
RFC6585 = "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"

HTTP: dict[int, Verdict] = {
    400: Verdict(C.CODE_ERROR, 0.55, RFC, "HTTP 400 Bad Request: the request the code sends is invalid"),
    401: Verdict(C.INFRA_AUTH, 0.9, RFC, "HTTP 401 Unauthorized: credentials missing or refused"),
    403: Verdict(C.INFRA_AUTH, 0.85, RFC, "HTTP 403 Forbidden: access refused"),
    404: Verdict(C.UPSTREAM_FAILED, 0.6, RFC, "HTTP 404 Not Found: the resource is absent"),
    405: Verdict(C.CODE_ERROR, 0.6, RFC, "HTTP 405 Method Not Allowed"),
    407: Verdict(C.INFRA_AUTH, 0.85, RFC, "HTTP 407 Proxy Authentication Required"),
    408: Verdict(C.INFRA_NETWORK, 0.8, RFC, "HTTP 408 Request Timeout (transient)"),
    410: Verdict(C.UPSTREAM_FAILED, 0.6, RFC, "HTTP 410 Gone"),
    413: Verdict(C.INFRA_RESOURCE, 0.6, RFC, "HTTP 413 Content Too Large"),
    415: Verdict(C.CODE_ERROR, 0.6, RFC, "HTTP 415 Unsupported Media Type"),
    422: Verdict(C.CODE_ERROR, 0.55, RFC, "HTTP 422 Unprocessable Content"),
    429: Verdict(C.INFRA_NETWORK, 0.9, RFC6585, "HTTP 429 Too Many Requests: rate limited (retry later)"),
    500: Verdict(C.INFRA_NETWORK, 0.8, RFC, "HTTP 500 Internal Server Error of a remote service"),
    502: Verdict(C.INFRA_NETWORK, 0.9, RFC, "HTTP 502 Bad Gateway (transient)"),
    503: Verdict(C.INFRA_NETWORK, 0.9, RFC, "HTTP 503 Service Unavailable (transient)"),
    504: Verdict(C.INFRA_NETWORK, 0.9, RFC, "HTTP 504 Gateway Timeout (transient)"),
    507: Verdict(C.INFRA_RESOURCE, 0.6, RFC, "HTTP 507 Insufficient Storage"),
}
# A 403 or 400 whose body says rate limit / quota / throttling is a rate limit: GitHub
# (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api), Google APIs
# (https://cloud.google.com/bigquery/docs/error-messages: rateLimitExceeded, quotaExceeded are 403).
RATE_LIMIT = re.compile(r"rate.?limit|quota|throttl|too many requests|slow ?down|userRateLimitExceeded", re.I)
RATE_VERDICT = Verdict(
    C.INFRA_NETWORK,
    0.85,
    "https://cloud.google.com/bigquery/docs/error-messages",
    "HTTP 403/400 whose body reports a rate limit or quota: retry later",
)

_HTTP = re.compile(
    r"\b(?P<a>[1-5]\d\d) (?:Client|Server) Error\b"  # requests
    r"|(?:Client|Server) error '(?P<b>[1-5]\d\d)\b"  # httpx
    r"|\bHTTP Error (?P<c>[1-5]\d\d)\b"  # urllib
    r"|<HttpError (?P<d>[1-5]\d\d)\b"  # googleapiclient
    r"|\b(?:status[ _]?code|status|response code|http[ _]status|HTTP/\d(?:\.\d)?)[\s:=]+\(?(?P<e>[1-5]\d\d)\b"
    r"|^\s*(?P<f>[1-5]\d\d) (?:GET|POST|PUT|PATCH|DELETE|HEAD) https?://"  # google-api-core "403 GET https://..."
    r"|\((?P<g>[1-5]\d\d)\) when calling the"  # botocore "(403) when calling the HeadObject"
    r"|\b(?P<h>4(?:01|03|29)|50[234]) (?:Unauthorized|Forbidden|Too Many Requests|Bad Gateway|Service Unavailable|Gateway Time-?out)\b"
    # google-api-core's str(exc) is "<code> <message>"; PyGithub's "<status> {json body}"
    r"|\A\s*[\"']?(?P<i>[1-5]\d\d) (?=[A-Z{\"])"
    # the kubernetes client: "ApiException: (403)\nReason: Forbidden"
    r"|\((?P<j>[1-5]\d\d)\)\s*\n?\s*Reason:|\A\s*\((?P<k>[1-5]\d\d)\)\s*$",
    re.I | re.M,
)


def http_status(message: str) -> int | None:
    match = _HTTP.search(message[:4000])
    return int(next(g for g in match.groups() if g)) if match else None


def http_verdict(message: str, context: str = "") -> tuple[int, Verdict] | None:
    status = http_status(message)
    if status is None or status not in HTTP:
        return None
    if status in (400, 403) and RATE_LIMIT.search(message[:4000] + "\n" + context[:4000]):
        return status, RATE_VERDICT
    return status, HTTP[status]


# --- errno (the `errno` module: names are POSIX, numbers are the platform's) ------------------
ERRNO_SRC = (
    "https://docs.python.org/3/library/errno.html (errno module), https://man7.org/linux/man-pages/man3/errno.3.html"
)
_E = {
    **dict.fromkeys(("EACCES", "EPERM", "EROFS"), (C.INFRA_AUTH, 0.85, "the OS refused access")),
    **dict.fromkeys(("ENOSPC", "EDQUOT", "EFBIG"), (C.INFRA_RESOURCE, 0.95, "no space left on the device")),
    **dict.fromkeys(
        ("ENOMEM", "EMFILE", "ENFILE", "EAGAIN"), (C.INFRA_RESOURCE, 0.85, "out of memory or file handles")
    ),
    # execve(2) E2BIG: the argument list a command was built with (a shell glob over many files) is
    # longer than the kernel takes; the command must batch (find -exec ... +, xargs)
    "E2BIG": (C.CODE_ERROR, 0.85, "the command's argument list is too long (batch it: find -exec, xargs)"),
    **dict.fromkeys(
        (
            "ECONNREFUSED",
            "ECONNRESET",
            "ECONNABORTED",
            "ETIMEDOUT",
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ENETDOWN",
            "EHOSTDOWN",
            "EPIPE",
            "ENOTCONN",
            "ESHUTDOWN",
        ),
        (C.INFRA_NETWORK, 0.9, "a network connection failed"),
    ),
}
ERRNO: dict[int, tuple[str, Verdict]] = {
    getattr(_errno, name): (name, Verdict(cat, conf, ERRNO_SRC, f"errno {name}: {why}"))
    for name, (cat, conf, why) in _E.items()
    if hasattr(_errno, name)
}
# getaddrinfo failures ([Errno -2] Name or service not known, -3 Temporary failure, -5, 8, 11001):
# https://man7.org/linux/man-pages/man3/getaddrinfo.3.html (EAI_NONAME, EAI_AGAIN, EAI_NODATA)
GAI = "https://man7.org/linux/man-pages/man3/getaddrinfo.3.html"
# EAI_AGAIN: "temporary failure in name resolution" (retry); EAI_NONAME: the name is not known
# (a wrong or retired host name: a person fixes the address).
DNS = Verdict(C.INFRA_NETWORK, 0.9, GAI, "a temporary failure in name resolution (EAI_AGAIN)")
DNS_UNKNOWN = Verdict(
    C.INFRA_NETWORK, 0.85, GAI, "the host name is not known (EAI_NONAME): check the address", Remediation.ESCALATE
)
_ERRNO = re.compile(
    r"\[Errno (?P<n>-?\d+)\]|\berrno[ =:]+(?P<m>-?\d+)|\b(?P<name>E(?:ACCES|PERM|ROFS|NOSPC|DQUOT|NOMEM|MFILE|NFILE|CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|HOSTUNREACH|NETUNREACH|PIPE))\b"
)
_DNS_AGAIN = re.compile(r"\[Errno (?:-3|11002)\]|Temporary failure in name resolution|EAI_AGAIN", re.I)
_DNS_NONAME = re.compile(
    r"\[Errno (?:-2|-5|8|11001)\] (?:Name or service not known|No address associated|nodename nor servname|getaddrinfo failed)|"
    r"Name or service not known|nodename nor servname provided, or not known|EAI_NONAME",
    re.I,
)
# The C library's own texts for the errno values above (os.strerror), printed by shells and
# tools without a number ("mkdir: cannot create directory 'x': Permission denied").
_STRERROR = {os.strerror(number): number for number in ERRNO}
_STRERROR_RE = re.compile("|".join(re.escape(text) for text in sorted(_STRERROR, key=len, reverse=True)))


def errno_verdict(message: str) -> tuple[str, Verdict] | None:
    """(errno name, verdict) of the first errno the message shows; ENOENT is left to the caller
    (a missing file is an input, a config file or an executable: where it is read decides)."""
    text = message[:4000]
    if _DNS_AGAIN.search(text):
        return "EAI_AGAIN", DNS
    if _DNS_NONAME.search(text):
        return "EAI_NONAME", DNS_UNKNOWN
    for match in _ERRNO.finditer(text):
        if match["name"]:
            number = getattr(_errno, match["name"], None)
        else:
            number = int(match["n"] or match["m"])
        if number in ERRNO:
            return ERRNO[number]
    named = _STRERROR_RE.search(text)
    return ERRNO[_STRERROR[named.group(0)]] if named else None


# --- AWS error codes (botocore ClientError: "An error occurred (Code) when calling the X operation")
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList,
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
AWS_SRC = "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList; https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html"
_AWS = {
    **dict.fromkeys(
        "AccessDenied AccessDeniedException UnauthorizedOperation UnauthorizedAccess InvalidAccessKeyId "
        "SignatureDoesNotMatch ExpiredToken ExpiredTokenException InvalidClientTokenId UnrecognizedClientException "
        "AuthFailure InvalidToken MissingAuthenticationToken AllAccessDisabled IncompleteSignature "
        "NotAuthorized InvalidSignatureException".split(),
        (C.INFRA_AUTH, 0.9, "AWS refused the credentials"),
    ),
    **dict.fromkeys(
        "Throttling ThrottlingException ThrottledException SlowDown RequestLimitExceeded TooManyRequestsException "
        "ProvisionedThroughputExceededException RequestThrottled RequestThrottledException ServiceUnavailable "
        "ServiceUnavailableException InternalError InternalFailure InternalServerError RequestTimeout "
        "RequestTimeoutException LimitExceededException".split(),
        (C.INFRA_NETWORK, 0.85, "AWS throttled or failed transiently"),
    ),
    **dict.fromkeys(
        "NoSuchKey 404 NotFound NoSuchUpload".split(), (C.UPSTREAM_FAILED, 0.8, "the S3 object does not exist")
    ),
    **dict.fromkeys(
        "NoSuchBucket InvalidBucketName NoSuchEntity NoSuchEntityException".split(),
        (C.CONFIG_MISSING, 0.7, "the bucket or entity named in the configuration does not exist"),
    ),
    **dict.fromkeys(
        "EntityNotFoundException ResourceNotFoundException".split(),
        (C.SCHEMA_MISSING_RELATION, 0.6, "the Glue/Athena table or resource does not exist"),
    ),
    **dict.fromkeys(
        "ValidationException InvalidParameterValue InvalidParameterException InvalidRequestException "
        "MalformedPolicyDocument".split(),
        (C.CODE_ERROR, 0.55, "the request's parameters are invalid"),
    ),
}
AWS: dict[str, Verdict] = {
    code: Verdict(cat, conf, AWS_SRC, f"AWS {code}: {why}") for code, (cat, conf, why) in _AWS.items()
}
_AWS_CODE = re.compile(
    r"An error occurred \((?P<code>[\w.]+)\) when calling|<Code>(?P<xml>\w+)</Code>|\berror[_ ]?code['\"]?[:=]\s*['\"]?(?P<kv>[A-Z]\w+)"
)


def aws_verdict(message: str) -> tuple[str, Verdict] | None:
    match = _AWS_CODE.search(message[:4000])
    if not match:
        return None
    code = match["code"] or match["xml"] or match["kv"]
    return (code, AWS[code]) if code in AWS else None


# --- signals and exit codes ------------------------------------------------------------------
# signal(7): https://man7.org/linux/man-pages/man7/signal.7.html; a shell reports 128+N for a
# process killed by signal N (https://tldp.org/LDP/abs/html/exitcodes.html); Python's subprocess
# reports -N. SIGKILL without a timeout is nearly always the kernel's or the container's OOM
# killer (https://kubernetes.io/docs/tasks/configure-pod-container/assign-memory-resource/).
SIGNALS_SRC = "https://man7.org/linux/man-pages/man7/signal.7.html; https://tldp.org/LDP/abs/html/exitcodes.html"
_EXIT = re.compile(
    r"(?:return code|returncode|exit code|exit status|exited with(?: code| status)?|exitcode|status code)[\s:=(]+(?:Negsignal\.)?(?P<code>-?\d+|SIG[A-Z]+)"
    r"|\bsignal[\s:=]+(?P<sig>-?\d+|SIG[A-Z]+)|\b(?:Negsignal|Signals)\.(?P<name>SIG[A-Z]+)",
    re.I,
)
SIGNAL_VERDICTS = {
    "SIGKILL": Verdict(C.INFRA_RESOURCE, 0.9, SIGNALS_SRC, "killed by SIGKILL (usually the out-of-memory killer)"),
    "SIGTERM": Verdict(
        C.INFRA_RESOURCE, 0.6, SIGNALS_SRC, "terminated by SIGTERM from outside (eviction, kill, shutdown)"
    ),
    # Airflow's supervisor prints its own diagnosis with SIGSEGV: a native library built for
    # another architecture or OS (airflow/sdk/execution_time/supervisor.py, SIGSEGV_MESSAGE).
    "SIGSEGV": Verdict(
        C.DEPENDENCY_MISSING,
        0.5,
        f"{SIGNALS_SRC}; https://github.com/apache/airflow/blob/main/task-sdk/src/airflow/sdk/execution_time/supervisor.py (SIGSEGV_MESSAGE)",
        "crashed with SIGSEGV in native code: a C library that does not fit the image's architecture or OS",
        Remediation.ESCALATE,
    ),
    "SIGBUS": Verdict(C.INFRA_RESOURCE, 0.6, SIGNALS_SRC, "SIGBUS (often an exhausted /dev/shm)"),
}
_BY_NUMBER = {9: "SIGKILL", 15: "SIGTERM", 11: "SIGSEGV", 7: "SIGBUS"}


def signal_verdict(message: str) -> tuple[str, Verdict] | None:
    for match in _EXIT.finditer(message[:4000]):
        raw = (match["code"] or match["sig"] or match["name"]).upper()
        if raw.startswith("SIG"):
            name = raw
        else:
            number = int(raw)
            name = (
                _BY_NUMBER.get(-number)
                if number < 0
                else _BY_NUMBER.get(number - 128)
                if number > 128
                else (_BY_NUMBER.get(number) if match["sig"] else None)
            )
        if name in SIGNAL_VERDICTS:
            return name, SIGNAL_VERDICTS[name]
    return None


# --- gRPC status codes (Databricks SQL, BigQuery Storage, Spark Connect):
# https://grpc.github.io/grpc/core/md_doc_statuscodes.html
GRPC_SRC = "https://grpc.github.io/grpc/core/md_doc_statuscodes.html"
GRPC: dict[str, Verdict] = {
    "DEADLINE_EXCEEDED": Verdict(C.INFRA_TIMEOUT, 0.85, GRPC_SRC, "gRPC DEADLINE_EXCEEDED: the call ran out of time"),
    "UNAVAILABLE": Verdict(C.INFRA_NETWORK, 0.85, GRPC_SRC, "gRPC UNAVAILABLE: the service is unavailable (transient)"),
    "PERMISSION_DENIED": Verdict(C.INFRA_AUTH, 0.9, GRPC_SRC, "gRPC PERMISSION_DENIED"),
    "UNAUTHENTICATED": Verdict(C.INFRA_AUTH, 0.9, GRPC_SRC, "gRPC UNAUTHENTICATED"),
    "RESOURCE_EXHAUSTED": Verdict(C.INFRA_NETWORK, 0.75, GRPC_SRC, "gRPC RESOURCE_EXHAUSTED: quota or rate limit"),
    "ABORTED": Verdict(C.INFRA_NETWORK, 0.6, GRPC_SRC, "gRPC ABORTED: a concurrency conflict (re-run)"),
}
_GRPC = re.compile(r"(?:StatusCode\.|\b)(" + "|".join(GRPC) + r")\b(?![a-z])")


def grpc_verdict(message: str) -> tuple[str, Verdict] | None:
    match = _GRPC.search(message[:4000])
    return (match.group(1), GRPC[match.group(1)]) if match else None


# --- MySQL / MariaDB server and client error numbers ("(1146, \"Table 'x' doesn't exist\")"):
# https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html,
# https://dev.mysql.com/doc/mysql-errors/8.0/en/client-error-reference.html; 1969 is MariaDB's
# (https://mariadb.com/kb/en/mariadb-error-code-reference/). catalogs/server_messages.py reads the
# same numbers from their message texts when a client prints no number.
MYSQL_SRC = "https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html"
_MY = {
    # the account lacks a grant, or the server refuses the account or its host: a person grants it
    1044: (C.INFRA_AUTH, "access denied to the database"),
    1045: (C.INFRA_AUTH, "access denied for the user"),
    1142: (C.INFRA_AUTH, "command denied on the table"),
    1143: (C.INFRA_AUTH, "command denied on a column"),
    1370: (C.INFRA_AUTH, "command denied on a routine"),
    1227: (C.INFRA_AUTH, "the operation needs a privilege the account lacks"),
    1130: (C.INFRA_AUTH, "the host is not allowed to connect"),
    # the connection names a database that is not there, or none: the connection's settings
    1049: (C.CONFIG_MISSING, "unknown database"),
    1046: (C.CONFIG_MISSING, "no database selected"),
    # the statement names a column, table or routine the schema does not have
    1054: (C.SCHEMA_MISSING_COLUMN, "unknown column"),
    1146: (C.SCHEMA_MISSING_RELATION, "table doesn't exist"),
    1051: (C.SCHEMA_MISSING_RELATION, "unknown table"),
    1109: (C.SCHEMA_MISSING_RELATION, "unknown table in the statement"),
    1305: (C.SCHEMA_MISSING_RELATION, "the function or procedure does not exist"),
    # well-formed rows a constraint of the table refuses
    1062: (C.DATA_QUALITY, "duplicate entry for a unique key"),
    1048: (C.DATA_QUALITY, "column cannot be null"),
    1364: (C.DATA_QUALITY, "a NOT NULL field without default got no value"),
    1452: (C.DATA_QUALITY, "foreign key constraint fails"),
    1451: (C.DATA_QUALITY, "a parent row is still referenced by a foreign key"),
    # the statement itself is wrong: the pipeline's SQL changes
    1064: (C.CODE_ERROR, "SQL syntax error"),
    1136: (C.CODE_ERROR, "the column count does not match the value count"),
    1052: (C.CODE_ERROR, "an ambiguous column"),
    1055: (C.CODE_ERROR, "a non-aggregated column outside GROUP BY (ONLY_FULL_GROUP_BY)"),
    1060: (C.CODE_ERROR, "a duplicate column name"),
    1050: (C.CODE_ERROR, "the table already exists"),
    2014: (C.CODE_ERROR, "commands out of sync (a result left unread)"),
    # a value of the data does not fit the column's type, length or range
    1366: (C.DATA_TYPE_MISMATCH, "incorrect value for the column's type"),
    1406: (C.DATA_TYPE_MISMATCH, "data too long"),
    1264: (C.DATA_TYPE_MISMATCH, "value out of range"),
    1265: (C.DATA_TYPE_MISMATCH, "data truncated for the column"),
    1292: (C.DATA_TYPE_MISMATCH, "incorrect datetime value"),
    1411: (C.DATA_TYPE_MISMATCH, "incorrect value for a function"),
    1690: (C.DATA_TYPE_MISMATCH, "a value out of its type's range"),
    # the input bytes are no valid JSON
    3140: (C.DATA_MALFORMED, "invalid JSON text"),
    # lock contention or the statement's time limit: re-run
    1205: (C.INFRA_TIMEOUT, "lock wait timeout exceeded"),
    3024: (C.INFRA_TIMEOUT, "maximum statement execution time exceeded"),
    1969: (C.INFRA_TIMEOUT, "MariaDB max_statement_time exceeded"),
    1213: (C.INFRA_TIMEOUT, "deadlock found (lock contention, like 1205: re-run)"),
    # the server's connections, memory, disk or lock table are used up
    1040: (C.INFRA_RESOURCE, "too many connections (the server's connection slots, like PostgreSQL's 53300)"),
    1203: (C.INFRA_RESOURCE, "the user's max_user_connections are used up"),
    1226: (C.INFRA_RESOURCE, "the user exceeded a resource limit"),
    1114: (C.INFRA_RESOURCE, "the table is full"),
    1021: (C.INFRA_RESOURCE, "disk full"),
    1037: (C.INFRA_RESOURCE, "out of memory"),
    1038: (C.INFRA_RESOURCE, "out of sort memory"),
    1041: (C.INFRA_RESOURCE, "out of memory (resources)"),
    1206: (C.INFRA_RESOURCE, "the number of locks exceeds the lock table size"),
    # the server or the path to it failed (transient)
    2002: (C.INFRA_NETWORK, "can't connect through the socket"),
    2003: (C.INFRA_NETWORK, "can't connect to the server"),
    2005: (C.INFRA_NETWORK, "unknown server host"),
    2006: (C.INFRA_NETWORK, "server has gone away"),
    2013: (C.INFRA_NETWORK, "lost connection during query"),
    2055: (C.INFRA_NETWORK, "lost connection (system error)"),
    1053: (C.INFRA_NETWORK, "server shutdown in progress"),
    1927: (C.INFRA_NETWORK, "the connection was killed"),
    1158: (C.INFRA_NETWORK, "error reading communication packets"),
    1159: (C.INFRA_NETWORK, "timeout reading communication packets"),
    1160: (C.INFRA_NETWORK, "error writing communication packets"),
    1161: (C.INFRA_NETWORK, "timeout writing communication packets"),
    4031: (C.INFRA_NETWORK, "the server closed the idle connection (wait_timeout)"),
    # a server or client setting forbids the statement: the connection's or server's configuration
    1153: (C.CONFIG_MISSING, "a packet is bigger than max_allowed_packet"),
    1290: (C.CONFIG_MISSING, "a server option (read-only, secure-file-priv) forbids the statement"),
    1148: (C.CONFIG_MISSING, "the command is not allowed (local_infile disabled)"),
    3948: (C.CONFIG_MISSING, "loading local data is disabled on the client or the server"),
}


K = TypeVar("K", int, str)


def _vendor_table(rows: dict[K, tuple[C, str]], source: str, label: str) -> dict[K, Verdict]:
    """A vendor's numbered errors -> verdicts citing the vendor's reference ("MySQL error 1054: ...")."""
    return {n: Verdict(cat, 0.9, source, f"{label.format(n)}: {why}") for n, (cat, why) in rows.items()}


MYSQL: dict[int, Verdict] = _vendor_table(_MY, MYSQL_SRC, "MySQL error {}")
# mysqlclient/PyMySQL "(1146, '...')", the mysql client "ERROR 1146 (42S02)", mysql-connector-python
# "1146 (42S02): ...", go-sql-driver "Error 1146 (42S02): ..." / "Error 1146: ..."
_MYSQL = re.compile(
    r"\((?P<a>[1-4]\d{3}), [\"']|\bERROR (?P<b>[1-4]\d{3}) \(|\bMySQL error (?P<c>[1-4]\d{3})\b"
    r"|(?<![\w.-])(?P<d>[1-4]\d{3}) \([0-9A-Z]{5}\): |\bError (?P<e>[1-4]\d{3})(?: \([0-9A-Z]{5}\))?: "
)


def mysql_number(text: str) -> int | None:
    """The MySQL error number a client printed beside its message, if any."""
    match = _MYSQL.search(text[:4000])
    return int(next(g for g in match.groups() if g)) if match else None


# --- Oracle ORA- codes: https://docs.oracle.com/en/error-help/db/
ORACLE_SRC = "https://docs.oracle.com/en/error-help/db/"
_ORA = {
    "00942": (C.SCHEMA_MISSING_RELATION, "table or view does not exist"),
    "00904": (C.SCHEMA_MISSING_COLUMN, "invalid identifier"),
    "01017": (C.INFRA_AUTH, "invalid username/password"),
    "28000": (C.INFRA_AUTH, "the account is locked"),
    "01031": (C.INFRA_AUTH, "insufficient privileges"),
    "00001": (C.DATA_QUALITY, "unique constraint violated"),
    "01400": (C.DATA_QUALITY, "cannot insert NULL"),
    "01722": (C.DATA_TYPE_MISMATCH, "invalid number"),
    "01843": (C.DATA_TYPE_MISMATCH, "not a valid month"),
    "12899": (C.DATA_TYPE_MISMATCH, "value too large for column"),
    "01403": (C.DATA_EMPTY, "no data found"),
    "00900": (C.CODE_ERROR, "invalid SQL statement"),
    "00933": (C.CODE_ERROR, "SQL command not properly ended"),
    "12541": (C.INFRA_NETWORK, "no listener"),
    "12170": (C.INFRA_NETWORK, "connect timeout"),
    "03113": (C.INFRA_NETWORK, "end-of-file on communication channel"),
    "12154": (C.CONFIG_MISSING, "could not resolve the connect identifier"),
    "01652": (C.INFRA_RESOURCE, "unable to extend temp segment"),
    "04031": (C.INFRA_RESOURCE, "unable to allocate shared memory"),
    "01013": (C.INFRA_TIMEOUT, "user requested cancel (call timeout)"),
}
ORACLE: dict[str, Verdict] = _vendor_table(_ORA, ORACLE_SRC, "ORA-{}")
_ORACLE = re.compile(r"\bORA-(\d{5})\b")


# --- Redshift: COPY's load error codes (STL_LOAD_ERRORS, printed as "code: 1207" in the error's
#     DETAIL block), https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html;
#     1023 is the serializable isolation violation of two concurrent writers
#     (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html) ------------------
REDSHIFT_SRC = "https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html"
_RS = {
    1200: (C.DATA_MALFORMED, "unknown parse error"),
    1201: (C.DATA_MALFORMED, "field delimiter not found in the input file"),
    1202: (C.DATA_MALFORMED, "the input row has more columns than the table"),
    1203: (C.DATA_MALFORMED, "the input row has fewer columns than the table"),
    1204: (C.DATA_TYPE_MISMATCH, "a value exceeds the column type's range or length"),
    1205: (C.DATA_TYPE_MISMATCH, "a date is not in the expected format"),
    1206: (C.DATA_TYPE_MISMATCH, "a timestamp is not in the expected format"),
    1207: (C.DATA_TYPE_MISMATCH, "a value holds a character outside 0-9 for a numeric column (invalid digit)"),
    1208: (C.DATA_TYPE_MISMATCH, "a FLOAT value is malformed"),
    1209: (C.DATA_TYPE_MISMATCH, "a DECIMAL value is malformed"),
    1210: (C.DATA_TYPE_MISMATCH, "a BOOLEAN value is malformed"),
    1211: (C.DATA_MALFORMED, "an input line holds no data"),
    1212: (C.UPSTREAM_FAILED, "the load file was not found"),
    1213: (C.DATA_QUALITY, "a NOT NULL field holds no data"),
    1214: (C.DATA_MALFORMED, "a delimiter was not found"),
    1215: (C.DATA_TYPE_MISMATCH, "a CHAR field is malformed"),
    1216: (C.DATA_MALFORMED, "an invalid input line"),
    1217: (C.DATA_TYPE_MISMATCH, "an invalid identity column value"),
    1219: (C.DATA_MALFORMED, "an invalid UTF-8 hexadecimal digit"),
    1220: (C.DATA_MALFORMED, "invalid UTF-8 characters"),
    1221: (C.DATA_MALFORMED, "the file's encoding is not the one COPY was given"),
}
REDSHIFT: dict[int, Verdict] = _vendor_table(_RS, REDSHIFT_SRC, "Redshift load error {}")
REDSHIFT[1023] = Verdict(
    C.INFRA_TIMEOUT,
    0.85,
    "https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html",
    "Redshift error 1023: a serializable isolation violation, two writers at once (re-run)",
    Remediation.RETRY,
)
_REDSHIFT = re.compile(r"\bcode:\s+(12[0-2]\d)\b|\bSerializable isolation violation\b|['\"]M['\"]: ['\"](1023)['\"]")


def vendor_verdict(message: str) -> tuple[str, Verdict] | None:
    """A MySQL error number, an Oracle ORA- code or a Redshift load error code the driver printed."""
    text = message[:4000]
    redshift = _REDSHIFT.search(text)
    if redshift:
        number = int(next((g for g in redshift.groups() if g), "1023"))
        if number in REDSHIFT:
            return f"Redshift {number}", REDSHIFT[number]
    oracle = _ORACLE.search(text)
    if oracle and oracle.group(1) in ORACLE:
        return f"ORA-{oracle.group(1)}", ORACLE[oracle.group(1)]
    mysql = mysql_number(text)
    if mysql is not None and mysql in MYSQL:
        return f"MySQL {mysql}", MYSQL[mysql]
    return None
