"""ClickHouse server error codes -> category, from the engine's own table.

Source: src/Common/ErrorCodes.cpp (https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp),
where every code has a number and a name (`M(60, UNKNOWN_TABLE)`). The server prints both,
`Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version ...)`; servers
before 21.x print `Code: 60, e.displayText() = DB::Exception: ...` without the name. Clients
pass that text on: clickhouse-driver `ServerException: Code: 60.\\nDB::Exception: ...`,
clickhouse-connect `DatabaseError: HTTPDriver for <url> received ClickHouse error code 60\\n Code: 60. ...`
(clickhouse_connect/driver/httpclient.py), the legacy JDBC driver `ClickHouse exception, code: 1002,
host: ...; Code: 159. ...`, clickhouse-go `code: 241, message: ...`, go-clickhouse
`DB::Exception: Unknown setting 'x' (115)` and the Rust client `DB::Exception (115): ...`.
The name in parentheses is read first, then the number. Only codes of this table count: one left
out (S3_ERROR, POCO_EXCEPTION, LOGICAL_ERROR, ...) says too little, and other facts decide.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = "https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp"


def _group(
    codes: str, category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.9
) -> dict[str, tuple[int, Verdict]]:
    """`codes`: "60:UNKNOWN_TABLE 81:UNKNOWN_DATABASE ...", one verdict for all of them."""
    pairs = (code.split(":") for code in codes.split())
    return {
        name: (int(number), Verdict(category, confidence, SOURCE, f"ClickHouse {name} ({number}): {why}", remediation))
        for number, name in pairs
    }


_TABLE: dict[str, tuple[int, Verdict]] = {
    # the query names a table, database or dictionary that is not there
    **_group(
        "60:UNKNOWN_TABLE 81:UNKNOWN_DATABASE 218:TABLE_IS_DROPPED 488:UNKNOWN_DICTIONARY",
        C.SCHEMA_MISSING_RELATION,
        "the relation does not exist",
    ),
    # `Missing columns: 'x' while processing query`, `Unknown expression identifier`
    **_group(
        "47:UNKNOWN_IDENTIFIER 16:NO_SUCH_COLUMN_IN_TABLE 8:THERE_IS_NO_COLUMN 10:NOT_FOUND_COLUMN_IN_BLOCK",
        C.SCHEMA_MISSING_COLUMN,
        "a referenced column does not exist",
    ),
    # the statement itself is wrong: the pipeline's SQL has to change
    **_group(
        "62:SYNTAX_ERROR 46:UNKNOWN_FUNCTION 63:UNKNOWN_AGGREGATE_FUNCTION 42:NUMBER_OF_ARGUMENTS_DOESNT_MATCH "
        "34:TOO_MANY_ARGUMENTS_FOR_FUNCTION 35:TOO_FEW_ARGUMENTS_FOR_FUNCTION 43:ILLEGAL_TYPE_OF_ARGUMENT "
        "44:ILLEGAL_COLUMN 50:UNKNOWN_TYPE 53:TYPE_MISMATCH 386:NO_COMMON_TYPE 184:ILLEGAL_AGGREGATION "
        "215:NOT_AN_AGGREGATE 174:CYCLIC_ALIASES 179:MULTIPLE_EXPRESSIONS_FOR_ALIAS 207:AMBIGUOUS_IDENTIFIER "
        "352:AMBIGUOUS_COLUMN_NAME 15:DUPLICATE_COLUMN 20:NUMBER_OF_COLUMNS_DOESNT_MATCH 57:TABLE_ALREADY_EXISTS "
        "82:DATABASE_ALREADY_EXISTS 56:UNKNOWN_STORAGE 73:UNKNOWN_FORMAT 80:INCORRECT_QUERY 181:ILLEGAL_FINAL "
        "403:INVALID_JOIN_ON_EXPRESSION 456:UNKNOWN_QUERY_PARAMETER 457:BAD_QUERY_PARAMETER",
        C.CODE_ERROR,
        "the statement is invalid",
        confidence=0.85,
    ),
    # BAD_ARGUMENTS is also raised for settings and table-function arguments: weaker
    **_group("36:BAD_ARGUMENTS", C.CODE_ERROR, "an argument the statement passes is invalid", confidence=0.7),
    # the input bytes do not follow their format (CSV/TSV/JSON rows, escapes); not the EOF codes
    # (32, 33), which a connection closed mid-read raises as well
    **_group(
        "27:CANNOT_PARSE_INPUT_ASSERTION_FAILED 117:INCORRECT_DATA 25:CANNOT_PARSE_ESCAPE_SEQUENCE "
        "26:CANNOT_PARSE_QUOTED_STRING 130:CANNOT_READ_ARRAY_FROM_TEXT 563:CANNOT_READ_MAP_FROM_TEXT",
        C.DATA_MALFORMED,
        "the input data cannot be parsed in its format",
        confidence=0.85,
    ),
    # a value cannot be read or stored as the column's type
    **_group(
        "6:CANNOT_PARSE_TEXT 72:CANNOT_PARSE_NUMBER 38:CANNOT_PARSE_DATE 41:CANNOT_PARSE_DATETIME "
        "376:CANNOT_PARSE_UUID 467:CANNOT_PARSE_BOOL 675:CANNOT_PARSE_IPV4 676:CANNOT_PARSE_IPV6 "
        "441:CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING 632:UNEXPECTED_DATA_AFTER_PARSED_VALUE 70:CANNOT_CONVERT_TYPE "
        "321:VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE 407:DECIMAL_OVERFLOW 691:UNKNOWN_ELEMENT_OF_ENUM "
        "349:CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
        C.DATA_TYPE_MISMATCH,
        "a value does not fit the expected type",
        confidence=0.85,
    ),
    # a CONSTRAINT, a throwIf() check or a scalar subquery's one-row promise failed on the data
    **_group(
        "469:VIOLATED_CONSTRAINT 395:FUNCTION_THROW_IF_VALUE_IS_NON_ZERO 125:INCORRECT_RESULT_OF_SCALAR_SUBQUERY",
        C.DATA_QUALITY,
        "a check on the data failed",
        confidence=0.8,
    ),
    **_group("92:EMPTY_DATA_PASSED 108:NO_DATA_TO_INSERT", C.DATA_EMPTY, "there was no data", confidence=0.8),
    # credentials refused or privileges missing
    **_group(
        "516:AUTHENTICATION_FAILED 192:UNKNOWN_USER 193:WRONG_PASSWORD 195:IP_ADDRESS_NOT_ALLOWED 497:ACCESS_DENIED "
        "291:DATABASE_ACCESS_DENIED 482:DICTIONARY_ACCESS_DENIED 481:PATH_ACCESS_DENIED 164:READONLY "
        "512:SET_NON_GRANTED_ROLE",
        C.INFRA_AUTH,
        "the user is not authenticated or lacks the privilege",
    ),
    # the connection lacks a credential or points at the wrong endpoint; a cluster, disk, storage
    # policy, named collection or settings profile the statement names is not configured; a
    # setting is unknown to this server, out of its constraints or read-only
    **_group(
        "194:REQUIRED_PASSWORD 217:CLIENT_HAS_CONNECTED_TO_WRONG_PORT 701:CLUSTER_DOESNT_EXIST 479:UNKNOWN_DISK "
        "478:UNKNOWN_POLICY 669:NAMED_COLLECTION_DOESNT_EXIST 180:THERE_IS_NO_PROFILE 511:UNKNOWN_ROLE "
        "115:UNKNOWN_SETTING 452:SETTING_CONSTRAINT_VIOLATION 472:READONLY_SETTING 344:SUPPORT_IS_DISABLED",
        C.CONFIG_MISSING,
        "a connection or server setting is missing or wrong",
        confidence=0.85,
    ),
    # replicas, shards, Keeper or the network between them failed: transient
    **_group(
        "210:NETWORK_ERROR 209:SOCKET_TIMEOUT 198:DNS_ERROR 279:ALL_CONNECTION_TRIES_FAILED 203:NO_FREE_CONNECTION "
        "519:NO_REMOTE_SHARD_AVAILABLE 265:NO_AVAILABLE_REPLICA 285:TOO_FEW_LIVE_REPLICAS 254:NO_ACTIVE_REPLICAS "
        "225:NO_ZOOKEEPER 242:TABLE_IS_READ_ONLY 319:UNKNOWN_STATUS_OF_INSERT 286:UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE "
        "410:EXTERNAL_SERVER_IS_NOT_RESPONDING 364:RECEIVED_ERROR_TOO_MANY_REQUESTS 614:POSTGRESQL_CONNECTION_FAILURE",
        C.INFRA_NETWORK,
        "a server, replica or Keeper could not be reached (transient)",
        Remediation.RETRY,
        confidence=0.85,
    ),
    # Keeper errors are mostly connection loss and expired sessions
    **_group(
        "999:KEEPER_EXCEPTION", C.INFRA_NETWORK, "a ClickHouse Keeper/ZooKeeper request failed", Remediation.RETRY, 0.6
    ),
    # max_execution_time and the distributed DDL timeout; a concurrent session or lock
    **_group(
        "159:TIMEOUT_EXCEEDED 160:TOO_SLOW 379:UNKNOWN_STATUS_OF_DISTRIBUTED_DDL_TASK",
        C.INFRA_TIMEOUT,
        "the statement ran past its time limit",
    ),
    **_group(
        "373:SESSION_IS_LOCKED 473:DEADLOCK_AVOIDED",
        C.INFRA_TIMEOUT,
        "a concurrent query holds the session or lock; the server asks to retry",
        Remediation.RETRY,
        confidence=0.8,
    ),
    # memory, disk, quotas and the per-query limits of the user's profile
    **_group(
        "241:MEMORY_LIMIT_EXCEEDED 173:CANNOT_ALLOCATE_MEMORY 243:NOT_ENOUGH_SPACE 252:TOO_MANY_PARTS "
        "201:QUOTA_EXPIRED 158:TOO_MANY_ROWS 307:TOO_MANY_BYTES 396:TOO_MANY_ROWS_OR_BYTES 290:LIMIT_EXCEEDED "
        "191:SET_SIZE_LIMIT_EXCEEDED",
        C.INFRA_RESOURCE,
        "the query exceeded a memory, disk, quota or size limit",
    ),
    # the server is saturated right now: waiting frees the slots
    **_group(
        "202:TOO_MANY_SIMULTANEOUS_QUERIES 439:CANNOT_SCHEDULE_TASK 574:DISTRIBUTED_TOO_MANY_PENDING_BYTES",
        C.INFRA_RESOURCE,
        "the server is out of query slots or threads",
        Remediation.RETRY,
        confidence=0.85,
    ),
}

CODES: dict[str, Verdict] = {name: verdict for name, (_number, verdict) in _TABLE.items()}
NAMES: dict[int, str] = {number: name for name, (number, _verdict) in _TABLE.items()}

# the engine's own marks: its exception classes (DB::Exception, DB::NetException, DB::ParsingException),
# the clients' module and class names, the old HTTP format
_CLICKHOUSE = re.compile(r"\b(?:DB|Coordination)::\w*Exception\b|clickhouse|e\.displayText\(\)", re.I)
_NAME = re.compile(r"\(([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)\)")
_NUMBER = re.compile(
    r"\bCode: (?P<a>\d{1,4})[.,]"  # the server, clickhouse-client, clickhouse-driver, JDBC
    r"|\bClickHouse error code (?P<b>\d{1,4})\b"  # clickhouse-connect
    r"|\bcode: (?P<c>\d{1,4}), (?:message|host):"  # clickhouse-go, the legacy JDBC driver's prefix
    r"|X-ClickHouse-Exception-Code: (?P<d>\d{1,4})\b"  # the HTTP interface's header
    r"|\bDB::Exception \((?P<e>\d{1,4})\):"  # the Rust client
)
# Go clients put the number last: `DB::Exception: <message> (115)`
_LAST = re.compile(r"\bDB::\w*Exception: [^\n]*\((\d{1,4})\)[ \t]*(?:$|['\"])", re.M)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first ClickHouse error of this table an error that is ClickHouse's prints: the name in
    parentheses, else the number."""
    text = f"{type_name}: {message[:4000]}"
    if not _CLICKHOUSE.search(text):
        return None
    for name in _NAME.findall(text):
        if name in CODES:
            return name, CODES[name]
    numbers = [next(group for group in match.groups() if group) for match in _NUMBER.finditer(text)]
    for number in numbers or _LAST.findall(text):
        name = NAMES.get(int(number))
        if name:
            return name, CODES[name]
    return None
