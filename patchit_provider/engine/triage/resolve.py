"""The resolver: facts of one exception -> the catalog verdict that decides it.

For one exception (type, message), strongest fact first:
1. codes the engine put in the message: an engine's named error (NAMED_ERRORS: a Spark condition, a Trino or Kafka
   error name, ...), a specific SQLSTATE (or the
   psycopg class, which is one), an AWS error code, an HTTP status (with the rate-limit body
   rule), an errno, a signal or exit code;
2. engine messages that carry no code (catalogs/messages.py);
3. the exception class itself (catalogs/exceptions.py).
Weak facts, used only when no exception of the chain has a strong one: the SQLSTATE's class,
and the nearest base class with a verdict.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass

from patchit_provider.engine.triage.catalogs import (
    azure_data_factory,
    bigquery,
    clickhouse,
    codes,
    data_quality,
    databricks,
    docker,
    exceptions,
    git,
    kafka,
    kubernetes,
    messages,
    mongodb,
    pg_messages,
    redis,
    server_messages,
    slack,
    snowflake,
    spark,
    sqlstate,
    transfer,
    trino,
)
from patchit_provider.engine.triage.catalogs.base import Verdict

# Engines that name their errors (a condition, an error name or a numbered code of their own
# table), strongest first: (what the fact is called, finder(type_name, message)). A finder reads
# only errors that are its engine's and returns (name, verdict) for a name of its table.
NAMED_ERRORS: tuple[tuple[str, Callable[[str, str], tuple[str, Verdict] | None]], ...] = (
    ("Spark condition", lambda _type, message: spark.find(message)),
    ("Trino error", lambda _type, message: trino.find(message)),
    ("Kafka error", kafka.find),
    ("Databricks error", databricks.find),
    ("Redis error", redis.find),
    ("MongoDB error", mongodb.find),
    ("Azure Data Factory error", azure_data_factory.find),
    ("Snowflake error", snowflake.find),
    ("ClickHouse error", clickhouse.find),
    ("Slack error", slack.find),
    ("Kubernetes reason", kubernetes.find),
    ("Data-quality framework", data_quality.find),
    ("Docker error", docker.find),
    ("git error", git.find),
    ("Transfer protocol error", transfer.find),
    ("BigQuery error", bigquery.find),
    ("Server message", server_messages.find),
    ("PostgreSQL message", pg_messages.find),
)


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    fact: str  # what was seen: "SQLSTATE 42703", "HTTP 429", "class UndefinedColumn", ...


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1].strip()


def _state(type_name: str, message: str) -> str | None:
    short = _short(type_name)
    if hasattr(builtins, short) and "psycopg" not in type_name:  # psycopg's SyntaxError is not Python's
        return sqlstate.find_state(message)
    return sqlstate.find_state(message) or sqlstate.psycopg_classes().get(short)


def code_facts(type_name: str, message: str, context: str = "") -> Finding | None:
    """Codes printed by the engine (strongest facts). `context`: the lines printed right after
    (a response body under an HTTP status line)."""
    for label, finder in NAMED_ERRORS:
        found = finder(type_name, message)
        if found:
            return Finding(found[1], f"{label} {found[0]}")
    state = _state(type_name, message)
    if state and (verdict := sqlstate.specific(state)) is not None:
        return Finding(verdict, f"SQLSTATE {state}")
    vendor = codes.vendor_verdict(message)
    if vendor:
        return Finding(vendor[1], vendor[0])
    aws = codes.aws_verdict(message)
    if aws:
        return Finding(aws[1], f"AWS error code {aws[0]}")
    http = codes.http_verdict(message, context) or codes.http_verdict(type_name + " " + message, context)
    if http:
        return Finding(http[1], f"HTTP {http[0]}")
    err = codes.errno_verdict(message)
    if err:
        return Finding(err[1], f"errno {err[0]}")
    sig = codes.signal_verdict(message)
    if sig:
        return Finding(sig[1], f"signal {sig[0]}")
    grpc = codes.grpc_verdict(message)
    if grpc:
        return Finding(grpc[1], f"gRPC status {grpc[0]}")
    return None


def message_facts(type_name: str, message: str) -> Finding | None:
    text = f"{type_name}: {message}" if type_name and type_name != "log" else message
    hit = messages.match(text[:6000])
    return Finding(hit[1], "engine message") if hit else None


def class_fact(type_name: str) -> Finding | None:
    """The raised class's own verdict (not its bases)."""
    for key in (type_name.strip().replace(" ", "_"), _short(type_name)):
        verdict = exceptions.CLASSES.get(key)
        if verdict is not None and exceptions.owned(type_name, verdict):
            return Finding(verdict, f"class {_short(type_name)}")
    return None


def weak_facts(type_name: str, message: str) -> Finding | None:
    state = _state(type_name, message)
    if state and (verdict := sqlstate.of_class(state)) is not None:
        return Finding(verdict, f"SQLSTATE class {state[:2]}")
    if not type_name or type_name == "log":
        return None
    for name in exceptions.lineage(_short(type_name))[1:]:
        if name in exceptions.CLASSES:
            verdict = exceptions.CLASSES[name]
            if verdict is None:  # a wrapper base: nothing more specific to say
                return None
            if not exceptions.owned(type_name, verdict):
                return None
            return Finding(verdict.weaker(0.1), f"base class {name} of {_short(type_name)}")
    return None
