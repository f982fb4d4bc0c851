"""PostgreSQL messages printed without their SQLSTATE (catalogs/pg_messages.py): real outputs of
PostgreSQL 15.18 for each family of the table, as psql prints them (default verbosity, as a
BashOperator or a shell step logs them) and as psycopg / SQLAlchemy stringify them; the same
statements re-run against a live server when PATCHIT_TEST_PG_URL is set; look-alikes of other
engines and errors that print their code, which the table must leave alone; the table against the
taxonomy and catalogs/sqlstate.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import pg_messages, sqlstate
from patchit_testing import postgres_dsn, triage_text

PSQL = "PostgreSQL 15.18 (Debian 15.18-0+deb12u1), psql 15, scripts/postgres.sh's cluster: "

# (what was run, psql's output from its first ERROR/FATAL line, SQLSTATE, category, remediation);
# the tables: orders(id int primary key, customer_id int, amount numeric(6,2), name varchar(8),
# created date) with two rows, acct(id int primary key, bal int); COPY read the rows shown in CONTEXT
CAPTURED = [
    (
        "select amount, discount from orders",
        'ERROR:  column "discount" does not exist\nLINE 1: select amount, discount from orders\n                       ^\n',
        "42703",
        "schema.missing_column",
        "escalate",
    ),
    (
        "insert into orders(id, discount) values (1, 0.1)",
        'ERROR:  column "discount" of relation "orders" does not exist\nLINE 1: insert into orders(id, discount) values (1, 0.1)\n                               ^\n',
        "42703",
        "schema.missing_column",
        "escalate",
    ),
    (
        "select * from order_items",
        'ERROR:  relation "order_items" does not exist\nLINE 1: select * from order_items\n                      ^\n',
        "42P01",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "select o.id from orders",
        'ERROR:  missing FROM-clause entry for table "o"\nLINE 1: select o.id from orders\n               ^\n',
        "42P01",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "drop table order_items",
        'ERROR:  table "order_items" does not exist\n',
        "42P01",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "create table staging.orders(id int)",
        'ERROR:  schema "staging" does not exist\nLINE 1: create table staging.orders(id int)\n                     ^\n',
        "3F000",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "select to_char_x(created) from orders",
        "ERROR:  function to_char_x(date) does not exist\nLINE 1: select to_char_x(created) from orders\n               ^\nHINT:  No function matches the given name and argument types. You might need to add explicit type casts.\n",
        "42883",
        "code.error",
        "patch",
    ),
    (
        "select * from orders where created = 5",
        "ERROR:  operator does not exist: date = integer\nLINE 1: select * from orders where created = 5\n                                           ^\nHINT:  No operator matches the given name and argument types. You might need to add explicit type casts.\n",
        "42883",
        "code.error",
        "patch",
    ),
    (
        "copy orders(id) from stdin",
        'ERROR:  invalid input syntax for type integer: "12a"\nCONTEXT:  COPY orders, line 1, column id: "12a"\n',
        "22P02",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "copy orders(id, created) from stdin",
        'ERROR:  invalid input syntax for type date: "yesterday-ish"\nCONTEXT:  COPY orders, line 1, column created: "yesterday-ish"\n',
        "22007",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "copy orders(id, created) from stdin",
        'ERROR:  date/time field value out of range: "2024-13-45"\nHINT:  Perhaps you need a different "datestyle" setting.\nCONTEXT:  COPY orders, line 1, column created: "2024-13-45"\n',
        "22008",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "copy orders(id, name) from stdin",
        'ERROR:  value too long for type character varying(8)\nCONTEXT:  COPY orders, line 1, column name: "Very long customer name"\n',
        "22001",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "copy orders(id, amount) from stdin",
        'ERROR:  numeric field overflow\nDETAIL:  A field with precision 6, scale 2 must round to an absolute value less than 10^4.\nCONTEXT:  COPY orders, line 1, column amount: "123456789.00"\n',
        "22003",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "copy orders(id) from stdin",
        'ERROR:  value "3000000000" is out of range for type integer\nCONTEXT:  COPY orders, line 1, column id: "3000000000"\n',
        "22003",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "select sum(amount) / count(*) filter (where amount > 1000) from orders",
        "ERROR:  division by zero\n",
        "22012",
        "code.error",
        "patch",
    ),
    (
        "copy orders(id, name) from stdin",
        'ERROR:  invalid byte sequence for encoding "UTF8": 0xe9 0x0a\nCONTEXT:  COPY orders, line 1\n',
        "22021",
        "data.malformed",
        "escalate",
    ),
    (
        "copy orders(id, name) from stdin with (format csv)",
        'ERROR:  extra data after last expected column\nCONTEXT:  COPY orders, line 1: "1,bob,extra"\n',
        "22P04",
        "data.malformed",
        "escalate",
    ),
    (
        "copy orders(id, name) from stdin with (format csv)",
        'ERROR:  missing data for column "name"\nCONTEXT:  COPY orders, line 1: "1"\n',
        "22P04",
        "data.malformed",
        "escalate",
    ),
    (
        "copy orders(id, name) from stdin with (format csv)",
        'ERROR:  unterminated CSV quoted field\nCONTEXT:  COPY orders, line 1: "1,"bob\n"\n',
        "22P04",
        "data.malformed",
        "escalate",
    ),
    (
        "insert into orders(id) values (null)",
        'ERROR:  null value in column "id" of relation "orders" violates not-null constraint\nDETAIL:  Failing row contains (null, null, null, null, null).\n',
        "23502",
        "data.quality",
        "escalate",
    ),
    (
        "insert into orders(id) values (1), (1)",
        'ERROR:  duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(1) already exists.\n',
        "23505",
        "data.quality",
        "escalate",
    ),
    (
        "alter table orders add constraint amount_positive check (amount > 0); insert into orders(id, amount) values (7, -1)",
        'ERROR:  new row for relation "orders" violates check constraint "amount_positive"\nDETAIL:  Failing row contains (7, null, -1.00, null, null).\n',
        "23514",
        "data.quality",
        "escalate",
    ),
    (
        "select (select id from orders)",
        "ERROR:  more than one row returned by a subquery used as an expression\n",
        "21000",
        "data.quality",
        "escalate",
    ),
    (
        "insert into orders(id, name) values (20, 'a'), (20, 'b') on conflict (id) do update set name = excluded.name",
        "ERROR:  ON CONFLICT DO UPDATE command cannot affect row a second time\nHINT:  Ensure that no rows proposed for insertion within the same command have duplicate constrained values.\n",
        "21000",
        "data.quality",
        "escalate",
    ),
    (
        "selct * from orders",
        'ERROR:  syntax error at or near "selct"\nLINE 1: selct * from orders\n        ^\n',
        "42601",
        "code.error",
        "patch",
    ),
    (
        "insert into orders(id, name) values (1)",
        "ERROR:  INSERT has more target columns than expressions\nLINE 1: insert into orders(id, name) values (1)\n                               ^\n",
        "42601",
        "code.error",
        "patch",
    ),
    (
        "select customer_id, amount from orders group by customer_id",
        'ERROR:  column "orders.amount" must appear in the GROUP BY clause or be used in an aggregate function\nLINE 1: select customer_id, amount from orders group by customer_id\n                            ^\n',
        "42803",
        "code.error",
        "patch",
    ),
    (
        "select id from orders, acct",
        'ERROR:  column reference "id" is ambiguous\nLINE 1: select id from orders, acct\n               ^\n',
        "42702",
        "code.error",
        "patch",
    ),
    (
        "insert into orders(id, created) values (1, 42)",
        'ERROR:  column "created" is of type date but expression is of type integer\nLINE 1: insert into orders(id, created) values (1, 42)\n                                                   ^\nHINT:  You will need to rewrite or cast the expression.\n',
        "42804",
        "code.error",
        "patch",
    ),
    (
        "create table orders(id int)",
        'ERROR:  relation "orders" already exists\n',
        "42P07",
        "code.error",
        "patch",
    ),
    (
        "connect to a database that does not exist",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  database "analytics" does not exist\n',
        "3D000",
        "config.missing",
        "escalate",
    ),
    (
        "connect with a wrong password (scram-sha-256 line of pg_hba.conf)",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  password authentication failed for user "pgm_pw"\n',
        "28P01",
        "infra.auth",
        "escalate",
    ),
    (
        "connect as a role a `reject` line of pg_hba.conf names",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  pg_hba.conf rejects connection for host "127.0.0.1", user "pgm_rej", database "patchit", no encryption\n',
        "28000",
        "infra.auth",
        "escalate",
    ),
    (
        "connect as a role that does not exist",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  role "etl_user" does not exist\n',
        "28000",
        "infra.auth",
        "escalate",
    ),
    (
        "connect as a NOLOGIN role",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  role "pgm_nologin" is not permitted to log in\n',
        "28000",
        "infra.auth",
        "escalate",
    ),
    (
        "connect as a role with CONNECTION LIMIT 0",
        'psql: error: connection to server at "127.0.0.1", port 55434 failed: FATAL:  too many connections for role "pgm_lim"\n',
        "53300",
        "infra.resource",
        "escalate",
    ),
    (
        "select * from pgm.orders as a role without SELECT on it",
        "ERROR:  permission denied for table orders\n",
        "42501",
        "infra.auth",
        "escalate",
    ),
    (
        "copy pgm.orders from '/tmp/orders.csv' as a role without pg_read_server_files",
        "ERROR:  must be superuser or have privileges of the pg_read_server_files role to COPY from a file\nHINT:  Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.\n",
        "42501",
        "infra.auth",
        "escalate",
    ),
    (
        "alter table pgm.orders add column x int as a role that does not own it",
        "ERROR:  must be owner of table orders\n",
        "42501",
        "infra.auth",
        "escalate",
    ),
    (
        "select pg_sleep(3) ended by pg_terminate_backend() from another session",
        "FATAL:  terminating connection due to administrator command\nserver closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\nconnection to server was lost\n",
        "57P01",
        "infra.network",
        "retry",
    ),
    (
        "select pg_sleep(3) ended by pg_cancel_backend() from another session",
        "ERROR:  canceling statement due to user request\n",
        "57014",
        "infra.timeout",
        "retry",
    ),
    (
        "a REPEATABLE READ transaction updating a row another session updated and committed",
        "ERROR:  could not serialize access due to concurrent update\n",
        "40001",
        "infra.network",
        "retry",
    ),
    (
        "two sessions updating two rows in opposite order",
        'ERROR:  deadlock detected\nDETAIL:  Process 2879 waits for ShareLock on transaction 804; blocked by process 2881.\nProcess 2881 waits for ShareLock on transaction 803; blocked by process 2879.\nHINT:  See server log for query details.\nCONTEXT:  while updating tuple (0,2) in relation "acct"\n',
        "40P01",
        "infra.timeout",
        "retry",
    ),
    (
        "set lock_timeout = '100ms'; select on a table another session holds locked",
        "ERROR:  canceling statement due to lock timeout\nLINE 1: select * from pgm.acct\n                      ^\n",
        "55P03",
        "infra.timeout",
        "retry",
    ),
    (
        "set statement_timeout = '100ms'; select pg_sleep(1)",
        "ERROR:  canceling statement due to statement timeout\n",
        "57014",
        "infra.timeout",
        "retry",
    ),
    (
        "set temp_file_limit = '1kB'; a sort of 1,000,000 rows",
        "ERROR:  temporary file size exceeds temp_file_limit (1kB)\n",
        "53400",
        "infra.resource",
        "escalate",
    ),
    # a code this table added to sqlstate.py (22P05; 25P03 and 57P05: test_idle_timeouts)
    (
        "select '\"\\u0000\"'::jsonb",
        "ERROR:  unsupported Unicode escape sequence\nLINE 1: select '\"\\u0000\"'::jsonb\n               ^\n"
        'DETAIL:  \\u0000 cannot be converted to text.\nCONTEXT:  JSON data, line 1: "\\u0000...\n',
        "22P05",
        "data.malformed",
        "escalate",
    ),
]


@pytest.mark.parametrize(("how", "output", "state", "category", "remediation"), CAPTURED)
def test_captured_outputs(how, output, state, category, remediation):
    found = pg_messages.find("log", output)
    assert found is not None and found[0].startswith(state + " "), (PSQL + how, found)
    result = triage_text(f"[2026-11-22 03:00:01] running psql\n{output}")
    assert (result.category.value, result.remediation.value) == (category, remediation), result.decided_by


# The idle timeouts (25P03, 57P05, added to sqlstate.py with this table): psql's output, whose last
# line is libpq's "server closed the connection unexpectedly", and psycopg 3.3's exception
IDLE = [
    (
        "FATAL:  terminating connection due to idle-in-transaction timeout\nserver closed the connection unexpectedly\n",
        "psycopg.errors.IdleInTransactionSessionTimeout: terminating connection due to idle-in-transaction timeout",
        "25P03",
    ),
    (
        "FATAL:  terminating connection due to idle-session timeout\nserver closed the connection unexpectedly\n",
        "psycopg.errors.IdleSessionTimeout: terminating connection due to idle-session timeout",
        "57P05",
    ),
]


@pytest.mark.parametrize(("psql_output", "psycopg_line", "state"), IDLE)
def test_idle_timeouts(psql_output, psycopg_line, state):
    found = pg_messages.find("log", psql_output)
    assert found is not None and found[0].startswith(state + " ")
    assert pg_messages.find(*psycopg_line.split(": ", 1)) is None  # the class names the code
    result = triage_text(f'Traceback (most recent call last):\n  File "load.py", line 3, in <module>\n{psycopg_line}\n')
    assert (result.category.value, result.remediation.value) == ("infra.timeout", "retry"), result.decided_by


# (client, exception class, str(exception), SQLSTATE, category): psycopg 3.3 and SQLAlchemy 2.1
# against the same server; psycopg's OperationalError of a failed login carries no SQLSTATE
CLIENTS = [
    (
        "psycopg.connect() with a wrong password",
        "psycopg.OperationalError",
        'connection failed: connection to server at "127.0.0.1", port 55434 failed: FATAL:  password authentication '
        'failed for user "pgm_pw"',
        "28P01",
        "infra.auth",
    ),
    (
        "psycopg.connect() to a database that does not exist",
        "psycopg.OperationalError",
        'connection failed: connection to server at "127.0.0.1", port 55434 failed: FATAL:  database "analytics" '
        "does not exist",
        "3D000",
        "config.missing",
    ),
    (
        "SQLAlchemy create_engine(postgresql+psycopg://...).connect() with a wrong password",
        "sqlalchemy.exc.OperationalError",
        '(psycopg.OperationalError) connection failed: connection to server at "127.0.0.1", port 55434 failed: '
        'FATAL:  password authentication failed for user "pgm_pw"\n(Background on this error at: '
        "https://sqlalche.me/e/21/e3q8)",
        "28P01",
        "infra.auth",
    ),
]


@pytest.mark.parametrize(("how", "type_name", "message", "state", "category"), CLIENTS)
def test_client_formats(how, type_name, message, state, category):
    found = pg_messages.find(type_name, message)
    assert found is not None and found[0].startswith(state + " "), (how, found)
    result = triage_text(
        f'Traceback (most recent call last):\n  File "load.py", line 3, in <module>\n{type_name}: {message}\n'
    )
    assert result.category.value == category, result.decided_by


# The code or the psycopg class is printed: the SQLSTATE facts decide, not the text
PRINTED_CODE = [
    (
        "sqlalchemy.exc.ProgrammingError",
        '(psycopg.errors.UndefinedTable) relation "order_items" does not exist\nLINE 1: select * from order_items\n'
        "                      ^\n[SQL: select * from order_items]\n(Background on this error at: "
        "https://sqlalche.me/e/21/f405)",
        "schema.missing_relation",
    ),
    ("psycopg2.errors.UndefinedColumn", 'column "discount" does not exist', "schema.missing_column"),
    # psql with \set VERBOSITY verbose; pgx's (SQLSTATE x) suffix
    ("log", "ERROR:  canceling statement due to statement timeout (SQLSTATE 57014)", "infra.timeout"),
]


@pytest.mark.parametrize(("type_name", "message", "category"), PRINTED_CODE)
def test_a_printed_code_decides(type_name, message, category):
    assert pg_messages.find(type_name, message) is None
    assert triage_text(f"{type_name}: {message}\n").category.value == category


# Other engines' texts that share words with PostgreSQL's, without its framing or client
LOOK_ALIKES = [
    ("ZeroDivisionError", "division by zero"),  # CPython
    ("duckdb.duckdb.ParserException", 'Parser Error: syntax error at or near "selct"'),  # DuckDB's copy of the parser
    ("snowflake.connector.errors.ProgrammingError", "Database 'ANALYTICS' does not exist or not authorized."),
    ("pyspark.errors.exceptions.captured.ParseException", "[PARSE_SYNTAX_ERROR] Syntax error at or near 'selct'."),
    ("OSError", "could not write /data/out.parquet: No space left on device"),
    ("MemoryError", "out of memory"),
    (
        "log",
        "pymysql.err.OperationalError: (1213, 'Deadlock found when trying to get lock; try restarting transaction')",
    ),
    ("KeyError", "'column \"amount\" does not exist'"),
]


@pytest.mark.parametrize(("type_name", "message"), LOOK_ALIKES)
def test_other_engines_are_not_claimed(type_name, message):
    assert pg_messages.find(type_name, message) is None


def test_table_entries_map_to_their_sqlstate_and_a_category():
    assert 60 <= len(pg_messages.MESSAGES) <= 120
    for entry in pg_messages.MESSAGES:
        base = sqlstate.specific(entry.state) or sqlstate.of_class(entry.state)
        assert base is not None, entry.state  # a code sqlstate.py does not know would have no verdict
        verdict = pg_messages.verdict(entry)
        assert isinstance(verdict.category, Category) and verdict.category == base.category
        assert (verdict.confidence, verdict.remediation) == (base.confidence, base.remediation)
        assert entry.source.startswith("https://github.com/postgres/postgres/blob/master/src/")


# Messages only PostgreSQL prints, read without its framing or client (a Django or bare driver
# error that prints str(exception)): the text rules messages.py held for them are this table's now
UNFRAMED = [
    ("django.db.utils.ProgrammingError", "function to_char_x(date) does not exist", "42883", "code.error"),
    ("django.db.utils.ProgrammingError", "operator does not exist: date = integer", "42883", "code.error"),
    ("django.db.utils.OperationalError", "deadlock detected", "40P01", "infra.timeout"),
    ("django.db.utils.DataError", "integer out of range", "22003", "data.type_mismatch"),
    ("django.db.utils.OperationalError", "FATAL: too many clients already", "53300", "infra.resource"),
    ("django.db.utils.OperationalError", "out of shared memory", "53200", "infra.resource"),
    ("django.db.utils.OperationalError", "canceling statement due to statement timeout", "57014", "infra.timeout"),
    # the texts rules.py read besides this table
    ("django.db.utils.ProgrammingError", 'relation "orders" does not exist', "42P01", "schema.missing_relation"),
    ("django.db.utils.DataError", 'invalid input syntax for integer: "12a"', "22P02", "data.type_mismatch"),
    ("django.db.utils.DataError", 'invalid input syntax for type date: "2021-13-01"', "22007", "data.type_mismatch"),
]


@pytest.mark.parametrize(("type_name", "message", "state", "category"), UNFRAMED)
def test_own_messages_without_framing(type_name, message, state, category):
    found = pg_messages.find(type_name, message)
    assert found is not None and found[0].startswith(state + " "), found
    result = triage_text(
        f'Traceback (most recent call last):\n  File "load.py", line 3, in <module>\n{type_name}: {message}\n'
    )
    assert result.category.value == category, result.decided_by


# Statements of CAPTURED re-run against a live server: the outputs above are the server's own
LIVE = [
    ("select amount, discount from orders", None, "42703"),
    ("select * from order_items", None, "42P01"),
    ("create table staging.orders(id int)", None, "3F000"),
    ("select to_char_x(created) from orders", None, "42883"),
    ("select 2147483647::int + 1", None, "22003"),
    ("copy orders(id) from stdin", b"12a\n", "22P02"),
    ("copy orders(id, created) from stdin", b"1\tyesterday-ish\n", "22007"),
    ("copy orders(id, name) from stdin", b"1\tVery long customer name\n", "22001"),
    ("copy orders(id, amount) from stdin", b"1\t123456789.00\n", "22003"),
    ("copy orders(id, name) from stdin", b"1\tcaf\xe9\n", "22021"),
    ("copy orders(id, name) from stdin with (format csv)", b"1,bob,extra\n", "22P04"),
    ("insert into orders(id) values (1)", None, "23505"),
    ("select (select id from orders)", None, "21000"),
    ("selct * from orders", None, "42601"),
    ("select customer_id, amount from orders group by customer_id", None, "42803"),
    ("set statement_timeout = '50ms'; select pg_sleep(1)", None, "57014"),
]


@pytest.fixture(scope="module")
def pg_schema():
    dsn = postgres_dsn()
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    schema = "pgm_" + uuid.uuid4().hex[:10]
    setup = (
        f"create schema {schema}; create table {schema}.orders(id int primary key, customer_id int, "
        f"amount numeric(6,2), name varchar(8), created date); insert into {schema}.orders values "
        f"(1, 10, 5.00, 'a', '2024-01-01'), (2, 11, 7.00, 'b', '2024-01-02')"
    )
    subprocess.run(["psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", setup], check=True, capture_output=True)
    yield dsn, schema
    subprocess.run(["psql", dsn, "-X", "-q", "-c", f"drop schema {schema} cascade"], capture_output=True)


@pytest.mark.parametrize(("sql", "stdin", "state"), LIVE)
def test_live_psql_outputs(pg_schema, sql, stdin, state):
    dsn, schema = pg_schema
    env = {**os.environ, "PGOPTIONS": f"-c search_path={schema}"}
    proc = subprocess.run(["psql", dsn, "-X", "-q", "-c", sql], input=stdin, capture_output=True, env=env)
    output = proc.stderr.decode("utf-8", "replace")
    found = pg_messages.find("log", output)
    assert found is not None and found[0].startswith(state + " "), output
    expected = sqlstate.specific(state) or sqlstate.of_class(state)
    assert triage_text(output).category == expected.category, output
