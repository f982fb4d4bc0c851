"""polars' exception classes (catalogs/exceptions.py, messages.py) and Redis's error replies and
redis-py classes (catalogs/redis.py): messages as posted in public threads, look-alikes that must
not be claimed, and the tables' categories."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import exceptions, redis
from patchit_testing import triage_text

POLARS_SRC = "https://github.com/pola-rs/polars/blob/main/crates/polars-io/src/csv/read/streaming.rs"

# (source, output as posted, category, remediation, what decides)
POSTED = [
    # --- polars ------------------------------------------------------------------------------
    (
        "https://github.com/pola-rs/polars/issues/18903",
        'polars.exceptions.ColumnNotFoundError: unable to find column "long"; valid columns: ["city", "lat", "lng", '
        '"country", "iso2", "admin_name", "capital", "population", "population_proper"]',
        "schema.missing_column",
        "escalate",
        "class ColumnNotFoundError",
    ),
    (
        "https://github.com/pola-rs/polars/pull/6670",
        "StructFieldNotFoundError: c",
        "schema.missing_column",
        "escalate",
        "class StructFieldNotFoundError",
    ),
    (
        "https://github.com/fiberseq/FIRE/issues/35",
        "polars.exceptions.ComputeError: could not parse `-` as dtype `i64` at column 'score' (column number 6)",
        "data.type_mismatch",
        "escalate",
        "engine message",
    ),
    (
        "https://github.com/Medical-Event-Data-Standard/meds_etl/issues/62",
        "polars.exceptions.InvalidOperationError: conversion from `str` to `i64` failed in column 'concept_id' for "
        '22723 out of 22723 values: ["444239.0", "4141360.0", … "198803.0"]',
        "data.type_mismatch",
        "escalate",
        "engine message",
    ),
    (
        "https://github.com/pola-rs/polars/issues/6542",
        'exceptions.ComputeError: Strict conversion from Utf8 to Int64 failed for values ["3.0"]. If you were trying '
        "to cast Utf8 to Date, Time, or Datetime, consider using `strptime`.",
        "data.type_mismatch",
        "escalate",
        "engine message",
    ),
    (
        "https://github.com/infiniflow/ragflow/issues/3706",
        "polars.exceptions.SchemaError: type String is incompatible with expected type List(Float64)",
        "data.type_mismatch",
        "escalate",
        "engine message",
    ),
    (
        "https://github.com/pola-rs/polars/issues/16885",
        "polars.exceptions.SchemaError: invalid series dtype: expected `List`, got `array[f64, 3]`",
        "data.type_mismatch",
        "escalate",
        "class SchemaError",
    ),
    (POLARS_SRC, "polars.exceptions.NoDataError: empty CSV", "data.empty", "escalate", "class NoDataError"),
    (
        "https://docs.pola.rs/py-polars/html/reference/api/polars.exceptions.DuplicateError.html",
        'polars.exceptions.DuplicateError: unable to hstack, column with name "a" already exists',
        "code.error",
        "patch",
        "class DuplicateError",
    ),
    (
        "https://github.com/pola-rs/polars/issues/19047",
        "polars.exceptions.InvalidOperationError: expected String type, got: i64",
        "code.error",
        "patch",
        "class InvalidOperationError",
    ),
    # --- Redis: server prefixes as redis-py and other clients print them ------------------------
    (
        "https://github.com/redis/redis-py/issues/1167",
        "redis.exceptions.ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value",
        "code.error",
        "patch",
        "Redis error WRONGTYPE",
    ),
    (
        "https://github.com/rmax/scrapy-redis/issues/192",
        "redis exceptions ResponseError: Command # 1 (ZRANGE xinghuoedu_spider:requests 0 0) of pipeline caused "
        "error WRONGTYPE Operation against a key holding the wrong kind of value",
        "code.error",
        "patch",
        "Redis error WRONGTYPE",
    ),
    (
        "https://github.com/pjialin/py12306/issues/311",
        "redis.exceptions.ResponseError: MOVED 11962 149.129.70.94:6379",
        "config.missing",
        "escalate",
        "Redis error MOVED",
    ),
    (
        "https://github.com/redis/redis/issues/812",
        "redis.clients.jedis.exceptions.JedisDataException: LOADING Redis is loading the dataset in memory",
        "infra.network",
        "retry",
        "Redis error LOADING",
    ),
    (
        "https://github.com/redis/jedis/issues/2144",
        "redis.clients.jedis.exceptions.JedisClusterException: CLUSTERDOWN The cluster is down",
        "infra.network",
        "retry",
        "Redis error CLUSTERDOWN",
    ),
    (
        "https://github.com/redis/redis-py/issues/375",
        "ResponseError: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "infra.network",
        "retry",
        "Redis error BUSY",
    ),
    (
        "https://github.com/redis/redis-doc/issues/2235",
        "ReplyError: READONLY You can't write against a read only replica.",
        "infra.network",
        "retry",
        "Redis error READONLY",
    ),
    (
        "https://github.com/rq/rq/issues/1980",
        "redis.exceptions.ResponseError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
        "to persist to disk. Commands that may modify the data set are disabled, bec...",
        "infra.resource",
        "escalate",
        "Redis error MISCONF",
    ),
    (
        "https://github.com/redis/redis-py/issues/817",
        "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.",
        "infra.resource",
        "escalate",
        "Redis error OOM",
    ),
    (
        "https://github.com/redis/lettuce/issues/1379",
        "io.lettuce.core.RedisCommandExecutionException: NOPERM this user has no permissions to run the 'hello' "
        "command or its subcommand",
        "infra.auth",
        "escalate",
        "Redis error NOPERM",
    ),
    (
        "https://github.com/redis/ioredis/issues/101",
        "Unhandled rejection ReplyError: CROSSSLOT Keys in request don't hash to the same slot",
        "code.error",
        "patch",
        "Redis error CROSSSLOT",
    ),
    # --- Redis: `ERR` texts ----------------------------------------------------------------------
    (
        "https://github.com/D0g3-Lab/H1ve/issues/22",
        "redis.exceptions.ConnectionError: max number of clients reached",
        "infra.resource",
        "retry",
        "Redis error ERR max number of clients reached",
    ),
    (
        "https://github.com/redis/node-redis/issues/1505",
        "ReplyError: ERR value is not an integer or out of range",
        "code.error",
        "patch",
        "Redis error ERR not an integer or float",
    ),
    # --- redis-py classes (the prefix is stripped from the message) -----------------------------
    (
        "https://github.com/MISP/misp-dashboard/issues/74",
        "redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory",
        "infra.network",
        "retry",
        "Redis error BusyLoadingError",
    ),
    (
        "https://github.com/limaoyi1/Auto-PPT/issues/34",
        "redis.exceptions.AuthenticationError: Authentication required.",
        "infra.auth",
        "escalate",
        "Redis error AuthenticationError",
    ),
    (
        "https://github.com/pjialin/py12306/issues/289",
        "redis.exceptions.ReadOnlyError: You can't write against a read only replica.",
        "infra.network",
        "retry",
        "Redis error ReadOnlyError",
    ),
    (
        "https://github.com/Suor/django-cacheops/issues/315",
        "redis.exceptions.TimeoutError: Timeout reading from socket",
        "infra.network",
        "retry",
        "Redis error TimeoutError",
    ),
    (
        "https://github.com/redis/redis-py/issues/1542",
        "redis.exceptions.DataError: Invalid input of type: 'dict'. Convert to a bytes, string, int or float first.",
        "code.error",
        "patch",
        "Redis error DataError",
    ),
    (
        "https://github.com/WeblateOrg/weblate/issues/3529",
        "django_redis.exceptions.ConnectionInterrupted: Redis BusyLoadingError: Redis is loading the dataset in memory",
        "infra.network",
        "retry",
        "Redis error BusyLoadingError",
    ),
]


def _log(line: str) -> str:
    return f'Traceback (most recent call last):\n  File "/opt/dags/job.py", line 3, in <module>\n    run()\n{line}\n'


@pytest.mark.parametrize("source,text,category,remediation,decided", POSTED, ids=[p[4] for p in POSTED])
def test_posted_messages(source, text, category, remediation, decided):
    result = triage_text(_log(text))
    assert (result.category.value, result.remediation.value) == (category, remediation), source
    assert decided in result.decided_by, result.decided_by


@pytest.mark.parametrize(
    "text",
    [
        "acme.ApiError: LOADING the dataset failed, OOM while reading",  # no Redis in sight
        "kafka.errors.KafkaTimeoutError: BUSY broker, MOVED partition 3",
        "pandera.errors.SchemaError: non-nullable series 'id' contains null values",  # not polars' SchemaError
    ],
)
def test_look_alikes_are_not_claimed(text):
    assert redis.find(*text.split(": ", 1)) is None
    decided = triage_text(_log(text)).decided_by
    assert "Redis error" not in decided and "class SchemaError" not in decided


def test_a_generic_redis_class_is_left_to_errno_and_message():
    """ConnectionError carries an errno; the Redis table does not claim it."""
    text = "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused."
    assert redis.find(*text.split(": ", 1)) is None
    assert "errno" in triage_text(_log(text)).decided_by


def test_every_entry_is_a_taxonomy_category_with_a_source():
    verdicts = [*redis.PREFIXES.values(), *redis.CLASSES.values(), *(v for _, v in redis.TEXTS.values())]
    verdicts += [v for v in exceptions.CLASSES.values() if v is not None and v.source == exceptions.POLARS]
    assert len(verdicts) > 60
    for verdict in verdicts:
        assert isinstance(verdict.category, Category) and verdict.category != Category.UNKNOWN
        assert verdict.source.startswith("https://")


def test_polars_classes_have_polars_error_as_base():
    """The lineage reaches PolarsError (a wrapper) for a class without a verdict of its own."""
    assert exceptions.lineage("ShapeError")[:2] == ["ShapeError", "PolarsError"]
    assert exceptions.CLASSES["ComputeError"] is None and exceptions.CLASSES["PolarsError"] is None
    assert "ModuleNotFoundError" in exceptions.lineage("ModuleUpgradeRequiredError")
