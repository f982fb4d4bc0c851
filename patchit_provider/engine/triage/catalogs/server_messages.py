"""MySQL/MariaDB and SQL Server messages printed without their error number -> that number's verdict.

Both servers pair each message with a number: MySQL in its error message file
(https://github.com/mysql/mysql-server/blob/8.0/share/messages_to_clients.txt, published as
https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html and
client-error-reference.html; MariaDB keeps the texts in sql/share/errmsg-utf8.txt), SQL Server in
sys.messages (https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors).
ORMs, JDBC (Connector/J, mssql-jdbc), Node's mysql/tedious, old go-mssqldb and dbt often print the
text alone; this module reads the template back to its number. MySQL's verdicts are codes.MYSQL's,
so one table maps a number to a category; when a MySQL client printed the number, codes.py decides
and this module stays silent. SQL Server has no number table elsewhere: SQLSERVER below is it.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs import codes
from patchit_provider.engine.triage.catalogs.base import Verdict

MYSQL_SOURCE = (
    "https://github.com/mysql/mysql-server/blob/8.0/share/messages_to_clients.txt; "
    "https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html; "
    "https://dev.mysql.com/doc/mysql-errors/8.0/en/client-error-reference.html; "
    "https://github.com/MariaDB/server/blob/main/sql/share/errmsg-utf8.txt"
)
SQLSERVER_SOURCE = (
    "https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors; "
    "https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-errors-issues"
)
SOURCE = f"{MYSQL_SOURCE}; {SQLSERVER_SOURCE}"

# (number, symbol, template, own): `own` marks a wording no other engine prints, read without the gate.
# Verdicts: codes.MYSQL[number], where each number carries its reason.
MYSQL_TEMPLATES: tuple[tuple[int, str, str, bool], ...] = (
    # missing objects: the statement names what the schema lacks; no database: the connection's settings
    (1146, "ER_NO_SUCH_TABLE", r"Table '[^']+' doesn't exist", True),
    (1054, "ER_BAD_FIELD_ERROR", r"Unknown column '[^']+' in '[^']*'", True),
    (1109, "ER_UNKNOWN_TABLE", r"Unknown table '[^']+' in [\w ]+", False),
    (1051, "ER_BAD_TABLE_ERROR", r"Unknown table '[^']+'", False),
    (1305, "ER_SP_DOES_NOT_EXIST", r"\b(?:FUNCTION|PROCEDURE) [\w.`]+ does not exist", False),
    (1049, "ER_BAD_DB_ERROR", r"Unknown database '[^']+'", False),
    (1046, "ER_NO_DB_ERROR", r"No database selected", False),
    # authentication and grants: the server refuses the account
    (1045, "ER_ACCESS_DENIED_ERROR", r"Access denied for user '[^']*'@'[^']*' \(using password: (?:YES|NO)\)", True),
    (1044, "ER_DBACCESS_DENIED_ERROR", r"Access denied for user '[^']*'@'[^']*' to database '[^']+'", True),
    (1143, "ER_COLUMNACCESS_DENIED_ERROR", r"\b\w+ command denied to user '[^']*'@'[^']*' for column", True),
    (1142, "ER_TABLEACCESS_DENIED_ERROR", r"\b\w+ command denied to user '[^']*'@'[^']*' for table", True),
    (1370, "ER_PROCACCESS_DENIED_ERROR", r"\b\w+ command denied to user '[^']*'@'[^']*' for routine", True),
    (
        1227,
        "ER_SPECIFIC_ACCESS_DENIED_ERROR",
        r"Access denied; you need \(at least one of\) the [\w ,]+ privilege",
        True,
    ),
    (1130, "ER_HOST_NOT_PRIVILEGED", r"Host '[^']+' is not allowed to connect to this (?:MySQL|MariaDB) server", True),
    # the server or the path to it (client errors 2xxx and the server's own disconnects): transient
    (2002, "CR_CONNECTION_ERROR", r"Can't connect to local (?:MySQL|MariaDB) server through socket", True),
    (2003, "CR_CONN_HOST_ERROR", r"Can't connect to (?:MySQL|MariaDB) server on", True),
    (2005, "CR_UNKNOWN_HOST", r"Unknown (?:MySQL|MariaDB) server host", True),
    (2006, "CR_SERVER_GONE_ERROR", r"(?:MySQL|MariaDB) server has gone away", True),
    (2055, "CR_SERVER_LOST_EXTENDED", r"Lost connection to (?:MySQL|MariaDB) server at '[^']*', system error", True),
    (2013, "CR_SERVER_LOST", r"Lost connection to (?:MySQL|MariaDB) server", True),
    (4031, "ER_CLIENT_INTERACTION_TIMEOUT", r"The client was disconnected by the server because of inactivity", True),
    (1053, "ER_SERVER_SHUTDOWN", r"Server shutdown in progress", False),
    (1927, "ER_CONNECTION_KILLED", r"\bConnection was killed", False),
    (1158, "ER_NET_READ_ERROR", r"Got an error reading communication packets", False),
    (1159, "ER_NET_READ_INTERRUPTED", r"Got timeout reading communication packets", False),
    (1160, "ER_NET_ERROR_ON_WRITE", r"Got an error writing communication packets", False),
    (1161, "ER_NET_WRITE_INTERRUPTED", r"Got timeout writing communication packets", False),
    # lock contention and the statement's time limit: re-run
    (1205, "ER_LOCK_WAIT_TIMEOUT", r"Lock wait timeout exceeded; try restarting transaction", True),
    (1213, "ER_LOCK_DEADLOCK", r"Deadlock found when trying to get lock; try restarting transaction", True),
    (3024, "ER_QUERY_TIMEOUT", r"maximum statement execution time exceeded", True),
    (1969, "ER_STATEMENT_TIMEOUT", r"Query execution was interrupted \(max_statement_time exceeded\)", True),
    # the server's connections, memory, disk or lock table are used up
    (1040, "ER_CON_COUNT_ERROR", r"\bToo many connections\b", False),
    (1203, "ER_TOO_MANY_USER_CONNECTIONS", r"already has more than 'max_user_connections' active connections", True),
    (1226, "ER_USER_LIMIT_REACHED", r"User '[^']+' has exceeded the '\w+' resource", True),
    (1114, "ER_RECORD_FILE_FULL", r"The table '[^']+' is full", True),
    (1021, "ER_DISK_FULL", r"Disk full \([^)]*\); waiting for someone to free some space", True),
    (1037, "ER_OUTOFMEMORY", r"Out of memory; restart server and try again", True),
    (1038, "ER_OUT_OF_SORTMEMORY", r"Out of sort memory, consider increasing server sort buffer size", True),
    (
        1041,
        "ER_OUT_OF_RESOURCES",
        r"Out of memory; check if mysqld or some other process uses all available memory",
        True,
    ),
    (1206, "ER_LOCK_TABLE_FULL", r"The total number of locks exceeds the lock table size", True),
    # rows a constraint refuses
    (1062, "ER_DUP_ENTRY", r"Duplicate entry '.*?' for key '?[\w.`-]+", True),
    (1048, "ER_BAD_NULL_ERROR", r"Column '[^']+' cannot be null", False),
    (1364, "ER_NO_DEFAULT_FOR_FIELD", r"Field '[^']+' doesn't have a default value", True),
    (1452, "ER_NO_REFERENCED_ROW_2", r"Cannot add or update a child row: a foreign key constraint fails", True),
    (1451, "ER_ROW_IS_REFERENCED_2", r"Cannot delete or update a parent row: a foreign key constraint fails", True),
    # a value that does not fit its column's type, length or range; JSON that does not parse
    (1406, "ER_DATA_TOO_LONG", r"Data too long for column '[^']+' at row \d+", True),
    (1264, "ER_WARN_DATA_OUT_OF_RANGE", r"Out of range value for column '[^']+' at row \d+", True),
    (1265, "WARN_DATA_TRUNCATED", r"Data truncated for column '[^']+' at row \d+", True),
    (
        1292,
        "ER_TRUNCATED_WRONG_VALUE",
        r"Incorrect (?:date|datetime|time|timestamp) value: '.*?' for column '[^']+' at row \d+|"
        r"Truncated incorrect [\w ]+ value: '",
        True,
    ),
    (1366, "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD", r"Incorrect \w+ value: '.*?' for column '[^']+' at row \d+", True),
    (1411, "ER_WRONG_VALUE_FOR_TYPE", r"Incorrect \w+ value: '.*?' for function \w+", True),
    (1690, "ER_DATA_OUT_OF_RANGE", r"\b[A-Z]+(?: UNSIGNED)? value is out of range in '", False),
    (3140, "ER_INVALID_JSON_TEXT", r"Invalid JSON text: \".*?\" at position \d+ in value for column", True),
    # the statement is wrong: the pipeline's SQL or client code changes
    (
        1064,
        "ER_PARSE_ERROR",
        r"You have an error in your SQL syntax; check the manual that corresponds to your (?:MySQL|MariaDB)",
        True,
    ),
    (1136, "ER_WRONG_VALUE_COUNT_ON_ROW", r"Column count doesn't match value count at row \d+", True),
    (1052, "ER_NON_UNIQ_ERROR", r"Column '[^']+' in [\w ]+ is ambiguous", True),
    (1055, "ER_WRONG_FIELD_WITH_GROUP", r"is not in GROUP BY clause and contains nonaggregated column", True),
    (1060, "ER_DUP_FIELDNAME", r"Duplicate column name '[^']+'", False),
    (1050, "ER_TABLE_EXISTS_ERROR", r"Table '[^']+' already exists", False),
    (2014, "CR_COMMANDS_OUT_OF_SYNC", r"Commands out of sync; you can't run this command now", True),
    # a server or client setting forbids the statement
    (1153, "ER_NET_PACKET_TOO_LARGE", r"Got a packet bigger than 'max_allowed_packet' bytes", True),
    (
        1290,
        "ER_OPTION_PREVENTS_STATEMENT",
        r"The (?:MySQL|MariaDB) server is running with the [\w-]+ option so it cannot execute this statement",
        True,
    ),
    (1148, "ER_NOT_ALLOWED_COMMAND", r"The used command is not allowed with this (?:MySQL|MariaDB) version", True),
    (3948, "ER_CLIENT_LOCAL_FILES_DISABLED", r"Loading local data is disabled; this must be enabled on both", True),
)


def _ms(category: C, why: str, remediation: Remediation | None = None) -> tuple[C, str, Remediation | None]:
    return category, why, remediation


# SQL Server's and Azure SQL's numbers (the one table: an ADF copy activity's `SqlErrorNumber=N` is read
# here too); the categories agree with the texts catalogs/messages.py reads (208, 207, 515, 2627/2601,
# 8152/2628, 1205).
_MS = {
    # the statement names an object the database lacks
    208: _ms(C.SCHEMA_MISSING_RELATION, "invalid object name (the table or view does not exist)"),
    207: _ms(C.SCHEMA_MISSING_COLUMN, "invalid column name"),
    2812: _ms(C.SCHEMA_MISSING_RELATION, "the stored procedure does not exist"),
    # the connection names a database that is not there: the connection's settings
    911: _ms(C.CONFIG_MISSING, "the database does not exist"),
    # the login or a permission is refused: a person grants it
    18456: _ms(C.INFRA_AUTH, "login failed"),
    18452: _ms(C.INFRA_AUTH, "login from an untrusted domain"),
    4060: _ms(C.INFRA_AUTH, "the login cannot open the database it requested"),
    916: _ms(C.INFRA_AUTH, "the principal cannot access the database"),
    229: _ms(C.INFRA_AUTH, "a permission was denied on the object"),
    262: _ms(C.INFRA_AUTH, "a permission was denied in the database"),
    300: _ms(C.INFRA_AUTH, "a permission was denied on the object"),
    # rows a constraint refuses
    515: _ms(C.DATA_QUALITY, "NULL into a NOT NULL column"),
    2627: _ms(C.DATA_QUALITY, "a PRIMARY KEY or UNIQUE constraint violated"),
    2601: _ms(C.DATA_QUALITY, "a duplicate key in a unique index"),
    547: _ms(C.DATA_QUALITY, "a FOREIGN KEY or CHECK constraint conflict"),
    # a value that does not fit its column's type, length or range
    8152: _ms(C.DATA_TYPE_MISMATCH, "string or binary data would be truncated"),
    2628: _ms(C.DATA_TYPE_MISMATCH, "string or binary data would be truncated in a column"),
    245: _ms(C.DATA_TYPE_MISMATCH, "conversion of a value failed"),
    241: _ms(C.DATA_TYPE_MISMATCH, "conversion of a date/time string failed"),
    242: _ms(C.DATA_TYPE_MISMATCH, "a date/time conversion out of range"),
    8114: _ms(C.DATA_TYPE_MISMATCH, "error converting a data type"),
    8115: _ms(C.DATA_TYPE_MISMATCH, "arithmetic overflow converting a value"),
    220: _ms(C.DATA_TYPE_MISMATCH, "arithmetic overflow for a data type"),
    # lock contention: re-run
    1205: _ms(C.INFRA_TIMEOUT, "chosen as the deadlock victim (re-run)", Remediation.RETRY),
    1222: _ms(C.INFRA_TIMEOUT, "lock request time-out (re-run)", Remediation.RETRY),
    # the statement is wrong: the pipeline's SQL changes
    102: _ms(C.CODE_ERROR, "incorrect syntax"),
    156: _ms(C.CODE_ERROR, "incorrect syntax near a keyword"),
    105: _ms(C.CODE_ERROR, "unclosed quotation mark"),
    137: _ms(C.CODE_ERROR, "an undeclared variable"),
    195: _ms(C.CODE_ERROR, "not a recognized function"),
    2714: _ms(C.CODE_ERROR, "the object already exists"),
    213: _ms(C.CODE_ERROR, "the number of values does not match the table"),
    209: _ms(C.CODE_ERROR, "an ambiguous column name"),
    8120: _ms(C.CODE_ERROR, "a column outside the GROUP BY"),
    # memory, file or log space, or an Azure SQL quota used up
    701: _ms(C.INFRA_RESOURCE, "insufficient system memory in the resource pool"),
    1105: _ms(C.INFRA_RESOURCE, "the filegroup is full"),
    9002: _ms(C.INFRA_RESOURCE, "the transaction log is full"),
    40544: _ms(C.INFRA_RESOURCE, "the database reached its size quota"),
    10928: _ms(C.INFRA_RESOURCE, "a resource limit of the database was reached"),
    10929: _ms(C.INFRA_RESOURCE, "the database's minimum resource guarantee cannot be met"),
    10936: _ms(C.INFRA_RESOURCE, "the elastic pool's request limit was reached"),
    40551: _ms(C.INFRA_RESOURCE, "the session used too much TEMPDB"),
    40552: _ms(C.INFRA_RESOURCE, "the session used too much transaction log space"),
    40553: _ms(C.INFRA_RESOURCE, "the session used too much memory"),
    # Azure SQL reconfiguring or busy: transient
    40613: _ms(C.INFRA_NETWORK, "the database is not currently available (retry)", Remediation.RETRY),
    40501: _ms(C.INFRA_NETWORK, "the service is busy (retry)", Remediation.RETRY),
    40197: _ms(C.INFRA_NETWORK, "the service had an error processing the request (retry)", Remediation.RETRY),
    49918: _ms(C.INFRA_NETWORK, "not enough resources to process the request now (retry)", Remediation.RETRY),
    49919: _ms(C.INFRA_NETWORK, "too many create or update operations in progress (retry)", Remediation.RETRY),
    49920: _ms(C.INFRA_NETWORK, "too many operations in progress (retry)", Remediation.RETRY),
    4221: _ms(
        C.INFRA_NETWORK, "a login to the read-secondary timed out waiting for a replica (retry)", Remediation.RETRY
    ),
    615: _ms(C.INFRA_NETWORK, "a database ID could not be found while the database moves (retry)", Remediation.RETRY),
    926: _ms(C.INFRA_NETWORK, "the database cannot be opened while it recovers (retry)", Remediation.RETRY),
    # a client-side command timeout (SqlClient's -2) and a transaction ended for running too long
    -2: _ms(C.INFRA_TIMEOUT, "the SQL command timed out", Remediation.RETRY),
    40549: _ms(C.INFRA_TIMEOUT, "the session was ended for a long-running transaction"),
    # the server refuses this client, or the connection names a server that is not there
    40615: _ms(C.INFRA_AUTH, "the Azure SQL firewall refuses the client's IP address"),
    47073: _ms(C.INFRA_AUTH, "public network access to the server is denied"),
    40531: _ms(C.CONFIG_MISSING, "the server named in the connection is not found"),
    40532: _ms(C.CONFIG_MISSING, "the server named in the login is not found"),
    # Synapse dedicated SQL pool (PolyBase): rows rejected for a value of the wrong type
    107090: _ms(C.DATA_TYPE_MISMATCH, "PolyBase rejected rows whose value does not fit the column's type"),
}
SQLSERVER: dict[int, Verdict] = {
    number: Verdict(category, 0.9, SQLSERVER_SOURCE, f"SQL Server error {number}: {why}", remediation)
    for number, (category, why, remediation) in _MS.items()
}

# (number, template, own)
SQLSERVER_TEMPLATES: tuple[tuple[int, str, bool], ...] = (
    (208, r"Invalid object name '[^'\[\]]+'", True),  # a name with a bracket: messages.py's quoting rule
    (207, r"Invalid column name '[^']+'", True),
    (2812, r"Could not find stored procedure '[^']+'", False),
    (911, r"Database '[^']+' does not exist\. Make sure that the name is entered correctly", True),
    (18452, r"Login failed\. The login is from an untrusted domain", True),
    (18456, r"Login failed for user '[^']*'", False),
    (4060, r"Cannot open database \"[^\"]+\" requested by the login\. The login failed", True),
    (916, r"The server principal \"[^\"]+\" is not able to access the database \"[^\"]+\"", True),
    (229, r"The \w+ permission was denied on the object '[^']+'", True),
    (300, r"\b\w+(?: \w+){0,4} permission was denied on object '[^']+', database '[^']+'", True),
    (262, r"\b\w+(?: \w+){0,4} permission denied in database '[^']+'", True),
    (515, r"Cannot insert the value NULL into column '[^']+'", True),
    (2627, r"Violation of (?:PRIMARY KEY|UNIQUE KEY) constraint '[^']+'", True),
    (2601, r"Cannot insert duplicate key row in object '[^']+' with unique index", True),
    (547, r"The \w+ statement conflicted with the (?:FOREIGN KEY|REFERENCE|CHECK)(?: SAME TABLE)? constraint", True),
    (2628, r"String or binary data would be truncated in table '[^']+', column '[^']+'", True),
    (8152, r"String or binary data would be truncated", True),
    (245, r"Conversion failed when converting the [\w ]+ value '.*?' to data type \w+", True),
    (241, r"Conversion failed when converting date and/or time from character string", True),
    (242, r"The conversion of a \w+ data type to a \w+ data type resulted in an out-of-range value", True),
    (8114, r"Error converting data type \w+ to \w+", False),
    (8115, r"Arithmetic overflow error converting \w+ to data type \w+", True),
    (220, r"Arithmetic overflow error for data type \w+, value = -?\d+", True),
    (1205, r"was deadlocked on [\w ]+ resources with another process and has been chosen as the deadlock victim", True),
    (1222, r"Lock request time out period exceeded", False),
    (156, r"Incorrect syntax near the keyword '[^']+'", False),
    (102, r"Incorrect syntax near '", False),
    (105, r"Unclosed quotation mark after the character string", False),
    (137, r"Must declare the scalar variable \"@\w+\"", False),
    (195, r"'[^']+' is not a recognized built-in function name", False),
    (2714, r"There is already an object named '[^']+' in the database", False),
    (213, r"Column name or number of supplied values does not match table definition", True),
    (209, r"Ambiguous column name '[^']+'", False),
    (
        8120,
        r"is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY",
        True,
    ),
    (701, r"There is insufficient system memory in resource pool '[^']+' to run this query", True),
    (
        1105,
        r"Could not allocate space for object '[^']+' in database '[^']+' because the '[^']+' filegroup is full",
        True,
    ),
    (9002, r"The transaction log for database '[^']+' is full due to", True),
    (40544, r"The database '[^']+' has reached its size quota", True),
    (10928, r"Resource ID ?: \d+\. The \w+ limit for the database is \d+ and has been reached", True),
    (40613, r"Database '[^']+' on server '[^']+' is not currently available", True),
    (40501, r"The service is currently busy\. Retry the request after 10 seconds", True),
    (40197, r"The service has encountered an error processing your request\. Please try again", True),
)

# Whose error it is: the drivers' modules and classes, the ODBC driver's brackets, sqlcmd's header
_MYSQL_SHAPE = re.compile(r"mysql|mariadb|\(conn=\d+\)", re.I)
_SQLSERVER_SHAPE = re.compile(
    r"SQL ?Server|\bpyodbc\b|mssql|\bpytds\b|SqlClient|\btedious\b|\bMsg \d+, Level \d+|"
    r"Azure SQL|Synapse|\bsqlcmd\b|\(SQLExecDirectW\)|DB-Lib error",
    re.I,
)
_SYMBOL = re.compile(r"\b((?:ER|CR)_[A-Z0-9_]+)\b")

_MY_RULES = [(number, symbol, re.compile(text), own) for number, symbol, text, own in MYSQL_TEMPLATES]
_MY_SYMBOLS = {symbol: number for number, symbol, _text, _own in MYSQL_TEMPLATES}
_MS_RULES = [(number, re.compile(text), own) for number, text, own in SQLSERVER_TEMPLATES]


def _mysql(text: str) -> tuple[str, Verdict] | None:
    if codes.mysql_number(text) is not None:
        return None  # the number is printed: codes.MYSQL decides
    for symbol in _SYMBOL.findall(text):  # Node's mysql/mysql2: "ER_NO_SUCH_TABLE: Table ..."
        if symbol in _MY_SYMBOLS:
            return f"MySQL {_MY_SYMBOLS[symbol]} {symbol}", codes.MYSQL[_MY_SYMBOLS[symbol]]
    ours = bool(_MYSQL_SHAPE.search(text))
    for number, symbol_name, regex, own in _MY_RULES:
        if (own or ours) and regex.search(text):
            return f"MySQL {number} {symbol_name} (by its message)", codes.MYSQL[number]
    return None


def _sqlserver(text: str) -> tuple[str, Verdict] | None:
    ours = bool(_SQLSERVER_SHAPE.search(text))
    for number, regex, own in _MS_RULES:
        if (own or ours) and regex.search(text):
            return f"SQL Server {number} (by its message)", SQLSERVER[number]
    return None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The MySQL or SQL Server number whose message template the error prints; None when the
    error is neither's or a MySQL client printed the number itself (codes.MYSQL reads it)."""
    text = f"{type_name}: {message[:6000]}"
    return _mysql(text) or _sqlserver(text)
