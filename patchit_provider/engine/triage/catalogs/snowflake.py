"""Snowflake's numbered errors -> category: the server's codes and snowflake-connector-python's own.

Sources: the connector's errno table (errorcode.py, `ER_*`, 25xxxx) and the format its Error class
prints, `{errno:06d} ({sqlstate}): {message}` or `{errno:06d}: {message}` without a SQLSTATE
(errors.py; gosnowflake and SnowSQL print the same shape); the server's login codes
(snowflake-connector-nodejs lib/constants/gs_errors.js: 390100, 390114, ...; the key-pair and network
policy pages for 390144 and 390422); the server's statement codes as Snowflake's SQL reference and
SQL API pages return them (`code`, `sqlState`, `message`). JDBC prints the number without its
zeros (`SQLSTATE(57P03), ErrorCode(606)`, `vendorCode:390,144`). A server code is more specific
than the SQLSTATE it borrows (000606 comes with 57P03, PostgreSQL's "cannot connect now").
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict, each

CONNECTOR = "https://github.com/snowflakedb/snowflake-connector-python/blob/main/src/snowflake/connector/errorcode.py"
FORMAT = "https://github.com/snowflakedb/snowflake-connector-python/blob/main/src/snowflake/connector/errors.py"
LOGIN = (
    "https://github.com/snowflakedb/snowflake-connector-nodejs/blob/master/lib/constants/gs_errors.js; "
    "https://docs.snowflake.com/en/user-guide/key-pair-auth-troubleshooting; "
    "https://docs.snowflake.com/en/user-guide/network-policies"
)
SERVER = "https://docs.snowflake.com/en/developer-guide/sql-api/handling-errors (a failed statement's code, sqlState, message)"
SOURCE = f"{CONNECTOR}; {FORMAT}; {LOGIN}; {SERVER}"


def _v(
    category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.9, source: str = SERVER
) -> Verdict:
    return Verdict(category, confidence, source, f"Snowflake {why}", remediation)


_RETRY = Remediation.RETRY

CODES: dict[str, Verdict] = {
    # --- the statement's own names: a compilation error names what it cannot resolve
    "000904": _v(C.SCHEMA_MISSING_COLUMN, "000904: invalid identifier (a column that does not exist)", confidence=0.95),
    "002003": _v(C.SCHEMA_MISSING_RELATION, "002003: the object does not exist or the role cannot see it"),
    # --- the SQL itself is wrong: a code change fixes it
    **each(
        "001003 001044 002140",
        _v(C.CODE_ERROR, "compilation error: syntax, argument types or an unknown function"),
    ),
    "002002": _v(
        C.CODE_ERROR, "002002: the object already exists (CREATE without OR REPLACE / IF NOT EXISTS)", confidence=0.8
    ),
    # --- authentication and privileges: a person must grant or renew
    **each(
        "390100 390114 390144 390189 390318 390422",
        _v(
            C.INFRA_AUTH,
            "login refused: credentials, key pair, token, role or network policy",
            source=LOGIN,
            confidence=0.95,
        ),
    ),
    "003001": _v(C.INFRA_AUTH, "003001: insufficient privileges on the object", confidence=0.95),
    # --- the session names no warehouse or database: the connection's settings
    **each(
        "000606 090105",
        _v(C.CONFIG_MISSING, "the session has no current warehouse or database (connection setting)", confidence=0.95),
    ),
    # --- time limits and lock contention (57014)
    "000630": _v(C.INFRA_TIMEOUT, "000630: the statement reached its statement or warehouse timeout", confidence=0.95),
    "000625": _v(C.INFRA_TIMEOUT, "000625: aborted waiting for a lock other statements hold (contention)", _RETRY),
    # a server incident ("Processing aborted due to error 300010"): the service, not the statement
    "000603": _v(C.INFRA_NETWORK, "000603: SQL execution internal error (a server incident)", _RETRY, 0.75),
    # --- values of the data (100xxx): a value that does not fit its type, a file that does not fit its table
    **each(
        "100035 100038 100040 100046 100071",
        _v(C.DATA_TYPE_MISMATCH, "a value is not recognized as, or does not fit, its type"),
    ),
    "100069": _v(C.DATA_MALFORMED, "100069: a JSON value cannot be parsed"),
    "100080": _v(C.DATA_MALFORMED, "100080: the file's column count does not match the table's"),
    "100072": _v(C.DATA_QUALITY, "100072: NULL in a non-nullable column"),
    # --- the connector's own errno (errorcode.py): the network between client and service
    **each(
        "250003 250005 250006 251012 252010 253002 253003",
        _v(C.INFRA_NETWORK, "connector: a request to the service or its stage failed", _RETRY, 0.85, CONNECTOR),
    ),
    "250001": _v(C.INFRA_NETWORK, "250001: failed to connect to the account", _RETRY, 0.8, CONNECTOR),
    "251011": _v(
        C.INFRA_TIMEOUT, "251011: the login timed out (ER_CONNECTION_TIMEOUT)", source=CONNECTOR, confidence=0.85
    ),
    # OCSP: the responder or its cache cannot be reached, or the certificate's status is bad
    **each(
        "254002 254003 254004 254014 254016",
        _v(
            C.INFRA_NETWORK,
            "connector: the OCSP responder or its cache could not be reached",
            confidence=0.8,
            source=CONNECTOR,
        ),
    ),
    **each(
        "254005 254006 254007 254009 254010 254011",
        _v(
            C.INFRA_AUTH,
            "connector: the certificate's OCSP status is revoked, unknown or invalid",
            confidence=0.85,
            source=CONNECTOR,
        ),
    ),
    "251008": _v(
        C.INFRA_AUTH,
        "251008: the private key cannot be used (ER_INVALID_PRIVATE_KEY)",
        confidence=0.85,
        source=CONNECTOR,
    ),
    # settings the connection left empty or wrong
    **each(
        "251001 251005 251006 251009 251013 251014 251015",
        _v(
            C.CONFIG_MISSING,
            "connector: the connection lacks its account, user, password, host, role or OAuth client",
            confidence=0.85,
            source=CONNECTOR,
        ),
    ),
    **each(
        "250007 251007",
        _v(
            C.CONFIG_MISSING,
            "connector: an authenticator or connection value the account does not accept",
            confidence=0.75,
            source=CONNECTOR,
        ),
    ),
    "253006": _v(
        C.UPSTREAM_FAILED,
        "253006: the local file to PUT does not exist (ER_FILE_NOT_EXISTS)",
        confidence=0.8,
        source=CONNECTOR,
    ),
    "252005": _v(
        C.DATA_TYPE_MISMATCH,
        "252005: a result value cannot be converted to a Python type",
        confidence=0.75,
        source=CONNECTOR,
    ),
    **each(
        "255002 255004 255006",
        _v(C.DEPENDENCY_MISSING, "connector: pyarrow or numpy is not installed", confidence=0.85, source=CONNECTOR),
    ),
}

# 002003 names the kind of object: a database, schema, warehouse, stage, integration or role that the
# role cannot see is a grant (or a connection setting) to fix, not a table to create
_KIND = re.compile(r"\b(Database|Schema|Warehouse|Stage|Integration|Role) '[^']*' does not exist or not authorized")
_GRANT = _v(
    C.INFRA_AUTH,
    "002003: the role cannot see the database/schema/warehouse (missing grant or wrong name)",
    confidence=0.75,
)

# 250001 carries the server's login message without its code (auth/_auth.py: "Failed to connect to
# DB: {host}:{port}. {message}"): the message names the server code it stands for
_LOGIN_TEXTS = {
    "Incorrect username or password was specified": "390100",
    "Authentication token has expired": "390114",
    "JWT token is invalid": "390144",
    "specified in the connect string": "390189",
    "OAuth access token expired": "390318",
    "is not allowed to access Snowflake": "390422",
}
_LOGIN_TEXT = re.compile("|".join(map(re.escape, _LOGIN_TEXTS)))

# "002003 (02000): ..." (any client of the connector's shape), "251005: ..." (no SQLSTATE: only in
# an error that is Snowflake's), JDBC/ODBC "ErrorCode(606)", "vendorCode:390,144", "SQL Error [606] [57P03]"
_STATED = re.compile(r"(?<![\w.-])(\d{6}) \([0-9A-Z]{5}\): ")
_BARE = re.compile(r"(?<![\w.-])(\d{6}): ")
_VENDOR = re.compile(r"(?:ErrorCode\(|[vV]endorCode:\s*|SQL Error \[)(\d{1,3}(?:,\d{3})+|\d{1,6})\b")
_SNOWFLAKE = re.compile(r"snowflake|snowsql", re.I)


def _verdict(code: str, text: str) -> tuple[str, Verdict] | None:
    if code == "002003" and _KIND.search(text):
        return code, _GRANT
    if code == "250001" and (login := _LOGIN_TEXT.search(text)):
        return _LOGIN_TEXTS[login.group(0)], CODES[_LOGIN_TEXTS[login.group(0)]]
    return (code, CODES[code]) if code in CODES else None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first Snowflake code of this table the error prints, in a shape Snowflake's clients print."""
    text = f"{type_name}: {message[:4000]}"
    ours = bool(_SNOWFLAKE.search(text))
    for match in _STATED.finditer(text):
        if found := _verdict(match.group(1), text):
            return found
    if not ours:
        return None
    for match in _BARE.finditer(text):
        if found := _verdict(match.group(1), text):
            return found
    for match in _VENDOR.finditer(text):
        if found := _verdict(match.group(1).replace(",", "").zfill(6), text):
            return found
    return None
