"""Snowflake's numbered errors (catalogs/snowflake.py): messages as Snowflake's clients printed them
in public threads, the login messages 250001 carries without their code, and look-alikes of other
engines that the table must not claim."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import snowflake
from patchit_testing import triage_text

# (source, output as posted, category, remediation)
POSTED = [
    (
        "https://github.com/datacoves/dbt-coves/issues/40",
        "Database Error  000904 (42000): SQL compilation error: error line 1 at position 19  invalid identifier 'ISSUE'",
        "schema.missing_column",
        "escalate",
    ),
    (
        "https://github.com/ploomber/jupysql/issues/931",
        "RuntimeError: (snowflake.connector.errors.ProgrammingError) 002003 (42S02): SQL compilation error:\n"
        "Object 'MYSNIPPE' does not exist or not authorized.",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "https://github.com/centralmind/gateway/issues/73",
        'Error processing tool: "test_discover_data_mcp_snowflake" tool call failed: MCP error -32603: unable to '
        "discover data: 001003 (42000): SQL compilation error:\nsyntax error line 1 at position 23 unexpected '<EOF>'.",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/sqitchers/sqitch/issues/586",
        "003001 (42501): SQL access control error:\nInsufficient privileges to operate on database 'mydb'",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/snowflakedb/snowflake-connector-python/issues/218",
        "ProgrammingError: 390114 (08001): Authentication token has expired.  The user must authenticate again.",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/coiled/benchmarks/issues/1345",  # 250001 carrying the server's 390100 text
        "snowflake.connector.errors.DatabaseError: 250001 (08001): Failed to connect to DB: "
        "***.snowflakecomputing.com:443. Incorrect username or password was specified.",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/snowflakedb/snowflake-connector-python/issues/1364",
        "snowflake.connector.errors.OperationalError: 250001: Could not connect to Snowflake backend after 0 "
        "attempt(s).Aborting",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/Snowflake-Labs/OpenLineage-AccessHistory-Setup/issues/14",
        "snowflake.connector.errors.ProgrammingError: 000606 (57P03): 01a503b0-0401-997d-0001-0003016c457e: No "
        "active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' "
        "command.",
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/open-metadata/OpenMetadata/issues/11355",
        "(snowflake.connector.errors.ProgrammingError) 090105 (22000): Cannot perform SELECT. This session does not "
        "have a current database. Call 'USE DATABASE', or use a qualified name.",
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/Snowflake-Labs/semantic-model-generator/issues/221",
        "ProgrammingError: 000630 (57014): Statement reached its statement or warehouse timeout of 120 second(s) "
        "and was canceled.",
        "infra.timeout",
        "retry",
    ),
    (
        "https://github.com/open-metadata/OpenMetadata/issues/4486",
        "(snowflake.connector.errors.ProgrammingError) 000603 (XX000): 01a3d923-0000-5073-0000-88c1000885a6: SQL "
        "execution internal error:\nProcessing aborted due to error 300010:391167117; incident 5388518.",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/astronomer/astro-sdk/issues/1708",
        "snowflake.connector.errors.ProgrammingError: 100038 (22018): 01aa153d-0606-b80e-0000-682122c74986: "
        "Numeric value 'id' is not recognized\n  File 'sample.csv', line 1, character 1",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "https://github.com/transferwise/pipelinewise-target-snowflake/issues/298",
        "code=1 message=snowflake.connector.errors.ProgrammingError: 100069 (22P02): Error parsing JSON: "
        "unfinished string, pos 148",
        "data.malformed",
        "escalate",
    ),
    (
        "https://github.com/Snowflake-Labs/schemachange/issues/111",
        "snowflake.connector.errors.ProgrammingError: 100080 (22000): Number of columns in file (2) does not match "
        "that of the corresponding table (16), use file format option error_on_column_count_mismatch=false to "
        "ignore this error",
        "data.malformed",
        "escalate",
    ),
    (
        # JDBC prints the number without its zeros (HikariCP's log of a SnowflakeSQLException)
        "https://github.com/snowflakedb/snowflake-jdbc/issues/657",
        "WARN c.zaxxer.hikari.pool.ProxyConnection - HikariPool-1 - Connection "
        "net.snowflake.client.jdbc.SnowflakeConnectionV1@d5ab79c marked as broken because of SQLSTATE(57P03), "
        "ErrorCode(606) net.snowflake.client.jdbc.SnowflakeSQLException: No active warehouse selected in the "
        "current session. Select an active warehouse with the 'use warehouse' command.",
        "config.missing",
        "escalate",
    ),
]


@pytest.mark.parametrize("source,text,category,remediation", POSTED, ids=[p[0] for p in POSTED])
def test_snowflake_codes_decide(source, text, category, remediation):
    assert source.startswith("https://")
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    found = snowflake.find("log", text)  # the table reads the code itself (a later log line may decide first)
    assert found is not None and found[1].category.value == category, found


def test_a_database_the_role_cannot_see_is_a_grant():
    """002003 naming a database (https://github.com/Health-Union/snowshu/issues/40) is the role's grant."""
    found = snowflake.find(
        "sqlalchemy.exc.ProgrammingError",
        "(snowflake.connector.errors.ProgrammingError) 002003 (02000): 01938587-0027-5d4d-0000-012516bbcafe: "
        "SQL compilation error:\nDatabase 'UTIL_DB' does not exist or not authorized.",
    )
    assert found is not None and found[1].category == Category.INFRA_AUTH


@pytest.mark.parametrize(
    "type_name,text",
    [
        # MySQL's client: four digits after ERROR, not Snowflake's six
        ("log", "ERROR 1146 (42S02) at line 1: Table 'shop.orderz' doesn't exist"),
        # a six-digit number without a SQLSTATE outside Snowflake's errors
        ("ValueError", "invalid literal for int() with base 10: '251005: pending'"),
        ("log", "batch 100038: Numeric value check skipped"),
        # JDBC's vendor code of another driver
        ("java.sql.SQLException", "ORA-00942: table or view does not exist, ErrorCode(942)"),
        # a Snowflake-shaped number that is no code of the table
        ("log", "123456 (42000): something else"),
    ],
)
def test_look_alikes_are_not_claimed(type_name, text):
    assert snowflake.find(type_name, text) is None


def test_every_entry_is_a_taxonomy_category_with_a_source():
    assert len(snowflake.CODES) >= 50
    for code, verdict in snowflake.CODES.items():
        assert len(code) == 6 and code.isdigit(), code
        assert isinstance(verdict.category, Category) and verdict.category != Category.UNKNOWN, code
        assert verdict.source.startswith("https://"), code
