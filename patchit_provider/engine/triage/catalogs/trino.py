"""Trino (and Presto, Athena, Starburst) error codes -> category, from the engine's own catalog.

Source: io.trino.spi.StandardErrorCode
(https://github.com/trinodb/trino/blob/master/core/trino-spi/src/main/java/io/trino/spi/StandardErrorCode.java;
Presto's com.facebook.presto.spi.StandardErrorCode shares the names) and, for the Hive connector
Athena runs, io.trino.plugin.hive.HiveErrorCode. Clients print the name: trino-python-client
`TrinoUserError(type=USER_ERROR, name=COLUMN_NOT_FOUND, message="line 17:7: ...")`, Athena
`COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved`. Only names of this table count, so a
word in capitals is no code. The codes marked "caught by TRY" in StandardErrorCode are the ones a
value of the data raises.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = "https://github.com/trinodb/trino/blob/master/core/trino-spi/src/main/java/io/trino/spi/StandardErrorCode.java"
HIVE = "https://github.com/trinodb/trino/blob/master/plugin/trino-hive/src/main/java/io/trino/plugin/hive/HiveErrorCode.java"

_STATEMENT = (
    "SYNTAX_ERROR FUNCTION_NOT_FOUND OPERATOR_NOT_FOUND AMBIGUOUS_FUNCTION_CALL TYPE_MISMATCH INVALID_LITERAL "
    "MISMATCHED_COLUMN_ALIASES AMBIGUOUS_NAME INVALID_COLUMN_REFERENCE MISSING_GROUP_BY MISSING_ORDER_BY MISSING_OVER "
    "NESTED_AGGREGATION NESTED_WINDOW EXPRESSION_NOT_IN_DISTINCT FUNCTION_NOT_WINDOW FUNCTION_NOT_AGGREGATE "
    "EXPRESSION_NOT_AGGREGATE EXPRESSION_NOT_SCALAR EXPRESSION_NOT_CONSTANT INVALID_ARGUMENTS TOO_MANY_ARGUMENTS "
    "DUPLICATE_COLUMN_NAME MISSING_COLUMN_NAME DUPLICATE_NAMED_QUERY COLUMN_TYPE_UNKNOWN INVALID_WINDOW_FRAME "
    "INVALID_PARAMETER_USAGE INVALID_ORDER_BY INVALID_LIMIT_CLAUSE MISSING_COLUMN_ALIASES INVALID_RECURSIVE_REFERENCE "
    "NESTED_RECURSIVE NULL_TREATMENT_NOT_ALLOWED UNSUPPORTED_SUBQUERY NOT_SUPPORTED TYPE_NOT_FOUND INVALID_VIEW "
    "VIEW_IS_RECURSIVE QUERY_TEXT_TOO_LARGE QUERY_HAS_TOO_MANY_STAGES INVALID_TABLE_PROPERTY INVALID_COLUMN_PROPERTY "
    "INVALID_SCHEMA_PROPERTY ALREADY_EXISTS TABLE_ALREADY_EXISTS SCHEMA_ALREADY_EXISTS COLUMN_ALREADY_EXISTS"
).split()


def _v(
    category: C, confidence: float, why: str, remediation: Remediation | None = None, source: str = SOURCE
) -> Verdict:
    return Verdict(category, confidence, source, why, remediation)


CODES: dict[str, Verdict] = {
    **{name: _v(C.CODE_ERROR, 0.85, f"Trino {name}: the statement itself is wrong") for name in _STATEMENT},
    "COLUMN_NOT_FOUND": _v(C.SCHEMA_MISSING_COLUMN, 0.95, "Trino COLUMN_NOT_FOUND: a column cannot be resolved"),
    "TABLE_NOT_FOUND": _v(C.SCHEMA_MISSING_RELATION, 0.95, "Trino TABLE_NOT_FOUND"),
    "MISSING_TABLE": _v(C.SCHEMA_MISSING_RELATION, 0.9, "Trino MISSING_TABLE"),
    "SCHEMA_NOT_FOUND": _v(C.SCHEMA_MISSING_RELATION, 0.85, "Trino SCHEMA_NOT_FOUND"),
    "CATALOG_NOT_FOUND": _v(C.CONFIG_MISSING, 0.85, "Trino CATALOG_NOT_FOUND: the session's catalog is not configured"),
    "MISSING_CATALOG_NAME": _v(C.CONFIG_MISSING, 0.85, "Trino MISSING_CATALOG_NAME: no catalog set for the session"),
    "MISSING_SCHEMA_NAME": _v(C.CONFIG_MISSING, 0.85, "Trino MISSING_SCHEMA_NAME: no schema set for the session"),
    "INVALID_SESSION_PROPERTY": _v(C.CONFIG_MISSING, 0.8, "Trino INVALID_SESSION_PROPERTY"),
    "PERMISSION_DENIED": _v(C.INFRA_AUTH, 0.95, "Trino PERMISSION_DENIED"),
    "INVALID_PRIVILEGE": _v(C.INFRA_AUTH, 0.85, "Trino INVALID_PRIVILEGE"),
    "ROLE_NOT_FOUND": _v(C.INFRA_AUTH, 0.8, "Trino ROLE_NOT_FOUND"),
    # "caught by TRY": a value of the data raises them
    "INVALID_CAST_ARGUMENT": _v(C.DATA_TYPE_MISMATCH, 0.85, "Trino INVALID_CAST_ARGUMENT: a value cannot be cast"),
    "NUMERIC_VALUE_OUT_OF_RANGE": _v(C.DATA_TYPE_MISMATCH, 0.85, "Trino NUMERIC_VALUE_OUT_OF_RANGE"),
    "INVALID_FUNCTION_ARGUMENT": _v(
        C.DATA_TYPE_MISMATCH, 0.6, "Trino INVALID_FUNCTION_ARGUMENT: a value a function refuses"
    ),
    "DIVISION_BY_ZERO": _v(C.DATA_EMPTY, 0.6, "Trino DIVISION_BY_ZERO: a divisor was zero"),
    "SUBQUERY_MULTIPLE_ROWS": _v(
        C.DATA_QUALITY, 0.8, "Trino SUBQUERY_MULTIPLE_ROWS: a scalar subquery found several rows"
    ),
    "CONSTRAINT_VIOLATION": _v(C.DATA_QUALITY, 0.85, "Trino CONSTRAINT_VIOLATION"),
    "TRANSACTION_CONFLICT": _v(
        C.INFRA_TIMEOUT, 0.75, "Trino TRANSACTION_CONFLICT: a concurrent write", Remediation.RETRY
    ),
    "EXCEEDED_FUNCTION_MEMORY_LIMIT": _v(C.INFRA_RESOURCE, 0.85, "Trino EXCEEDED_FUNCTION_MEMORY_LIMIT"),
    "ADMINISTRATIVELY_KILLED": _v(C.INFRA_RESOURCE, 0.7, "Trino ADMINISTRATIVELY_KILLED"),
    "QUERY_REJECTED": _v(C.INFRA_RESOURCE, 0.7, "Trino QUERY_REJECTED: the resource group refused the query"),
    # INTERNAL_ERROR: the cluster, not the statement
    **{
        name: _v(C.INFRA_NETWORK, 0.8, f"Trino {name}: a worker or the network failed", Remediation.RETRY)
        for name in (
            "PAGE_TRANSPORT_ERROR",
            "PAGE_TRANSPORT_TIMEOUT",
            "REMOTE_TASK_ERROR",
            "REMOTE_HOST_GONE",
            "NO_NODES_AVAILABLE",
            "SERVER_SHUTTING_DOWN",
            "SERVER_STARTING_UP",
            "TOO_MANY_REQUESTS_FAILED",
            "REMOTE_BUFFER_CLOSE_FAILED",
            "ABANDONED_TASK",
        )
    },
    "OPTIMIZER_TIMEOUT": _v(C.INFRA_TIMEOUT, 0.8, "Trino OPTIMIZER_TIMEOUT"),
    "OUT_OF_SPILL_SPACE": _v(C.INFRA_RESOURCE, 0.9, "Trino OUT_OF_SPILL_SPACE"),
    # INSUFFICIENT_RESOURCES
    **{
        name: _v(C.INFRA_RESOURCE, 0.9, f"Trino {name}: the query exceeded a resource limit")
        for name in (
            "GENERIC_INSUFFICIENT_RESOURCES",
            "EXCEEDED_GLOBAL_MEMORY_LIMIT",
            "CLUSTER_OUT_OF_MEMORY",
            "EXCEEDED_CPU_LIMIT",
            "EXCEEDED_SPILL_LIMIT",
            "EXCEEDED_LOCAL_MEMORY_LIMIT",
            "EXCEEDED_SCAN_LIMIT",
            "ADMINISTRATIVELY_PREEMPTED",
        )
    },
    "QUERY_QUEUE_FULL": _v(C.INFRA_RESOURCE, 0.85, "Trino QUERY_QUEUE_FULL", Remediation.RETRY),
    "EXCEEDED_TIME_LIMIT": _v(C.INFRA_TIMEOUT, 0.9, "Trino EXCEEDED_TIME_LIMIT: the query ran past its time limit"),
    # the Hive connector (Athena's tables over files)
    "HIVE_BAD_DATA": _v(
        C.DATA_MALFORMED, 0.85, "Hive connector HIVE_BAD_DATA: a file's data cannot be read", source=HIVE
    ),
    "HIVE_CURSOR_ERROR": _v(
        C.DATA_MALFORMED, 0.7, "Hive connector HIVE_CURSOR_ERROR: reading a file failed", source=HIVE
    ),
    "HIVE_PARTITION_SCHEMA_MISMATCH": _v(
        C.DATA_TYPE_MISMATCH,
        0.8,
        "Hive connector HIVE_PARTITION_SCHEMA_MISMATCH: a partition's types differ",
        source=HIVE,
    ),
    "HIVE_INVALID_PARTITION_VALUE": _v(
        C.DATA_TYPE_MISMATCH, 0.8, "Hive connector HIVE_INVALID_PARTITION_VALUE", source=HIVE
    ),
    "HIVE_METASTORE_ERROR": _v(C.INFRA_NETWORK, 0.6, "Hive connector HIVE_METASTORE_ERROR", Remediation.RETRY, HIVE),
}

# `name=COLUMN_NOT_FOUND` (the Python clients' repr), `COLUMN_NOT_FOUND: line 1:8:` (Athena, the CLI),
# `errorName":"COLUMN_NOT_FOUND"` (the REST protocol's QueryError)
_NAME = re.compile(r"\bname=(?P<a>[A-Z][A-Z_]+)\b|\b(?P<b>[A-Z][A-Z_]{4,}): |errorName\W+(?P<c>[A-Z][A-Z_]+)")


def find(message: str) -> tuple[str, Verdict] | None:
    """The first Trino/Presto/Hive-connector error name of this catalog the message prints."""
    for match in _NAME.finditer(message[:4000]):
        name = match["a"] or match["b"] or match["c"]
        if name in CODES:
            return name, CODES[name]
    return None
