"""ClickHouse error codes (catalogs/clickhouse.py): messages as ClickHouse's clients printed them in
public threads, one or more for each group of the table, look-alikes of other engines that must
not be read as ClickHouse's, and the table against the taxonomy."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import clickhouse
from patchit_testing import triage_text

# (source, output as posted, category, remediation)
POSTED = [
    # --- schema.missing_relation ------------------------------------------------------------------
    (
        "https://github.com/PostHog/charts-clickhouse/issues/455",
        "infi.clickhouse_orm.database.ServerError: Code: 60. DB::Exception: Table "
        "posthog.infi_clickhouse_orm_migrations doesn't exist. (UNKNOWN_TABLE) (version 22.3.7.28 (official build))",
        "schema.missing_relation",
        "escalate",
    ),
    (
        # clickhouse-driver prints the number only
        "https://github.com/mymarilyn/clickhouse-driver/issues/308",
        "<class 'clickhouse_driver.errors.ServerException'> Code: 81.\nDB::Exception: Database qt doesn't exist",
        "schema.missing_relation",
        "escalate",
    ),
    (
        # a server before 21.x: `Code: N, e.displayText() = ...`, no name
        "https://github.com/kszucs/pandahouse/issues/35",
        'pandahouse.http.ClickhouseException: b"Code: 60, e.displayText() = DB::Exception: Table default.sales_all '
        "doesn't exist. (version 20.8.3.18)\\n\"",
        "schema.missing_relation",
        "escalate",
    ),
    # --- schema.missing_column --------------------------------------------------------------------
    (
        "https://github.com/getsentry/snuba/issues/6154",
        "clickhouse_driver.errors.ServerException: Code: 47.\nDB::Exception: Missing columns: 'error_id' "
        "'click_is_rage' 'fatal_id' 'info_id' 'debug_id' 'warning_id' 'click_is_dead' while processing query: "
        "'SELECT project_id, toStartOfHour(timestamp) AS to_hour_timestamp, replay_id, retention_days'",
        "schema.missing_column",
        "escalate",
    ),
    (
        "https://github.com/ClickHouse/ClickHouse/issues/56653",
        "Received exception from server (version 23.10.1):\nCode: 47. DB::Exception: Received from "
        "p12uiq1ogd.us-east-2.aws.clickhouse-staging.com:9440. DB::Exception: Missing columns: 'pull_request_number' "
        "'name' 'dur' 'date' 'check_name' while processing query: 'SELECT check_name, count(), sum(dur) AS t WHERE "
        "(name = 'ExecuteCompiler') AND (date = yesterday()) AND (pull_request_number = 0) GROUP BY check_name ORDER "
        "BY t DESC', required columns: 'check_name' 'date' 'dur' 'name' 'pull_request_number'. (UNKNOWN_IDENTIFIER)",
        "schema.missing_column",
        "escalate",
    ),
    # --- code.error -------------------------------------------------------------------------------
    (
        # clickhouse-connect: the number from the X-ClickHouse-Exception-Code header, then the body
        "https://github.com/bakwc/mysql_ch_replicator/issues/87",
        "error HTTPDriver for http://clickhouse:8123 received ClickHouse error code 62\n Code: 62. DB::Exception: "
        "Syntax error: failed at position 12 ('-'): -data. Expected end of query. (SYNTAX_ERROR) "
        "(version 24.8.12.28 (official build))",
        "code.error",
        "patch",
    ),
    # --- data.malformed ---------------------------------------------------------------------------
    (
        "https://github.com/ClickHouse/clickhouse-docs/pull/1402",
        "Received exception from server (version 23.7.1):\nCode: 27. DB::Exception: Received from localhost:9000. "
        "DB::ParsingException. DB::ParsingException: Cannot parse input: expected '\\n' before: "
        "'Stevie\\n2\\t396232\\tVarious/lyricist\\n3\\t376687\\tGitano 1\\n': \nRow 1:\n"
        'Column 0,   name: actor_id, type: DateTime, parsed text: "2"\n'
        'Column 1,   name: movie_id, type: UInt32,   parsed text: "280088"\n'
        'Column 2,   name: role,     type: UInt32,   ERROR: text "Stevie<LINE FEED>2<TAB>3" is not like UInt32\n\n'
        ": While executing TabSeparatedRowInputFormat: While executing S3: (at row 1)\n. "
        "(CANNOT_PARSE_INPUT_ASSERTION_FAILED)",
        "data.malformed",
        "escalate",
    ),
    # --- data.type_mismatch -----------------------------------------------------------------------
    (
        "https://github.com/maximdanilchenko/aiochclient/issues/119",
        "aiochclient.exceptions.ChClientError: Code: 6. DB::Exception: Cannot parse string '2024-06-24 19:42:52.607030' "
        "as DateTime: syntax error at position 19 (parsed just '2024-06-24 19:42:52'): while executing 'FUNCTION "
        "if(isNull(_dummy_0) : 3, defaultValueOfTypeName('DateTime') :: 2, _CAST(_dummy_0, 'DateTime') :: 4) -> "
        "if(isNull(_dummy_0), defaultValueOfTypeName('DateTime'), _CAST(_dummy_0, 'DateTime')) DateTime : 1': While "
        "executing ValuesBlockInputFormat. (CANNOT_PARSE_TEXT) (version 22.10.2.11 (official build))",
        "data.type_mismatch",
        "escalate",
    ),
    (
        # the legacy JDBC driver's own code (1002) first: the server's name decides
        "https://github.com/ClickHouse/ClickHouse/issues/29306",
        "SQL Error [1002]: ClickHouse exception, code: 1002, host: 192.168.2.130, port: 8123; Code: 6. DB::Exception: "
        "Cannot parse string '2021-09-24T02:31:04.751161200+09:00' as DateTime: syntax error at position 19 (parsed "
        "just '2021-09-24T02:31:04'): While processing _CAST(if(id = 'req_int_aru_20210923_17_26_54', "
        "_CAST(toDateTime('2021-09-24T02:31:04.751161200+09:00'), 'DateTime'), submitted_date), 'DateTime'). "
        "(CANNOT_PARSE_TEXT) (version 21.9.2.17 (official build))",
        "data.type_mismatch",
        "escalate",
    ),
    # --- data.quality / data.empty ----------------------------------------------------------------
    (
        "https://github.com/ClickHouse/ClickHouse/issues/69771",
        "Code: 395. DB::Exception: Received from localhost:9000. DB::Exception: Value passed to 'throwIf' function is "
        "non-zero: while executing 'FUNCTION throwIf(1_UInt8 :: 1) -> throwIf(1_UInt8) UInt8 : 2'. "
        "(FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) (version 24.9.1.1710)",
        "data.quality",
        "escalate",
    ),
    (
        "https://github.com/ClickHouse/ClickHouse/issues/8599",
        "cat /dev/null |grep -v 'zzz'|clickhouse-client -q 'insert into test format TST'\n"
        "Code: 108. DB::Exception: No data to insert",
        "data.empty",
        "escalate",
    ),
    # --- infra.auth -------------------------------------------------------------------------------
    (
        "https://github.com/Altinity/clickhouse-backup/issues/902",
        "Code: 516. DB::Exception: Received from l-clickhouse102.wdn.clarkinc.io:9000. DB::Exception: default: "
        "Authentication failed: password is incorrect, or there is no user with such name.\n\n"
        "If you have installed ClickHouse and forgot password you can reset it in the configuration file.\n"
        ". (AUTHENTICATION_FAILED)",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/patzaw/ClickHouseHTTP/issues/3",
        "Error in .local(conn, statement, ...) : \n  Code: 497. DB::Exception: user: Not enough privileges. To execute "
        "this query, it's necessary to have the grant SHOW DATABASES ON default.*. (ACCESS_DENIED) "
        "(version 24.3.2.23 (official build))",
        "infra.auth",
        "escalate",
    ),
    # --- config.missing ---------------------------------------------------------------------------
    (
        # go-clickhouse: the number last, in parentheses
        "https://github.com/uptrace/uptrace/issues/552",
        'time=2025-09-30T09:28:22.019Z level=ERROR msg="migrator failed" err="DB::Exception: Unknown setting '
        "'materialize_statistics_on_insert' (115)\"",
        "config.missing",
        "escalate",
    ),
    (
        # the Rust client: `DB::Exception (115):`
        "https://github.com/azat/chdig/issues/249",
        "Server error: `ERROR DB::Exception (115): DB::Exception: Unknown setting 'skip_verify'`",
        "config.missing",
        "escalate",
    ),
    # --- infra.network ----------------------------------------------------------------------------
    (
        "https://github.com/ClickHouse/ClickHouse/issues/14153",
        "<Error> HTTPHandler: Code: 279, e.displayText() = DB::NetException: All connection tries failed. Log: \n\n"
        "Code: 210, e.displayText() = DB::NetException: Connection reset by peer, while reading from socket "
        "(10.126.xx.xx:9998) (version 19.9.5.36)\n"
        "Code: 32, e.displayText() = DB::Exception: Attempt to read after eof (version 19.9.5.36)",
        "infra.network",
        "retry",
    ),
    # --- infra.timeout ----------------------------------------------------------------------------
    (
        "https://github.com/ClickHouse/ClickHouse/issues/44257",
        "Code: 159. DB::Exception: Timeout exceeded: elapsed 5.060592159 seconds, maximum: 3. (TIMEOUT_EXCEEDED) "
        "(version 22.10.2.11 (official build))",
        "infra.timeout",
        "retry",
    ),
    # --- infra.resource ---------------------------------------------------------------------------
    (
        "https://github.com/getsentry/self-hosted/issues/1716",
        "clickhouse_driver.errors.ServerException: Code: 241.\nDB::Exception: Memory limit (for query) exceeded: would "
        "use 9.32 GiB (attempt to allocate chunk of 9437072 bytes), maximum: 9.31 GiB: (avg_value_size_hint = "
        "554.3526645768025, avg_chars_size = 655.623197492163, limit = 8189): (while reading column "
        "_contexts_flattened). Stack trace:\n",
        "infra.resource",
        "escalate",
    ),
    (
        # clickhouse-go: `code: N, message: ...`
        "https://github.com/PeerDB-io/peerdb/issues/3316",
        "Normalization Error: failed to normalize records: error while inserting into target clickhouse table "
        "platform_lists: code: 241, message: (total) memory limit exceeded: would use 37.62 GiB (attempt to allocate "
        "chunk of 6.00 MiB bytes), current RSS: 1.68 GiB, maximum: 37.61 GiB.",
        "infra.resource",
        "escalate",
    ),
    (
        "https://github.com/ClickHouse/ClickHouse/issues/78956",
        "ClickHouse exception, code: 1002, host: 10.129.170.80, port: 8123; Code: 252. DB::Exception: Too many parts "
        "(300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)",
        "infra.resource",
        "escalate",
    ),
]


@pytest.mark.parametrize("source,text,category,remediation", POSTED)
def test_posted_messages(source, text, category, remediation):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert clickhouse.SOURCE in result.rationale  # decided by this catalog, not by a text rule


@pytest.mark.parametrize(
    "type_name,message,name",
    [
        # the name in parentheses is read before the numbers, even after another code's number
        (
            "log",
            "ClickHouse exception, code: 1002, host: h, port: 8123; Code: 159. (TIMEOUT_EXCEEDED)",
            "TIMEOUT_EXCEEDED",
        ),
        # a code left out of the table (S3_ERROR) says nothing: other facts decide
        ("DatabaseError", "Code: 499. DB::Exception: S3 exception: `NoSuchKey`. (S3_ERROR)", None),
        ("DatabaseError", "HTTPDriver for http://h:8123 received ClickHouse error code 60", "UNKNOWN_TABLE"),
        ("ServerException", "X-ClickHouse-Exception-Code: 241", "MEMORY_LIMIT_EXCEEDED"),
    ],
)
def test_formats(type_name, message, name):
    found = clickhouse.find(type_name, message)
    assert (found[0] if found else None) == name


@pytest.mark.parametrize(
    "type_name,message",
    [
        # Databend prints `Code: N, Text = ...` without ClickHouse's marks
        ("log", "Error: APIError: ResponseError with 1025: Code: 1025, Text = error: Unknown table 'x'."),
        # MySQL and Trino name a missing table in their own words
        ("pymysql.err.ProgrammingError", "(1146, \"Table 'shop.orders' doesn't exist\")"),
        (
            "TrinoUserError",
            'TrinoUserError(type=USER_ERROR, name=TABLE_NOT_FOUND, message="line 1:15: (UNKNOWN_TABLE)")',
        ),
        # a Go HTTP client's `code: N, message:` outside ClickHouse
        ("log", "request failed: code: 60, message: upstream timed out"),
    ],
)
def test_other_engines_are_not_claimed(type_name, message):
    assert clickhouse.find(type_name, message) is None


def test_table_entries_are_valid_categories():
    assert 30 <= len(clickhouse.CODES) <= 160
    for name, verdict in clickhouse.CODES.items():
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN, name
        assert verdict.source == clickhouse.SOURCE and name in verdict.why
    # one number a name, as in ErrorCodes.cpp
    assert len(clickhouse.NAMES) == len(clickhouse.CODES)
    assert clickhouse.NAMES[60] == "UNKNOWN_TABLE" and clickhouse.NAMES[241] == "MEMORY_LIMIT_EXCEEDED"
