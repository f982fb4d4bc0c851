"""Localization: where in the repository (or, without one, in the output) a failure points.

- SQL kept in a `.sql` file and run from Python: the file (named in the log, in the runner's
  source, or the one file of the repository whose parsed statements hold the failing
  identifier) and the line of that identifier, found by parsing the SQL with sqlglot in the
  dialect of the engine that failed (DuckDB, PostgreSQL, Snowflake), never by regex over SQL.
- dbt: the model or test file named by the error (log, run_results.json, manifest.json), and the
  line of the failing identifier or `ref()` when the file is in the repository.
- DAG import errors ("Broken DAG: [path]", "Failed to import: path", `airflow dags
  list-import-errors` in each output format): the DAG file, and the line of its innermost frame.
- Without a repository: the innermost frame of the user's code (outside site-packages, the
  standard library and Airflow), or the SQL/dbt/DAG file the output names, as written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PurePosixPath

from patchit_provider.engine.logs.formats import DBT_ERROR_KINDS
from patchit_provider.engine.models import Culprit, Frame
from patchit_provider.engine.repo import is_foreign, map_path
from patchit_provider.engine.triage.replacement import missing_name

MAX_SQL_FILES = 400
MAX_SQL_BYTES = 1_000_000
DIALECTS = ("duckdb", "postgres", "snowflake")

# A Python frame of Airflow's own code when it is not installed under site-packages (a source
# checkout, the official image's /opt/airflow/airflow): never the user's code.
_AIRFLOW_CODE = re.compile(
    r"(?:^|/)airflow/(?:models|operators|sensors|utils|sdk|jobs|executors|task|cli|dag_processing|"
    r"serialization|execution_time|providers|hooks|api|bases|definitions)/|(?:^|/)(?:task-sdk|airflow-core)/src/"
)
# Import roots of libraries whose frames some tools print relative to site-packages.
THIRD_PARTY_ROOTS = frozenset(
    """
django flask werkzeug sqlalchemy pandas numpy scipy sklearn requests urllib3 httpx httpcore airflow dbt dbt_common
pyspark py4j celery kombu billiard boto3 botocore s3transfer google snowflake psycopg psycopg2 pymysql MySQLdb jinja2
pyarrow click tornado gunicorn uvicorn starlette fastapi pydantic aiohttp grpc kubernetes ZPublisher Zope2 Products
""".split()
)
# A library imported from an archive or a Spark distribution (zipimport: `python/lib/pyspark.zip/pyspark/`,
# `py4j-0.10.9-src.zip/py4j/`; SPARK_HOME/python/pyspark): never the user's code.
_ZIPPED_LIB = re.compile(r"\.(?:zip|egg|whl|pex)/|(?:^|/)python/(?:pyspark|py4j)/")
_LIB = re.compile(r"(?:^|/)(?:[Ll]ib|python\d(?:\.\d+)?)/([\w.]+?)(?:\.py)?(?:/|$)")
# Not a dotted name that goes on (`pyspark.sql.utils`, `org.apache.spark.sql.AnalysisException`).
_SQL_PATH = re.compile(r"(?<![\w/.-])((?:[A-Za-z]:)?[\w./@~+-]*[\w-]\.sql)\b(?![.$]\w)")
# A package, not a file: a dotted name without a folder that starts with a library's or a
# reverse-DNS root (`pyspark.sql`, "in org.apache.spark.sql").
_PACKAGE_ROOTS = THIRD_PARTY_ROOTS | {"org", "com", "io", "net", "java", "javax", "scala", "spark"}
# The forms Airflow prints an import error in: the UI's banner and the DAG processor's log (2.x,
# 3.x); `airflow dags list-import-errors` as JSON or YAML (airflow/cli/commands/dag_command.py
# dag_list_import_errors: "filepath", "error"); the REST API's import errors ("filename",
# "stack_trace").
# (a bracketed path holds no bracket: `\S+` restarted a scan to the end of a long token at every "[")
_BROKEN_DAG = re.compile(
    r"Broken DAG: \[(?P<a>[^\]]+\.py)\]|Failed to import: (?P<b>\S+\.py)|\[(?P<c>[^\s\[\]]+\.py)\] (?:Traceback|\w+Error:)"
    r"|\"(?:filepath|filename)\": \"(?P<d>[^\"]+\.py)\"(?=[^{}]*\"(?:error|stack_trace)\")"
    r"|^(?:- | +)filepath: (?P<e>\S+\.py)\s*$",
    re.M,
)
# ... and as a table (`--output table`, the default, or `plain`), 2.x "filepath | error", 3.x
# "bundle_name | filepath | error": a row counts only under that header.
_IMPORT_ERRORS_TABLE = re.compile(r"^(?:bundle_name +\|? *)?filepath +\|? *error\s*$", re.M)
_IMPORT_ERRORS_ROW = re.compile(r"^(?:\S+ +\|? *)?(?P<path>[^\s|]+\.py) +\|? *\S", re.M)
_TABLE_RULE = re.compile(r"=+(?:\+=+)+\s*$")  # the table's "====+====" line: its "+" are the column borders


def _stdlib(path: str) -> bool:
    """`C:/Python37/lib/_strptime.py`, `anaconda3/lib/json/decoder.py`: a `lib/` folder whose next
    part is a standard-library module (sys.stdlib_module_names), wherever Python is installed."""
    match = _LIB.search(path)
    return match is not None and match.group(1).split(".")[0] in sys.stdlib_module_names


def user_frame(frames: list[Frame]) -> Frame | None:
    """The innermost frame of the user's code, as written: a Python file outside installed
    packages, the standard library and Airflow; compiled extension sources (`parsers.pyx`) and
    JVM frames (`Dataset.scala`) never."""
    for frame in reversed(frames):
        path = frame.path.replace("\\", "/")
        if not path or path.startswith("<") or is_foreign(path) or _AIRFLOW_CODE.search(path) or _stdlib(path):
            continue
        if path.endswith((".pyx", ".pxi", ".pxd")) or _ZIPPED_LIB.search(path):
            continue
        root = path.split("/", 1)[0]
        if not path.startswith("/") and "/" in path and (root in THIRD_PARTY_ROOTS or root in sys.stdlib_module_names):
            continue  # a relative frame of the standard library or a well-known library (Sentry prints them so)
        if path == "__init__.py":
            continue
        if not path.endswith((".py", ".sql", ".yml", ".yaml")) and "/" not in path:
            continue  # a JVM frame's bare file name
        if path.endswith((".scala", ".java")):
            continue
        return frame
    return None


# Packages of the JVM, Spark, Hadoop and the drivers and libraries a job links: a frame in one of
# them is never the job's own code. Packages follow the reverse-DNS convention (JLS 6.1), so the
# first two parts name who publishes the code.
_JVM_LIBRARY = re.compile(
    r"^(?:java|javax|jdk|sun|com\.sun|scala|kotlin|groovy|akka|py4j|oracle|shapeless|cats|zio|"
    r"org\.(?:apache|eclipse|glassfish|jboss|slf4j|postgresql|h2|json4s|codehaus|joda|springframework|xerial|"
    r"antlr|objenesis|roaringbitmap|sparkproject|mariadb|hibernate|junit|scalatest)|"
    r"com\.(?:google|amazonaws|databricks|fasterxml|microsoft|mysql|typesafe|twitter|esotericsoftware|"
    r"zaxxer|snowflake|clickhouse|github\.luben|univocity|ctc|thoughtworks)|"
    r"io\.(?:netty|grpc|delta|airlift|trino|prestosql|confluent|fabric8|micrometer|dropwizard)|"
    r"net\.(?:snowflake|razorvine|jpountz|sf)|software\.amazon|shaded|parquet|avro)\b"
)


def jvm_user_frame(frames: list[Frame]) -> Frame | None:
    """The innermost JVM frame of the job's own code (a Scala or Java Spark job): the first frame
    (a JVM trace prints the innermost frame first) whose class is outside the JVM's and the
    libraries' packages. Its path is the file under the package's folders, as a source tree
    keeps it (`com/acme/etl/LoadOrders.scala`)."""
    for frame in frames:
        name = frame.function or ""
        if not frame.path.endswith((".scala", ".java", ".kt")) or "." not in name or _JVM_LIBRARY.match(name):
            continue
        package = [part for part in name.split(".")[:-2] if part]  # drop the class and the method
        if not package:
            continue
        return Frame(path="/".join([*package, frame.path]), line=frame.line, function=name)
    return None


# bash prints `<script>: line <n>: <message>`, dash `<script>: <n>: <message>` (bash error.c
# get_name_for_error + "line %d: "; dash error.c). The interpreter's own name (`bash: line 1:`,
# `/bin/sh: 1:`) is a `-c` command string: no file.
_SHELL_LOCUS = re.compile(r"(?:^|[\s|\]])(?P<path>[\w./~-]*[\w~-]): (?:line )?(?P<line>\d+): \S", re.M)
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash"}


def shell_locus(text: str) -> tuple[str, int] | None:
    """The script file and line a shell names for its error (the last one the output prints)."""
    found = None
    for match in _SHELL_LOCUS.finditer(text[-20_000:]):
        path = match["path"]
        name = PurePosixPath(path).name
        if name in _SHELLS or not ("/" in path or name.endswith((".sh", ".bash", ".ksh", ".zsh"))):
            continue
        found = (path, int(match["line"]))
    return found


# dbt's error context (dbt/exceptions, jinja call stack): "Compilation Error in model x
# (models/x.sql)" names the node's file, and "> in macro m (macros/m.sql)" lines, innermost first,
# the macro that raised. Read anywhere in a line: a runner may wrap dbt's text ("Exception: Error
# running sync command: Database Error in model x (models/x.sql)", or "... (path) - 'y' is undefined").
_DBT_NODE = re.compile(
    rf"\b{DBT_ERROR_KINDS} in "
    r"(?:model|test|snapshot|seed|analysis|operation|unit_test|sql_operation) [\w.]+ \((?P<path>[^()\s]+\.(?:sql|yml|yaml|py|csv))\)"
)
_DBT_MACRO = re.compile(r"(?:^|>\s?)in macro [\w.]+ \((?P<path>[^()\s]+\.sql)\)", re.M)
# A database error's "compiled code at <build_path>" (dbt_common DbtDatabaseError.process_stack):
# target/{run,compiled}/<package>/<original_file_path> (dbt ParsedNode.get_target_write_path); a
# test defined in a .yml file is written below that file's path.
_DBT_BUILD_PATH = re.compile(
    r"compiled (?:code|Code|SQL) at (?:[^\s/]*/)*?target/(?:run|compiled)/[\w.-]+/(?P<path>\S+?\.(?:sql|yml|yaml))(?=/|\s|$)"
)


def dbt_node_file(text: str) -> str | None:
    """The file dbt names for an error printed outside its own block: the innermost macro of the
    call stack when one is named, else the failing node's file (its heading, else the original
    path inside the compiled copy's)."""
    found = _DBT_MACRO.search(text) or _DBT_NODE.search(text) or _DBT_BUILD_PATH.search(text)
    return found["path"].removeprefix("./") if found else None


def broken_dag(text: str) -> str | None:
    """The DAG file of an import error ("Broken DAG: [/opt/airflow/dags/x.py] ...")."""
    match = _BROKEN_DAG.search(text)
    if match:
        return next((g for g in match.groups() if g), None)
    table = _IMPORT_ERRORS_TABLE.search(text)
    return _import_errors_row(text[table.start() :]) if table else None


def _import_errors_row(table: str) -> str | None:
    """The first row's filepath in a `list-import-errors` table. The table format wraps a cell
    to the column's width, so a long path continues on the next lines of its column."""
    lines = table.splitlines()
    if len(lines) < 2 or not _TABLE_RULE.match(lines[1]):  # `--output plain`: no rule, no wrapping
        row = _IMPORT_ERRORS_ROW.search(table)
        return row.group("path") if row else None
    borders = [i for i, char in enumerate(lines[1]) if char == "+"]
    column = [cell.strip() for cell in lines[0].split("|")].index("filepath")
    start = borders[column - 1] + 1 if column else 0
    end = borders[column] if column < len(borders) else None
    path = ""
    for line in lines[2:22]:
        path += line[start:end].strip(" |")
        if path.endswith(".py"):
            return path
    return None


def sql_paths(texts: list[str]) -> list[str]:
    """`.sql` paths named in the given texts (log lines, messages, source of the runner)."""
    found: list[str] = []
    for text in texts:
        for match in _SQL_PATH.finditer(text):
            if not re.search(r"[/\\]", match.group(1)) and match.group(1).split(".")[0] in _PACKAGE_ROOTS:
                continue
            path = match.group(1).lstrip("./") if match.group(1).startswith("./") else match.group(1)
            if path not in found and "target/run/" not in path and "target/compiled/" not in path:
                found.append(path)
    return found


_SQL_ENGINE = re.compile(
    r"Binder Error|Catalog Error|Parser Error|Conversion Error|syntax error at or near|SQL compilation error|"
    r"psycopg|duckdb|snowflake|sqlite3|pyodbc|ProgrammingError|UndefinedColumn|UndefinedTable|"
    r"\bSQLSTATE\b|\b\d{6} \([0-9A-Z]{5}\):|"
    # Trino/Presto/Athena clients, BigQuery's job errors, Spark SQL's analyzer and parser
    r"(?:Trino|Presto)\w*Error|Already Exists: (?:Table|View|Dataset)|Not found: (?:Table|View|Dataset)|"
    r"Unrecognized name: |Syntax error: |AnalysisException|ParseException",
    re.I,
)


def is_sql_error(error_type: str, message: str) -> bool:
    """The failure is a SQL engine's answer to a statement (not a Python error near SQL)."""
    return missing_name(message) is not None or bool(_SQL_ENGINE.search(f"{error_type} {message[:2000]}"))


def dialects_for(error_type: str, message: str) -> list[str]:
    """The engines' dialects, the one that failed first: DuckDB names its error kinds (`Binder
    Error`), PostgreSQL drivers are psycopg / `LINE n:`, Snowflake prints `000904 (42000):`."""
    text = f"{error_type} {message[:2000]}"
    order = list(DIALECTS)
    if re.search(r"snowflake|invalid identifier|\b\d{6} \([0-9A-Z]{5}\):", text, re.I):
        first = "snowflake"
    elif re.search(
        r"psycopg|postgres|redshift|UndefinedColumn|UndefinedTable|^\s*LINE \d+:|\bpgcode\b", text, re.I | re.M
    ):
        first = "postgres"
    else:
        first = "duckdb"
    order.remove(first)
    return [first, *order]


def _blank(text: str, filler: str = "") -> str:
    out = re.sub(r"[^\n]", " ", text)
    return filler + out[len(filler) :] if filler and len(out.split("\n", 1)[0]) >= len(filler) else out


def mask_jinja(sql: str) -> str:
    """dbt's Jinja replaced by blanks of the same shape, so lines and columns stay put and the
    SQL parser sees plain SQL (`{{ ref('x') }}` becomes the identifier `_j`)."""
    sql = re.sub(r"\{#.*?#\}", lambda m: _blank(m.group(0)), sql, flags=re.S)
    sql = re.sub(r"\{%.*?%\}", lambda m: _blank(m.group(0)), sql, flags=re.S)
    return re.sub(r"\{\{.*?\}\}", lambda m: _blank(m.group(0), "_j"), sql, flags=re.S)


def identifier_line(sql: str, kind: str, name: str, dialects: list[str]) -> int | None:
    """1-based line of the first column (`kind` "column") or table ("relation") called `name`
    in the parsed statements of `sql`; the first dialect that parses the text decides."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    wanted = name.strip("\"'`[]").lower()
    node_type = exp.Column if kind == "column" else exp.Table
    text = mask_jinja(sql)
    for dialect in dialects:
        try:
            statements = sqlglot.parse(text, read=dialect)
        except (SqlglotError, ValueError, RecursionError):
            continue
        for statement in statements:
            if statement is None:
                continue
            for node in statement.find_all(node_type):
                if node.name.lower() == wanted and isinstance(node.this, exp.Expression):
                    line = node.this.meta.get("line")
                    if isinstance(line, int):
                        return line
        return None  # parsed, but the identifier is not there
    return _token_line(text, wanted, dialects[0])


def _token_line(text: str, wanted: str, dialect: str) -> int | None:
    """When no dialect parses the file (a dbt macro, a vendor extension): the tokenizer's
    identifier tokens, still no regex over SQL."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(text)
    except (SqlglotError, ValueError):
        return None
    for token in tokens:
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and token.text.lower() == wanted:
            return token.line
    return None


def ref_line(sql: str, name: str) -> int | None:
    """The line of `ref('name')` in a dbt model (Jinja, not SQL: dbt's own call syntax)."""
    pattern = re.compile(r"\bref\(\s*(?:['\"][\w.-]+['\"]\s*,\s*)?['\"]" + re.escape(name) + r"['\"]")
    for number, line in enumerate(sql.splitlines(), 1):
        if pattern.search(line):
            return number
    return None


def read_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_SQL_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _repo_sql_files(root: Path) -> list[Path]:
    skip = {".git", "target", "dbt_packages", "dbt_modules", "logs", "node_modules", ".venv", "venv", "__pycache__"}
    files: list[Path] = []
    for path in sorted(root.rglob("*.sql")):
        if len(files) >= MAX_SQL_FILES:
            break
        if not set(path.relative_to(root).parts[:-1]) & skip and path.is_file():
            files.append(path)
    return files


def locate_in_sql(root: Path, relative: str, message: str, error_type: str) -> int | None:
    """The line of the failing identifier (or dbt ref) in the repository file `relative`."""
    missing = missing_name(message)
    if missing is None:
        return None
    text = read_text(root / relative)
    if text is None:
        return None
    kind, name = missing
    if kind == "relation" and re.search(r"depends on a node named", message):
        return ref_line(text, name)
    return identifier_line(text, kind, name, dialects_for(error_type, message))


def sql_file_culprit(
    root: Path | None, message: str, error_type: str, texts: list[str], runner: str | None
) -> Culprit | None:
    """The `.sql` file holding the failing statement and the line of its failing identifier:
    the file the output or the runner's source names, else the one repository `.sql` file whose
    parsed statements hold the identifier. None when no SQL file can be shown."""
    named = sql_paths(texts)
    if root is None:
        return Culprit(path=named[0], line=_psql_line(texts, named[0])) if named else None
    if runner:
        source = read_text(root / runner)
        if source:
            named += [p for p in sql_paths([source]) if p not in named]
    missing = missing_name(message)
    for path in named:
        relative = map_path(path, root) or _beside(root, runner, path)
        if relative:
            line = locate_in_sql(root, relative, message, error_type)
            return Culprit(path=relative, line=line if line is not None else _psql_line(texts, path))
    if missing is None:
        return None
    kind, name = missing
    dialects = dialects_for(error_type, message)
    hits = []
    for sql_file in _repo_sql_files(root):
        text = read_text(sql_file)
        if text and name.lower() in text.lower():
            line = identifier_line(text, kind, name, dialects)
            if line is not None:
                hits.append(Culprit(path=sql_file.relative_to(root).as_posix(), line=line))
                if len(hits) > 1:
                    return None  # the identifier is in several files: the runner decides, not a guess
    return hits[0] if hits else None


def _psql_line(texts: list[str], path: str) -> int | None:
    """The line psql names for a script it ran (`psql -f load.sql`): every message of a script is
    prefixed `psql:<file>:<line>: ` (src/bin/psql/startup.c, log_locus_callback); the line is
    where the failing statement ended in the file."""
    locus = re.compile(rf"\bpsql:{re.escape(path)}:(\d+): (?:ERROR|FATAL)")
    return next((int(m.group(1)) for text in texts for m in [locus.search(text)] if m), None)


def _beside(root: Path, runner: str | None, path: str) -> str | None:
    """A relative `.sql` path opened by the runner: relative to the runner's folder."""
    if not runner:
        return None
    candidate = root / PurePosixPath(runner).parent / path
    try:
        resolved = candidate.resolve()
        return resolved.relative_to(root.resolve()).as_posix() if resolved.is_file() else None
    except (OSError, ValueError):
        return None
