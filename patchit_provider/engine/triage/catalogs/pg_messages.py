"""PostgreSQL's error messages -> the SQLSTATE they are reported with, for logs that print the
text without the code (psql's "ERROR:  extra data after last expected column", pgloader, a
SQLAlchemy or Airflow operator that stringifies the server's message).

PostgreSQL's source pairs every message with its code, `ereport(ERROR, (errcode(ERRCODE_...),
errmsg("...")))`; each entry below is one errmsg template (its %s / %d as wildcards) with that
code and the file that raises it (https://github.com/postgres/postgres/tree/master/src, checked
against PostgreSQL 15's own `\\set VERBOSITY verbose` output, which prints SQLSTATE and LOCATION).
Redshift and Greenplum keep PostgreSQL's texts and codes. The verdict is the SQLSTATE's own
(catalogs/sqlstate.py), so one table says what a code means; this one only says which code a text is.
Left out, as their code's verdict would misread them: 42704 for a role, a type or an unknown
setting (`unrecognized configuration parameter`), 22023 `invalid value for parameter`, 26000
`prepared statement "x" does not exist`, 58P01 on a COPY file, 25006 in a read-only transaction,
and namespace.c's "improper relation name" (messages.py reads it as a settings problem).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from patchit_provider.engine.triage.catalogs import sqlstate
from patchit_provider.engine.triage.catalogs.base import Verdict

SRC = "https://github.com/postgres/postgres/blob/master/src/"
SOURCE = f"{SRC} (errcode/errmsg pairs); {sqlstate.PG}"


class Message(NamedTuple):
    regex: re.Pattern[str]
    state: str
    source: str  # the file under src/ that raises it
    own: bool  # no other engine prints this text: read it without PostgreSQL's framing


_QUOTE = r'\\?"'


def _m(template: str, state: str, path: str, own: bool = False) -> Message:
    """`template`: errmsg's format as a regex, `%s` a value, `%d` a number, `"` a quote a log
    may have escaped (\\"). A value that ends the message is read whole: a quoted name, else the line."""
    regex = template.replace('"', _QUOTE).replace("%d", r"-?\d+")
    if regex.endswith("%s"):
        regex = regex[:-2] + rf"(?:{_QUOTE}[^\"\n]{{0,200}}{_QUOTE}|[^\n]{{1,80}})"
    return Message(re.compile(regex.replace("%s", r"[^\n]{1,200}?")), state, SRC + path, own)


_PARSE_REL = "backend/parser/parse_relation.c"
_AUTH = "backend/libpq/auth.c"
_POSTGRES = "backend/tcop/postgres.c"
_POSTINIT = "backend/utils/init/postinit.c"
_COPY = "backend/commands/copyfromparse.c"
_SCAN = "backend/parser/scan.l"
_ANALYZE = "backend/parser/analyze.c"
_EXEC = "backend/executor/execMain.c"

# Ordered: where two templates match at the same place, the first (more specific) wins.
MESSAGES: tuple[Message, ...] = (
    # missing objects: the statement names a column, relation, schema or function the database lacks
    _m("column %s of relation %s does not exist", "42703", "backend/parser/parse_target.c"),
    _m("column %s does not exist", "42703", _PARSE_REL),
    _m("missing FROM-clause entry for table %s", "42P01", _PARSE_REL, own=True),
    _m("relation %s does not exist", "42P01", _PARSE_REL),
    # unframed (a Django or SQLAlchemy error): the name quote_identifier printed in double quotes
    _m('relation "%s" does not exist', "42P01", _PARSE_REL, own=True),
    _m(
        "(?:table|view|materialized view|sequence|foreign table) %s does not exist",
        "42P01",
        "backend/commands/tablecmds.c",
    ),
    _m("index %s does not exist", "42704", "backend/commands/tablecmds.c"),
    _m("schema %s does not exist", "3F000", "backend/catalog/namespace.c"),
    _m("database %s does not exist", "3D000", _POSTINIT),
    # the signature func_signature_string prints, name(argument types), is PostgreSQL's own
    _m(r'\bfunction [\w.$"]+\((?:%s)?\) does not exist', "42883", "backend/parser/parse_func.c", own=True),
    _m("function %s does not exist", "42883", "backend/parser/parse_func.c"),
    _m("operator does not exist: %s", "42883", "backend/parser/parse_oper.c", own=True),
    # authentication and privileges: the server refused the login or the object
    _m("password authentication failed for user %s", "28P01", _AUTH, own=True),
    _m("(?:Ident|peer|LDAP|RADIUS|certificate|GSSAPI|SSPI|PAM|BSD) authentication failed for user %s", "28000", _AUTH),
    _m("no pg_hba.conf entry for host %s", "28000", _AUTH, own=True),
    _m("pg_hba.conf rejects connection for host %s", "28000", _AUTH, own=True),
    _m("role %s is not permitted to log in", "28000", "backend/utils/init/miscinit.c", own=True),
    # at login (InitializeSessionUserId) a missing role is 28000; in GRANT it is 42704, left out
    _m(r"FATAL:\s+role %s does not exist", "28000", "backend/utils/init/miscinit.c"),
    _m(
        "permission denied for (?:table|relation|schema|database|sequence|function|procedure|routine|view|"
        "materialized view|foreign table|type|language|large object|tablespace|column|foreign server) %s",
        "42501",
        "backend/catalog/aclchk.c",
    ),
    _m(
        r"permission denied to (?:create|drop|alter|set|grant|truncate|terminate|cancel)\b",
        "42501",
        "backend/commands/dbcommands.c",
    ),
    _m("must be owner of %s", "42501", "backend/catalog/aclchk.c"),
    _m(r"must be superuser\b", "42501", "backend/commands/copy.c"),
    _m("could not open file %s for reading: Permission denied", "42501", "backend/utils/adt/genfile.c"),
    # the server went away or refuses connections for now (transient)
    _m(
        "the database system is (?:starting up|shutting down|in recovery mode|not (?:yet )?accepting connections)",
        "57P03",
        "backend/postmaster/postmaster.c",
        own=True,
    ),
    _m("terminating connection due to administrator command", "57P01", _POSTGRES, own=True),
    _m("terminating connection because of crash of another server process", "57P02", _POSTGRES, own=True),
    _m("(?:canceling statement|terminating connection) due to conflict with recovery", "40001", _POSTGRES, own=True),
    _m("could not serialize access due to %s", "40001", "backend/storage/lmgr/predicate.c", own=True),
    _m("deadlock detected", "40P01", "backend/storage/lmgr/deadlock.c", own=True),
    # time limits
    _m("canceling statement due to statement timeout", "57014", _POSTGRES, own=True),
    _m("canceling statement due to user request", "57014", _POSTGRES, own=True),
    _m("canceling statement due to lock timeout", "55P03", _POSTGRES, own=True),
    _m("could not obtain lock on (?:relation|row in relation) %s", "55P03", "backend/commands/lockcmds.c"),
    _m("terminating connection due to idle-in-transaction timeout", "25P03", _POSTGRES, own=True),
    _m("terminating connection due to idle-session timeout", "57P05", _POSTGRES, own=True),
    # resources of the server: connection slots, memory, disk
    # (a log that quotes the message may drop its "sorry, ")
    _m("(?:sorry, )?too many clients already", "53300", "backend/storage/lmgr/proc.c", own=True),
    _m("remaining connection slots are reserved for %s", "53300", _POSTINIT, own=True),
    _m("too many connections for (?:role|database) %s", "53300", _POSTINIT, own=True),
    # "out of memory" alone is every program's: only with mcxt.c's DETAIL
    _m(r"out of memory\s+DETAIL:\s+Failed on request of size %d", "53200", "backend/utils/mmgr/mcxt.c", own=True),
    _m("out of shared memory", "53200", "backend/storage/lmgr/lock.c", own=True),
    # errcode_for_file_access (backend/utils/error/elog.c) reports ENOSPC as 53100 disk_full
    _m("could not %s: No space left on device", "53100", "backend/storage/smgr/md.c"),
    _m(r"temporary file size exceeds temp_file_limit \(%dkB\)", "53400", "backend/storage/file/fd.c", own=True),
    # values of the data that do not convert (the date/time types report 22007, before 22P02)
    # (only PostgreSQL and its forks print "invalid input syntax for": read unframed too; "for integer" is before 12)
    _m(
        r"invalid input syntax for type (?:date|time|timestamp|interval)\b",
        "22007",
        "backend/utils/adt/datetime.c",
        own=True,
    ),
    _m("invalid input syntax for (?:type )?%s", "22P02", "backend/utils/adt/numutils.c", own=True),
    _m("invalid input value for enum %s", "22P02", "backend/utils/adt/enum.c", own=True),
    _m("malformed (?:array|record) literal: %s", "22P02", "backend/utils/adt/arrayfuncs.c", own=True),
    _m("date/time field value out of range: %s", "22008", "backend/utils/adt/datetime.c", own=True),
    _m(r"\b(?:timestamp|date) out of range\b", "22008", "backend/utils/adt/timestamp.c"),
    _m('invalid value "%s" for "%s"', "22007", "backend/utils/adt/formatting.c"),
    _m(r"value too long for type character(?: varying)?\(%d\)", "22001", "backend/utils/adt/varchar.c", own=True),
    _m("numeric field overflow", "22003", "backend/utils/adt/numeric.c", own=True),
    _m(r"\b(?:smallint|integer|bigint) out of range\b", "22003", "backend/utils/adt/int8.c", own=True),
    _m('value "%s" is out of range for type (?:smallint|integer|bigint)', "22003", "backend/utils/adt/numutils.c"),
    _m('"%s" is out of range for type (?:real|double precision)', "22003", "backend/utils/adt/float.c"),
    _m("value out of range: (?:overflow|underflow)", "22003", "backend/utils/adt/float.c"),
    _m("division by zero", "22012", "backend/utils/adt/int.c"),
    # bytes that are not text of the encoding
    _m("invalid byte sequence for encoding %s: 0x", "22021", "backend/utils/mb/mbutils.c", own=True),
    _m(
        "character with byte sequence %s in encoding %s has no equivalent in encoding",
        "22P05",
        "backend/utils/mb/mbutils.c",
        own=True,
    ),
    _m("unsupported Unicode escape sequence", "22P05", "backend/utils/adt/jsonfuncs.c"),
    # COPY: the file's lines do not have the table's shape
    _m("extra data after last expected column", "22P04", _COPY, own=True),
    _m("missing data for column %s", "22P04", _COPY, own=True),
    _m("unterminated CSV quoted field", "22P04", _COPY, own=True),
    _m("(?:literal|unquoted) (?:carriage return|newline) found in data", "22P04", _COPY, own=True),
    _m("end-of-copy marker corrupt", "22P04", _COPY, own=True),
    # constraints the rows break
    _m("null value in column %s violates not-null constraint", "23502", _EXEC, own=True),
    _m("duplicate key value violates unique constraint %s", "23505", "backend/access/nbtree/nbtinsert.c", own=True),
    _m(
        "(?:insert or update|update or delete) on table %s violates foreign key constraint %s",
        "23503",
        "backend/utils/adt/ri_triggers.c",
        own=True,
    ),
    _m("new row for relation %s violates check constraint %s", "23514", _EXEC, own=True),
    _m("conflicting key value violates exclusion constraint %s", "23P01", "backend/executor/execIndexing.c", own=True),
    _m(
        "more than one row returned by a subquery used as an expression",
        "21000",
        "backend/executor/nodeSubplan.c",
        own=True,
    ),
    _m(
        "(?:ON CONFLICT DO UPDATE|MERGE) command cannot affect row a second time",
        "21000",
        "backend/executor/nodeModifyTable.c",
        own=True,
    ),
    # the statement itself: syntax, shape, types and names it uses wrongly
    _m("syntax error at or near %s", "42601", _SCAN),
    _m("syntax error at end of input", "42601", _SCAN),
    _m("unterminated quoted (?:string|identifier) at or near %s", "42601", _SCAN),
    _m("zero-length delimited identifier at or near %s", "42601", _SCAN, own=True),
    _m(
        "INSERT has more (?:expressions than target columns|target columns than expressions)",
        "42601",
        _ANALYZE,
        own=True,
    ),
    _m("subquery in FROM must have an alias", "42601", "backend/parser/gram.y", own=True),
    _m("each (?:UNION|INTERSECT|EXCEPT) query must have the same number of columns", "42601", _ANALYZE, own=True),
    _m("column reference %s is ambiguous", "42702", _PARSE_REL, own=True),
    _m(
        "column %s must appear in the GROUP BY clause or be used in an aggregate function",
        "42803",
        "backend/parser/parse_agg.c",
        own=True,
    ),
    _m("aggregate functions are not allowed in %s", "42803", "backend/parser/parse_agg.c", own=True),
    _m("column %s is of type %s but expression is of type %s", "42804", "backend/parser/parse_target.c", own=True),
    _m("column %s cannot be cast automatically to type %s", "42804", "backend/commands/tablecmds.c", own=True),
    _m("cannot cast type %s to %s", "42846", "backend/parser/parse_coerce.c"),
    _m("function %s is not unique", "42725", "backend/parser/parse_func.c"),
    _m(r"could not determine data type of parameter \$%d", "42P18", "backend/parser/parse_param.c", own=True),
    _m(r"there is no parameter \$%d", "42P02", "backend/parser/parse_expr.c", own=True),
    _m("column %s of relation %s already exists", "42701", "backend/commands/tablecmds.c"),
    _m("relation %s already exists", "42P07", "backend/catalog/heap.c"),
    _m("table name %s specified more than once", "42712", _PARSE_REL, own=True),
    _m(
        "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        "42P10",
        "backend/optimizer/util/plancat.c",
        own=True,
    ),
    _m("cross-database references are not implemented: %s", "0A000", "backend/catalog/namespace.c", own=True),
    # an earlier statement of the transaction failed: 25P02 is `unknown`, the error above it decides
    _m("current transaction is aborted, commands ignored until end of transaction block", "25P02", _POSTGRES, own=True),
)

# PostgreSQL's framing: the severity with its two spaces (psql, libpq, server logs, Ruby's PG::),
# psql's "psql:file:line:", the DETAIL/HINT/CONTEXT/LINE lines, pg8000/redshift_connector's
# field dict ('S': 'ERROR'), Go lib/pq's "pq: ", and the clients' and forks' names
_FRAMED = re.compile(
    r"\b(?:ERROR|FATAL|PANIC):  \S|^\s*(?:DETAIL|HINT|CONTEXT|LINE \d+):\s|'[SV]': '(?:ERROR|FATAL)'|\bpsql:|\bpq: ",
    re.M,
)
_CLIENT = re.compile(r"psycopg|pg8000|asyncpg|pgloader|PSQLException|redshift|greenplum|postgres|\bPG::", re.I)
# the code or the psycopg class printed: the SQLSTATE facts decide (resolve.code_facts)
_PSYCOPG_CLASS = re.compile(r"\bpsycopg2?\.errors\.(\w+)")


def _printed_state(type_name: str, text: str) -> bool:
    if sqlstate.find_state(text):
        return True
    classes = sqlstate.psycopg_classes()
    if "psycopg" in type_name and type_name.rsplit(".", 1)[-1] in classes:
        return True
    return any(name in classes for name in _PSYCOPG_CLASS.findall(text))


def verdict(message: Message) -> Verdict:
    """The SQLSTATE's own verdict, citing the file that raises the message."""
    base = sqlstate.specific(message.state) or sqlstate.of_class(message.state)
    assert base is not None, message.state  # tests/engine/triage_families/test_pg_messages.py
    why = f"PostgreSQL reports this message with {base.why}"
    return Verdict(base.category, base.confidence, f"{message.source}; {base.source}", why, base.remediation)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """("<SQLSTATE> <message>", verdict) of the first PostgreSQL message of this table in an error
    that is PostgreSQL's (its framing or client, or a text only PostgreSQL prints)."""
    text = f"{type_name}: {message[:4000]}"
    if _printed_state(type_name, text):
        return None
    framed = bool(_FRAMED.search(text) or _CLIENT.search(text))
    best: tuple[int, int, re.Match[str]] | None = None
    for index, entry in enumerate(MESSAGES):
        if not (framed or entry.own):
            continue
        match = entry.regex.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), index, match)
    if best is None:
        return None
    entry = MESSAGES[best[1]]
    return f"{entry.state} {best[2].group(0)[:80]}", verdict(entry)
