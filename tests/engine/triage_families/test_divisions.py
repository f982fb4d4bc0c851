"""A division by zero: dividing by a size of the input that was empty is `data.empty`; dividing
by a value the code computes without guarding its zero (a ratio, a step, a SQL divisor) is the
code's error, fixed where it divides."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import traceback

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_testing import postgres_dsn, triage_text


def _cpython_output(tmp_path, body: str) -> str:
    """What CPython prints for `body` run as a script (a real traceback with its source lines)."""
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "ZeroDivisionError" in run.stderr
    return run.stderr


@pytest.mark.parametrize(
    ("body", "category", "remediation"),
    [
        # the size of an empty input: the data owner's question, not the code's
        ("rows = []\ntotal = 0\nprint(total / len(rows))\n", Category.DATA_EMPTY, "escalate"),
        (
            "import collections\nseen = collections.Counter()\nn_rows = 0\nprint(sum(seen.values()) / n_rows)\n",
            Category.DATA_EMPTY,
            "escalate",
        ),
        # a ratio of two computed quantities (github.com/spotify/postgresql-metrics/issues/7)
        (
            "hit, read = 0, 0\nratio = hit / float(hit + read)\n",
            Category.CODE_ERROR,
            "patch",
        ),
        # a step derived from the data, used as a divisor in a helper
        (
            "def blocks(count, step):\n    return int(count / step)\n\nblocks(10, max([0]))\n",
            Category.CODE_ERROR,
            "patch",
        ),
    ],
)
def test_a_python_division_by_zero_is_read_from_its_divisor(tmp_path, body, category, remediation):
    found = triage_text(_cpython_output(tmp_path, body))
    assert (found.category, found.remediation.value) == (category, remediation)


def test_a_division_by_zero_without_its_source_line_keeps_the_taxonomy_default():
    """No line shows the divisor (a log that prints only the exception): the taxonomy's reading."""
    found = triage_text("ERROR - Task failed\nZeroDivisionError: division by zero\n")
    assert found.category == Category.DATA_EMPTY


POSTED = [
    # a Heroku Postgres log line with the SQLSTATE, then SQLAlchemy's wrapper
    # (https://github.com/lexicalunit/spellbot/issues/642)
    "Nov 02 16:01:17 lexicalunit-spellbot app/postgres.30014 [ROSE] [11-1]  sql_error_code = 22012 ERROR:  "
    "division by zero\n"
    "[2021-11-03 00:01:16][spellbot.interactions][ERROR] - error: rolling back database session due to "
    "unhandled exception: DataError: (psycopg2.errors.DivisionByZero) division by zero\n",
    # dbt on Snowflake (https://github.com/get-select/dbt-snowflake-monitoring/issues/26)
    "15:15:19  Database Error in model cost_per_query (models/cost_per_query.sql)\n"
    "15:15:19    100051 (22012): Division by zero\n"
    "15:15:19    compiled Code at target/run/dbt_snowflake_monitoring/models/cost_per_query.sql\n",
]


@pytest.mark.parametrize("text", POSTED)
def test_a_sql_division_by_zero_is_the_statement_s_unguarded_divisor(text):
    found = triage_text(text)
    assert (found.category, found.remediation.value) == (Category.CODE_ERROR, "patch")
    assert "22012" in found.decided_by


def test_real_postgresql_division_by_zero():
    """PostgreSQL's own 22012 through psycopg (PATCHIT_TEST_PG_URL, scripts/postgres.sh)."""
    psycopg = importlib.import_module("psycopg")
    with psycopg.connect(postgres_dsn(), connect_timeout=10) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero) as caught:
            conn.execute("select sum(amount) / count(*) filter (where amount > 100) from (values (1), (2)) t(amount)")
    found = triage_text("".join(traceback.format_exception(caught.value)))
    assert (found.category, found.remediation.value) == (Category.CODE_ERROR, "patch")
