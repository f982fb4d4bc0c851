"""SQLSTATE -> category: the five-character codes drivers and warehouses report.

Source: PostgreSQL's errcodes appendix, https://www.postgresql.org/docs/current/errcodes-appendix.html
(the SQL standard's classes, used by PostgreSQL, Redshift, Snowflake, Databricks and Spark; Spark's
copy with descriptions: `error/error-states.json` in pyspark's spark-common-utils jar). A specific
code beats its class; a class is a weaker fact than an engine's own message (Snowflake reports
an unknown identifier as 42000, the catch-all of class 42).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.triage.catalogs.base import Verdict

PG = "https://www.postgresql.org/docs/current/errcodes-appendix.html"
SPARK_STATES = "pyspark/jars/spark-common-utils_2.13-4.3.0.jar:error/error-states.json"


def _v(category: C, confidence: float, why: str, source: str = PG) -> Verdict:
    return Verdict(category, confidence, source, why)


CODES: dict[str, Verdict] = {
    "08001": _v(C.INFRA_NETWORK, 0.8, "SQLSTATE 08001: the client could not establish the connection"),
    "08004": _v(C.INFRA_AUTH, 0.8, "SQLSTATE 08004: the server rejected the connection"),
    "08006": _v(C.INFRA_NETWORK, 0.85, "SQLSTATE 08006: connection failure"),
    "08P01": _v(C.INFRA_NETWORK, 0.7, "SQLSTATE 08P01: protocol violation"),
    "02000": _v(
        C.DATA_EMPTY, 0.4, "SQLSTATE 02000: no data (Snowflake also reports 'does not exist or not authorized' with it)"
    ),
    "21000": _v(
        C.DATA_QUALITY, 0.75, "SQLSTATE 21000: cardinality violation (more than one row where one was expected)"
    ),
    "22001": _v(C.DATA_TYPE_MISMATCH, 0.85, "SQLSTATE 22001: string data right truncation"),
    "22003": _v(C.DATA_TYPE_MISMATCH, 0.85, "SQLSTATE 22003: numeric value out of range"),
    "22007": _v(C.DATA_TYPE_MISMATCH, 0.85, "SQLSTATE 22007: invalid datetime format"),
    "22008": _v(C.DATA_TYPE_MISMATCH, 0.85, "SQLSTATE 22008: datetime field overflow"),
    # a SQL statement divides by an expression that can be zero and does not guard it (NULLIF, a safe
    # divide such as Snowflake's DIV0 or Spark's try_divide): the query is the place to fix it
    "22012": _v(C.CODE_ERROR, 0.6, "SQLSTATE 22012: division by zero in a statement that does not guard its divisor"),
    "22018": _v(C.DATA_TYPE_MISMATCH, 0.9, "SQLSTATE 22018: invalid character value for cast"),
    "22021": _v(C.DATA_MALFORMED, 0.85, "SQLSTATE 22021: character not in repertoire (bad encoding)"),
    "22032": _v(C.DATA_MALFORMED, 0.85, "SQLSTATE 22032: invalid JSON text"),
    "2200N": _v(C.DATA_MALFORMED, 0.85, "SQLSTATE 2200N: invalid XML content"),
    "22P02": _v(C.DATA_TYPE_MISMATCH, 0.9, "SQLSTATE 22P02: invalid text representation"),
    "22P04": _v(C.DATA_MALFORMED, 0.85, "SQLSTATE 22P04: bad COPY file format"),
    # bytes that have no character in the database's encoding (convert, a JSON \u0000): the input's encoding
    "22P05": _v(C.DATA_MALFORMED, 0.85, "SQLSTATE 22P05: untranslatable character (bad encoding)"),
    "23502": _v(C.DATA_QUALITY, 0.9, "SQLSTATE 23502: not-null violation"),
    "23503": _v(C.DATA_QUALITY, 0.9, "SQLSTATE 23503: foreign key violation"),
    "23505": _v(C.DATA_QUALITY, 0.9, "SQLSTATE 23505: unique violation"),
    "23514": _v(C.DATA_QUALITY, 0.9, "SQLSTATE 23514: check violation"),
    # idle_in_transaction_session_timeout ended the session: a limit on time, like 57014
    "25P03": _v(C.INFRA_TIMEOUT, 0.85, "SQLSTATE 25P03: idle-in-transaction session timeout"),
    "25P02": _v(C.UNKNOWN, 0.3, "SQLSTATE 25P02: a previous statement of the transaction failed (look further up)"),
    "28000": _v(C.INFRA_AUTH, 0.9, "SQLSTATE 28000: invalid authorization specification"),
    "28P01": _v(C.INFRA_AUTH, 0.95, "SQLSTATE 28P01: invalid password"),
    "3D000": _v(C.CONFIG_MISSING, 0.8, "SQLSTATE 3D000: the database (catalog) named in the connection does not exist"),
    "3F000": _v(C.SCHEMA_MISSING_RELATION, 0.8, "SQLSTATE 3F000: the schema does not exist"),
    "40001": _v(C.INFRA_NETWORK, 0.75, "SQLSTATE 40001: serialization failure (transient: re-run)"),
    # a lock wait the server broke after deadlock_timeout: contention like 55P03, not the network
    "40P01": _v(C.INFRA_TIMEOUT, 0.75, "SQLSTATE 40P01: deadlock detected (lock contention: re-run)"),
    "42501": _v(C.INFRA_AUTH, 0.9, "SQLSTATE 42501: insufficient privilege"),
    "42601": _v(C.CODE_ERROR, 0.85, "SQLSTATE 42601: syntax error"),
    "42703": _v(C.SCHEMA_MISSING_COLUMN, 0.95, "SQLSTATE 42703: undefined column"),
    "42704": _v(C.SCHEMA_MISSING_RELATION, 0.6, "SQLSTATE 42704: undefined object"),
    "42883": _v(C.CODE_ERROR, 0.85, "SQLSTATE 42883: undefined function"),
    "42P01": _v(C.SCHEMA_MISSING_RELATION, 0.95, "SQLSTATE 42P01: undefined table"),
    "42S02": _v(C.SCHEMA_MISSING_RELATION, 0.9, "SQLSTATE 42S02 (ODBC, Snowflake): base table or view not found"),
    "42S22": _v(C.SCHEMA_MISSING_COLUMN, 0.9, "SQLSTATE 42S22 (ODBC): column not found"),
    "53100": _v(C.INFRA_RESOURCE, 0.95, "SQLSTATE 53100: disk full"),
    "53200": _v(C.INFRA_RESOURCE, 0.95, "SQLSTATE 53200: out of memory"),
    "53300": _v(
        C.INFRA_RESOURCE, 0.85, "SQLSTATE 53300: too many connections (the server's connection slots are used up)"
    ),
    "55P03": _v(C.INFRA_TIMEOUT, 0.75, "SQLSTATE 55P03: lock not available"),
    "57014": _v(C.INFRA_TIMEOUT, 0.9, "SQLSTATE 57014: query canceled (statement timeout)"),
    "57P01": _v(C.INFRA_NETWORK, 0.8, "SQLSTATE 57P01: admin shutdown (the server restarted)"),
    "57P02": _v(C.INFRA_NETWORK, 0.8, "SQLSTATE 57P02: crash shutdown"),
    "57P03": _v(C.INFRA_NETWORK, 0.8, "SQLSTATE 57P03: cannot connect now"),
    # idle_session_timeout (PostgreSQL 14) ended an idle session: a time limit, not the network
    "57P05": _v(C.INFRA_TIMEOUT, 0.85, "SQLSTATE 57P05: idle session timeout"),
}

CLASSES: dict[str, Verdict] = {
    "08": _v(C.INFRA_NETWORK, 0.75, "SQLSTATE class 08: connection exception"),
    "0A": _v(C.CODE_ERROR, 0.65, "SQLSTATE class 0A: feature not supported"),
    "0L": _v(C.INFRA_AUTH, 0.7, "SQLSTATE class 0L: invalid grantor"),
    "0P": _v(C.INFRA_AUTH, 0.7, "SQLSTATE class 0P: invalid role specification"),
    "21": _v(C.DATA_QUALITY, 0.7, "SQLSTATE class 21: cardinality violation"),
    "22": _v(C.DATA_TYPE_MISMATCH, 0.75, "SQLSTATE class 22: data exception"),
    "23": _v(C.DATA_QUALITY, 0.85, "SQLSTATE class 23: integrity constraint violation"),
    "28": _v(C.INFRA_AUTH, 0.9, "SQLSTATE class 28: invalid authorization specification"),
    "3D": _v(C.CONFIG_MISSING, 0.75, "SQLSTATE class 3D: invalid catalog name"),
    "3F": _v(C.SCHEMA_MISSING_RELATION, 0.75, "SQLSTATE class 3F: invalid schema name"),
    "40": _v(C.INFRA_NETWORK, 0.7, "SQLSTATE class 40: transaction rollback (transient: re-run)"),
    "42": _v(C.CODE_ERROR, 0.6, "SQLSTATE class 42: syntax error or access rule violation"),
    "53": _v(C.INFRA_RESOURCE, 0.9, "SQLSTATE class 53: insufficient resources"),
    "54": _v(C.INFRA_RESOURCE, 0.6, "SQLSTATE class 54: program limit exceeded"),
    "57": _v(C.INFRA_NETWORK, 0.65, "SQLSTATE class 57: operator intervention"),
    "58": _v(C.INFRA_RESOURCE, 0.65, "SQLSTATE class 58: system error (I/O)"),
}

# "SQLSTATE: 42703", "SQLSTATE 42P01", "sqlstate=28P01", "(SQLSTATE 42S02)", snowflake's
# "000904 (42000):" and psycopg's "pgcode"; only codes of the five-character shape.
_STATE = re.compile(
    r"\bSQL ?STATE\b[\s:=\[\"']*(?P<a>[0-9A-Z]{5})\b|\b\d{6} \((?P<b>[0-9A-Z]{5})\):|\bpgcode\b[\s:=\"']*(?P<c>[0-9A-Z]{5})\b"
    # pyodbc: ('42S02', "[42S02] [Microsoft][ODBC Driver 18 for SQL Server]..."); MySQL client: ERROR 1045 (28000):
    r"|\('(?P<d>[0-9A-Z]{5})', [\"']\[|\[(?P<e>[0-9A-Z]{5})\] \[|\bERROR \d{4} \((?P<f>[0-9A-Z]{5})\)"
    # a PostgreSQL server log whose log_line_prefix has %e, as Heroku Postgres prints it
    # (https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LINE-PREFIX)
    r"|\bsql_error_code\s*=\s*(?P<g>[0-9A-Z]{5})\b",
    re.I,
)


def find_state(message: str) -> str | None:
    match = _STATE.search(message)
    if not match:
        return None
    state = next(g for g in match.groups() if g).upper()
    return state if re.fullmatch(r"[0-9A-Z]{2}[0-9A-Z]{3}", state) and state[:2] not in ("00", "01", "HY") else None


def specific(state: str) -> Verdict | None:
    """The verdict of one SQLSTATE code itself (not its class)."""
    return CODES.get(state)


def of_class(state: str) -> Verdict | None:
    return CLASSES.get(state[:2])


@lru_cache(maxsize=1)
def psycopg_classes() -> dict[str, str]:
    """psycopg.errors / psycopg2.errors class name -> SQLSTATE (see build.py)."""
    classes: dict[str, str] = json.loads((Path(__file__).with_name("pg_sqlstates.json")).read_text())
    return classes
