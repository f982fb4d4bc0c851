"""Log shapes seen in outputs posted to trackers: a prefix that wraps every line of a traceback
(syslog, journald, logplex, cron, Python logging), SQLAlchemy's wrapped DBAPI error printed
mid-line, a bare exception line whose class is not named *Error, a str's repr of one."""

from __future__ import annotations

import subprocess

import pytest

from patchit_provider.engine.logs import read_log
from patchit_provider.engine.taxonomy import Category
from patchit_testing import DBT_BIN, dbt_project, triage_text

BODY = [
    "Traceback (most recent call last):",
    '  File "/opt/etl/postgres_queries.py", line 159, in get_heap_hit_statistics',
    "    ratio = hit / float(hit + read)",
    "ZeroDivisionError: float division by zero",
]


@pytest.mark.parametrize(
    "prefix",
    [
        "Nov  2 16:01:{n:02d} etl-host app[4242]: ",  # RFC 3164 syslog; journald's --output=short
        "2015-11-17T10:33:{n:02d}.001+00:00 etl-host app 4242 - - ",  # RFC 5424
        "2023-01-01T00:00:{n:02d}+00:00 app[web.1]: ",  # Heroku logplex
        "Dec 10 08:31:{n:02d} host CROND[372283]: (root) CMDOUT (",  # cronie's CMDOUT (<line>)
        "2023-01-01 10:00:{n:02d},123 ERROR etl.load: ",  # logging "%(asctime)s %(levelname)s %(name)s: "
    ],
)
def test_a_prefix_shared_by_every_line_is_stripped(prefix):
    close = ")" if prefix.endswith("(") else ""
    log = "".join(prefix.format(n=n) + line + close + "\n" for n, line in enumerate(["starting", *BODY]))
    error = read_log(log).error
    assert error is not None and error.type == "ZeroDivisionError"
    assert [(f.path, f.line, f.code) for f in error.frames] == [
        ("/opt/etl/postgres_queries.py", 159, "ratio = hit / float(hit + read)")
    ]


def test_syslog_that_dropped_the_indentation():
    # https://github.com/spotify/postgresql-metrics/issues/7 (as posted: no leading blanks)
    site = "/usr/share/python/postgresql-metrics/local/lib/python2.7/site-packages/postgresql_metrics"
    lines = [
        "Traceback (most recent call last):",
        f'File "{site}/metrics_logic.py", line 103, in _call_all_db_functions',
        "metrics.extend(db_metrics_func(db_parameter))",
        f'File "{site}/postgres_queries.py", line 159, in get_heap_hit_statistics',
        "recent_heap_hit_ratio = recent_heap_hit / float(recent_heap_hit + recent_heap_read)",
        "ZeroDivisionError: float division by zero",
    ]
    log = "".join(f"2015-11-17T10:33:21.001+00:00 lon2-artifactory4-a2.lon2.spotify.net {line}\n" for line in lines)
    error = read_log(log).error
    assert error is not None and (error.type, error.message) == ("ZeroDivisionError", "float division by zero")
    assert [f.line for f in error.frames] == [103, 159]
    assert error.frames[-1].code.startswith("recent_heap_hit_ratio =")


def test_the_prefix_ends_with_the_traceback():
    log = "".join("Nov 02 16:01:17 host app[1]: " + line + "\n" for line in BODY) + "Nov 02 16:01:18 other: done\n"
    error = read_log(log).error
    assert error is not None and error.type == "ZeroDivisionError" and error.message == "float division by zero"


def test_sqlalchemy_wrapped_error_mid_line():
    # https://github.com/lexicalunit/spellbot/issues/642
    log = (
        "Nov 02 16:01:17 lexicalunit-spellbot app/postgres.30014 [ROSE] [11-1]  sql_error_code = 22012 ERROR:  "
        "division by zero\n"
        "[2021-11-03 00:01:16][spellbot.interactions][ERROR] - error: rolling back database session due to "
        "unhandled exception: DataError: (psycopg2.errors.DivisionByZero) division by zero\n"
    )
    error = read_log(log).error
    assert error is not None and (error.type, error.message) == ("psycopg2.errors.DivisionByZero", "division by zero")


def test_sqlalchemy_details_line_keeps_the_servers_detail():
    # https://github.com/teksi/wastewater/issues/213
    log = (
        "Details: (psycopg2.errors.NumericValueOutOfRange) FEHLER:  Feldüberlauf bei Typ »numeric«\n"
        "DETAIL:  Ein Feld mit Präzision 3, Skala 1 muss beim Runden einen Betrag von weniger als 10^2 ergeben.\n"
        "\n[SQL: INSERT INTO tww_od.hydraulic_char_data (obj_id) VALUES (%(obj_id)s)]\n"
        "(Background on this error at: https://sqlalche.me/e/14/9h9h)\n"
    )
    error = read_log(log).error
    assert error is not None and error.type == "psycopg2.errors.NumericValueOutOfRange"
    assert error.message.startswith("FEHLER:") and "Präzision 3" in error.message and "[SQL" not in error.message


def test_a_known_class_not_named_error():
    # https://github.com/DHI/mikeio/issues/633
    error = read_log(
        "OutOfBoundsDatetime: Out of bounds nanosecond timestamp: 2500-01-01 00:00:00, at position 1.\n"
    ).error
    assert error is not None and error.type == "OutOfBoundsDatetime"


def test_a_strs_repr_of_an_exception_line():
    error = read_log("'requests.exceptions.TooManyRedirects: Exceeded 30 redirects.'\n").error
    assert error is not None and error.type == "requests.exceptions.TooManyRedirects"


@pytest.mark.parametrize(
    "line",
    [
        "ResultSummary: 3 rows loaded",  # a CamelCase label the catalogs do not know
        "see (sqlalchemy.orm.Session) for details",  # a parenthesized class that is no exception
        "Nov 02 16:01:17 host app[1]: Traceback of the request follows",  # no traceback header
    ],
)
def test_look_alikes_are_no_exception(line):
    assert read_log(line + "\n").error is None


def test_a_prefix_on_the_header_line_only():
    # a logger that prints traceback.format_exc() as one message: only the first line has its prefix
    log = "[2021-11-03 00:01:16][etl.load][ERROR] - " + "\n".join(BODY) + "\n"
    error = read_log(log).error
    assert error is not None and error.type == "ZeroDivisionError" and error.frames[0].line == 159


@pytest.mark.skipif(not DBT_BIN.exists(), reason="dbt is installed by scripts/setup.sh")
def test_a_real_dbt_run_with_log_format_json(tmp_path):
    """dbt's structured log (`--log-format json`, one JSON object a line, the node's error as one
    record's multi-line message) is read like its console output: the model, then its database
    error, triaged as the missing column it is."""
    dbt_project(tmp_path, "shapes", {"orders.sql": "select order_total from (select 1 as amount) as src\n"})
    proc = subprocess.run(
        [str(DBT_BIN), "--log-format", "json", "--no-use-colors", "run", "--profiles-dir", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode != 0 and proc.stdout.lstrip().startswith("{"), proc.stdout[-2000:]
    digest = read_log(proc.stdout)
    assert digest.error is not None and digest.error.type.startswith("dbt "), digest.error
    assert "order_total" in digest.error.message
    result = triage_text(proc.stdout)
    assert result.category == Category.SCHEMA_MISSING_COLUMN
    assert result.culprit is not None and result.culprit.path.endswith("models/orders.sql")
