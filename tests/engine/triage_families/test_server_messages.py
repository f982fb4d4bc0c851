"""MySQL/MariaDB and SQL Server messages without their number (catalogs/server_messages.py): each
family as a client prints it, look-alikes of other engines, and the tables against the taxonomy.

Sources: where a message was posted as printed, the page it was posted on; otherwise the engine's
reference for the template with the client source file that fixes how the client prints it:
Connector/J and mssql-jdbc put the server's text alone in the SQLException,
mysqljs prints `code + ': ' + message` (lib/protocol/sequences/Sequence.js), go-mssqldb
`mssql: <message> (<number>)` (error.go), tedious's RequestError the text alone."""

from __future__ import annotations

import re

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import codes, server_messages
from patchit_testing import triage_text

MY_REF = "https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html"
MY_CLIENT_REF = "https://dev.mysql.com/doc/mysql-errors/8.0/en/client-error-reference.html"
MYSQLJS = "https://github.com/mysqljs/mysql/blob/master/lib/protocol/sequences/Sequence.js"
MS_REF = "https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors"
GO_MSSQL = "https://github.com/microsoft/go-mssqldb/blob/main/error.go"

# (source, output, category, remediation)
POSTED = [
    # --- MySQL: missing objects -------------------------------------------------------------------
    (
        f"{MY_REF}#error_er_no_such_table (Connector/J: the server's text)",
        "java.sql.SQLSyntaxErrorException: Table 'shop.ordrs' doesn't exist",
        "schema.missing_relation",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_no_such_table; {MYSQLJS}",
        "Error: ER_NO_SUCH_TABLE: Table 'shop.ordrs' doesn't exist\n    at Query.Sequence._packetToError",
        "schema.missing_relation",
        "escalate",
    ),
    (
        # MariaDB Connector/J prefixes the connection id
        f"{MY_REF}#error_er_no_such_table; https://github.com/mariadb-corporation/mariadb-connector-j",
        "java.sql.SQLSyntaxErrorException: (conn=52) Table 'shop.ordrs' doesn't exist",
        "schema.missing_relation",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_bad_field_error",
        "java.sql.SQLSyntaxErrorException: Unknown column 'cust_idd' in 'field list'",
        "schema.missing_column",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_bad_db_error; {MYSQLJS}",
        "Error: ER_BAD_DB_ERROR: Unknown database 'analytics'",
        "config.missing",
        "escalate",
    ),
    # --- MySQL: authentication and grants ---------------------------------------------------------
    (
        f"{MY_REF}#error_er_access_denied_error; {MYSQLJS}",
        "Error: ER_ACCESS_DENIED_ERROR: Access denied for user 'etl'@'10.0.3.7' (using password: YES)",
        "infra.auth",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_tableaccess_denied_error",
        "java.sql.SQLSyntaxErrorException: SELECT command denied to user 'etl'@'10.0.3.7' for table 'orders'",
        "infra.auth",
        "escalate",
    ),
    # --- MySQL: the server or the path to it --------------------------------------------------------
    (
        # posted as printed in SQLAlchemy's FAQ: the number is printed, codes.MYSQL decides
        "https://github.com/sqlalchemy/sqlalchemy/blob/main/doc/build/faq/connections.rst",
        "MySQLdb._exceptions.OperationalError: (2006, 'MySQL server has gone away')",
        "infra.network",
        "retry",
    ),
    (
        # mysql-connector-python's own test of its client error text (tests/test_errors.py)
        "https://github.com/mysql/mysql-connector-python/blob/trunk/mysql-connector-python/tests/test_errors.py",
        "mysql.connector.errors.InterfaceError: 2003: Can't connect to MySQL server on 'localhost:3306' (2)",
        "infra.network",
        "retry",
    ),
    (
        f"{MY_CLIENT_REF}#error_cr_server_lost (Connector/J wraps the client text)",
        "org.hibernate.exception.JDBCConnectionException: could not execute statement; "
        "Lost connection to MySQL server during query",
        "infra.network",
        "retry",
    ),
    (
        # go-sql-driver's own test prints the number its way (driver_test.go)
        "https://github.com/go-sql-driver/mysql/blob/master/driver_test.go",
        "Error 1040: Too many connections",
        "infra.resource",
        "escalate",
    ),
    # --- MySQL: locks and time limits -------------------------------------------------------------
    (
        f"{MY_REF}#error_er_lock_wait_timeout",
        "com.mysql.cj.jdbc.exceptions.MySQLTransactionRollbackException: Lock wait timeout exceeded; "
        "try restarting transaction",
        "infra.timeout",
        "retry",
    ),
    (
        f"{MY_REF}#error_er_lock_deadlock",
        "java.sql.SQLTransactionRollbackException: Deadlock found when trying to get lock; try restarting transaction",
        "infra.timeout",
        "retry",
    ),
    # --- MySQL: resources and settings ------------------------------------------------------------
    (
        f"{MY_REF}#error_er_record_file_full",
        "java.sql.SQLException: The table 'tmp_orders' is full",
        "infra.resource",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_net_packet_too_large",
        "com.mysql.cj.jdbc.exceptions.PacketTooBigException: Got a packet bigger than 'max_allowed_packet' bytes",
        "config.missing",
        "escalate",
    ),
    # --- MySQL: data --------------------------------------------------------------------------------
    (
        f"{MY_REF}#error_er_dup_entry",
        "java.sql.SQLIntegrityConstraintViolationException: Duplicate entry '42' for key 'orders.PRIMARY'",
        "data.quality",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_data_too_long",
        "com.mysql.cj.jdbc.exceptions.MysqlDataTruncation: Data truncation: Data too long for column 'name' at row 1",
        "data.type_mismatch",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_truncated_wrong_value_for_field",
        "java.sql.SQLException: Incorrect string value: '\\xF0\\x9F\\x98\\x80' for column 'comment' at row 1",
        "data.type_mismatch",
        "escalate",
    ),
    (
        f"{MY_REF}#error_er_invalid_json_text",
        'java.sql.SQLException: Invalid JSON text: "Invalid value." at position 0 in value for column '
        "'events.payload'.",
        "data.malformed",
        "escalate",
    ),
    # --- MySQL: the statement -------------------------------------------------------------------------
    (
        f"{MY_REF}#error_er_parse_error",
        "java.sql.SQLSyntaxErrorException: You have an error in your SQL syntax; check the manual that corresponds "
        "to your MySQL server version for the right syntax to use near 'FROM orders' at line 1",
        "code.error",
        "patch",
    ),
    (
        # mysql-connector-python's own test (tests/test_errors.py): "1064 (42000): ..."; codes.MYSQL reads it
        "https://github.com/mysql/mysql-connector-python/blob/trunk/mysql-connector-python/tests/test_errors.py",
        "mysql.connector.errors.ProgrammingError: 1064 (42000): You have an error in your SQL syntax",
        "code.error",
        "patch",
    ),
    # --- SQL Server: missing objects ----------------------------------------------------------------
    (
        f"{MS_REF}-0-to-999 (208; mssql-jdbc: the server's text)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: Invalid object name 'dbo.orderz'.",
        "schema.missing_relation",
        "escalate",
    ),
    (
        f"{MS_REF}-0-to-999 (207); {GO_MSSQL}",
        "mssql: Invalid column name 'cust_idd'.",
        "schema.missing_column",
        "escalate",
    ),
    (
        f"{MS_REF}-0-to-999 (911)",
        "RequestError: Database 'analytcs' does not exist. Make sure that the name is entered correctly.",
        "config.missing",
        "escalate",
    ),
    # --- SQL Server: logins and permissions -----------------------------------------------------------
    (
        f"{MS_REF}-4000-to-4999 (4060; tedious: the server's text)",
        'ConnectionError: Cannot open database "analytics" requested by the login. The login failed.',
        "infra.auth",
        "escalate",
    ),
    (
        f"{MS_REF}-0-to-999 (229)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: The SELECT permission was denied on the object 'orders', "
        "database 'sales', schema 'dbo'.",
        "infra.auth",
        "escalate",
    ),
    # --- SQL Server: the statement --------------------------------------------------------------------
    (
        # posted as printed in pymssql's documentation (docs/migrate_1_x_to_2_x.rst)
        "https://github.com/pymssql/pymssql/blob/master/docs/migrate_1_x_to_2_x.rst",
        "pymssql.ProgrammingError: (102, \"Incorrect syntax near '('.\nDB-Lib error message 20018, severity 15:\n"
        'General SQL Server error: Check messages from the SQL Server\n")',
        "code.error",
        "patch",
    ),
    (
        f"{MS_REF}-2000-to-2999 (2714)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: There is already an object named 'stg_orders' in the "
        "database.",
        "code.error",
        "patch",
    ),
    # --- SQL Server: data -----------------------------------------------------------------------------
    (
        f"{MS_REF}-0-to-999 (245)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: Conversion failed when converting the varchar value "
        "'n/a' to data type int.",
        "data.type_mismatch",
        "escalate",
    ),
    (
        f"{MS_REF}-8000-to-8999 (8114)",
        "pyodbc.DataError: ('22018', '[22018] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Error converting "
        "data type nvarchar to numeric. (8114) (SQLExecDirectW)')",
        "data.type_mismatch",
        "escalate",
    ),
    (
        f"{MS_REF}-0-to-999 (547)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: The INSERT statement conflicted with the FOREIGN KEY "
        'constraint "FK_orders_customers". The conflict occurred in database "sales", table "dbo.customers", '
        "column 'id'.",
        "data.quality",
        "escalate",
    ),
    # --- SQL Server: locks, resources, Azure SQL availability -------------------------------------------
    (
        f"{MS_REF}-1000-to-1999 (1222)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: Lock request time out period exceeded.",
        "infra.timeout",
        "retry",
    ),
    (
        f"{MS_REF}-9000-to-9999 (9002)",
        "mssql: The transaction log for database 'staging' is full due to 'LOG_BACKUP'. (9002)",
        "infra.resource",
        "escalate",
    ),
    (
        "https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-errors-issues (40613)",
        "com.microsoft.sqlserver.jdbc.SQLServerException: Database 'sales' on server 'sql-prod' is not currently "
        "available. Please retry the connection later.",
        "infra.network",
        "retry",
    ),
]


@pytest.mark.parametrize("source,text,category,remediation", POSTED, ids=[p[1][:50] for p in POSTED])
def test_messages_as_clients_print_them(source, text, category, remediation):
    assert source.startswith("https://")
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation)


@pytest.mark.parametrize(
    "type_name,message,number",
    [
        ("java.sql.SQLSyntaxErrorException", "Table 'shop.ordrs' doesn't exist", "MySQL 1146"),
        ("log", "Error: ER_BAD_DB_ERROR: Unknown database 'analytics'", "MySQL 1049"),
        ("com.mysql.cj.jdbc.exceptions.CommunicationsException", "Server shutdown in progress", "MySQL 1053"),
        (
            "com.microsoft.sqlserver.jdbc.SQLServerException",
            "Incorrect syntax near the keyword 'FROM'.",
            "SQL Server 156",
        ),
        ("log", "mssql: Invalid object name 'dbo.orderz'. (208)", "SQL Server 208"),
    ],
)
def test_the_template_names_its_number(type_name, message, number):
    found = server_messages.find(type_name, message)
    assert found is not None and found[0].startswith(number + " ")


@pytest.mark.parametrize(
    "type_name,message",
    [
        # a number a MySQL client printed is codes.MYSQL's to read
        ("pymysql.err.ProgrammingError", "(1146, \"Table 'shop.orders' doesn't exist\")"),
        ("mysql.connector.errors.ProgrammingError", "1146 (42S02): Table 'shop.orders' doesn't exist"),
        # ClickHouse, PostgreSQL, Trino and Snowflake name a missing table in their own words
        ("clickhouse_driver.errors.ServerException", "Code: 60. DB::Exception: Table shop.orders doesn't exist."),
        ("psycopg2.errors.UndefinedTable", 'relation "orders" does not exist'),
        ("TrinoUserError", "line 1:15: Table 'hive.shop.orders' does not exist"),
        ("snowflake.connector.errors.ProgrammingError", "Object 'ORDERS' does not exist or not authorized."),
        # Redis and Oracle's JDBC share words, not templates, with this table
        ("redis.exceptions.ConnectionError", "Too many connections"),
        ("java.sql.SQLException", "Invalid column name"),
        ("log", "Connection was killed by the load balancer"),
        ("log", "syntax error: Incorrect syntax near the end of input"),
        # a bracket inside SQL Server's object name: messages.py's quoting rule decides
        ("pymssql.exceptions.ProgrammingError", "(208, b\"Invalid object name '[omop.dbo].[cdm_source'.\")"),
    ],
)
def test_other_engines_and_printed_numbers_are_not_claimed(type_name, message):
    assert server_messages.find(type_name, message) is None


def test_the_clients_printed_numbers_are_read():
    assert (
        codes.mysql_number("mysql.connector.errors.ProgrammingError: 1146 (42S02): Table 'a.b' doesn't exist") == 1146
    )
    assert codes.mysql_number("Error 1045 (28000): Access denied for user 'u'@'h' (using password: YES)") == 1045
    assert codes.mysql_number("pymysql.err.OperationalError: (3024, 'Query execution was interrupted')") == 3024
    assert codes.mysql_number("snowflake.connector.errors.ProgrammingError: 002003 (42S02): SQL compilation") is None


def test_tables_map_to_taxonomy_categories():
    numbers = [n for n, *_ in server_messages.MYSQL_TEMPLATES]
    symbols = [s for _, s, *_ in server_messages.MYSQL_TEMPLATES]
    assert 40 <= len(numbers) == len(set(numbers)) and len(symbols) == len(set(symbols))
    for number, symbol, template, _own in server_messages.MYSQL_TEMPLATES:
        verdict = codes.MYSQL[number]  # one number table: codes.py's
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN, symbol
        assert re.match(r"(?:ER|CR|WARN)_[A-Z0-9_]+$", symbol) and re.compile(template)
    ms = [n for n, *_ in server_messages.SQLSERVER_TEMPLATES]
    # every template has its number; the table also holds numbers only read as printed (`SqlErrorNumber=40613`)
    assert 30 <= len(ms) == len(set(ms)) and set(ms) <= set(server_messages.SQLSERVER)
    for number, verdict in server_messages.SQLSERVER.items():
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN, number
        assert f"SQL Server error {number}:" in verdict.why and verdict.source == server_messages.SQLSERVER_SOURCE
