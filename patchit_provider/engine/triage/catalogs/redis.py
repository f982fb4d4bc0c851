"""Redis server error replies and redis-py exception classes -> category.

Sources: the server's error prefixes (the first word of an error reply: `WRONGTYPE`, `NOAUTH`,
`OOM`, ...; https://redis.io/docs/latest/develop/reference/errors/ and the shared replies of
https://github.com/redis/redis/blob/unstable/src/server.c, createSharedObjects), a few `ERR` texts
of the same source, and redis-py's classes (https://github.com/redis/redis-py/blob/master/redis/exceptions.py).
redis-py turns a known prefix into a class and drops the prefix from the message
(redis/_parsers/base.py, EXCEPTION_CLASSES: `-LOADING ...` -> `BusyLoadingError: Redis is loading ...`),
so a class name is as strong a fact as a prefix. Other clients keep the prefix: Jedis
`JedisDataException: LOADING ...`, Lettuce `RedisCommandExecutionException: NOPERM ...`, ioredis
`ReplyError: ...`, node-redis `ErrorReply: ...`, StackExchange.Redis `RedisServerException: ...`.

Only errors that are Redis's count (the text names Redis or a Redis client), and only names of
these tables. redis-py's generic classes (ResponseError, RedisError, ConnectionError) are left to
the message, the errno and the class catalog.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

ERRORS = "https://redis.io/docs/latest/develop/reference/errors/"
SERVER = "https://github.com/redis/redis/blob/unstable/src/server.c (createSharedObjects); " + ERRORS
REDIS_PY = (
    "https://github.com/redis/redis-py/blob/master/redis/exceptions.py; "
    "https://github.com/redis/redis-py/blob/master/redis/_parsers/base.py (EXCEPTION_CLASSES)"
)
SOURCE = f"{SERVER}; {REDIS_PY}"


def _v(
    category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.85, source: str = SERVER
) -> Verdict:
    return Verdict(category, confidence, source, f"Redis {why}", remediation)


# the server is up but not serving yet, or the cluster is moving: the same command succeeds later
_UNAVAILABLE = _v(C.INFRA_NETWORK, "server or cluster temporarily unavailable (loading, failover, resharding)")
# ACL/password refusals: the credentials or the user's rights must change
_AUTH = _v(C.INFRA_AUTH, "refused the credentials or the user's ACL rights", confidence=0.9)
# a redirection reached a client that does not follow it: connect with a cluster-aware client
_REDIRECT_WHY = "cluster redirection: the client is not configured for Redis Cluster"
_REDIRECT = _v(C.CONFIG_MISSING, _REDIRECT_WHY, confidence=0.6)

# Server error prefixes (the first word of the reply)
PREFIXES: dict[str, Verdict] = {
    **dict.fromkeys("NOAUTH WRONGPASS NOPERM".split(), _AUTH),
    **dict.fromkeys("LOADING BUSY MASTERDOWN CLUSTERDOWN TRYAGAIN NOREPLICAS NOMASTERLINK IOERR".split(), _UNAVAILABLE),
    # after a failover the old primary is a replica until the client reconnects: transient
    "READONLY": _v(C.INFRA_NETWORK, "write sent to a replica (the primary failed over)", confidence=0.7),
    **dict.fromkeys("MOVED ASK".split(), _REDIRECT),
    # the server's memory or disk is full: an operator must act
    "OOM": _v(C.INFRA_RESOURCE, "reached maxmemory and refuses writes", confidence=0.9),
    "MISCONF": _v(C.INFRA_RESOURCE, "cannot persist its RDB snapshot (disk) and refuses writes", confidence=0.8),
    # the command itself is wrong for the data model: the code must change
    "CROSSSLOT": _v(C.CODE_ERROR, "multi-key command whose keys hash to different cluster slots", confidence=0.8),
    "WRONGTYPE": _v(C.CODE_ERROR, "command of one data type run on a key holding another", confidence=0.7),
    "NOSCRIPT": _v(C.CODE_ERROR, "EVALSHA of a script the server has not loaded", confidence=0.65),
    "BUSYGROUP": _v(C.CODE_ERROR, "XGROUP CREATE of a consumer group that already exists", confidence=0.65),
    # the stream or group is an object the pipeline reads, like a table
    "NOGROUP": _v(C.SCHEMA_MISSING_RELATION, "stream key or consumer group does not exist", confidence=0.7),
    # the client's protocol setting (RESP3) does not fit the server's version
    "NOPROTO": _v(C.CONFIG_MISSING, "server does not speak the RESP version the client asks for", confidence=0.65),
}

# redis-py classes (the prefix is gone from their message)
CLASSES: dict[str, Verdict] = {
    **dict.fromkeys(
        "AuthenticationError AuthorizationError NoPermissionError ExternalAuthProviderError".split(),
        _v(C.INFRA_AUTH, "refused the credentials or the user's ACL rights", confidence=0.9, source=REDIS_PY),
    ),
    # the connection's credentials setting does not fit the server's auth model
    "AuthenticationWrongNumberOfArgsError": _v(
        C.CONFIG_MISSING, "AUTH sent with a username to a server without ACL users", confidence=0.75, source=REDIS_PY
    ),
    **dict.fromkeys(
        "BusyLoadingError TryAgainError ClusterDownError MasterDownError ClusterError SlotNotCoveredError".split(),
        _v(C.INFRA_NETWORK, "server or cluster temporarily unavailable", source=REDIS_PY),
    ),
    "ReadOnlyError": _v(C.INFRA_NETWORK, "write sent to a replica (failover)", confidence=0.7, source=REDIS_PY),
    # a socket read or connect past socket_timeout: the network or a busy server
    "TimeoutError": _v(C.INFRA_NETWORK, "socket timeout talking to the server", confidence=0.8, source=REDIS_PY),
    **dict.fromkeys(
        "MovedError AskError".split(), _v(C.CONFIG_MISSING, _REDIRECT_WHY, confidence=0.6, source=REDIS_PY)
    ),
    # maxmemory, or the client pool's size: limits of a resource
    "OutOfMemoryError": _v(C.INFRA_RESOURCE, "reached maxmemory and refuses writes", confidence=0.9, source=REDIS_PY),
    "MaxConnectionsError": _v(C.INFRA_RESOURCE, "client connection pool exhausted", Remediation.RETRY, 0.75, REDIS_PY),
    # the code's commands or scripts do not fit the cluster or the server's state
    **dict.fromkeys(
        "ClusterCrossSlotError CrossSlotTransactionError".split(),
        _v(
            C.CODE_ERROR,
            "keys of one command or transaction in different cluster slots",
            confidence=0.8,
            source=REDIS_PY,
        ),
    ),
    "NoScriptError": _v(
        C.CODE_ERROR, "EVALSHA of a script the server has not loaded", confidence=0.65, source=REDIS_PY
    ),
    # redis-py's DataError is raised before sending: a value it cannot encode (not PEP 249's DataError)
    "DataError": _v(C.CODE_ERROR, "client was given a value it cannot encode or send", confidence=0.8, source=REDIS_PY),
    # optimistic locking lost a race; the lock expired while its holder ran: both pass on a re-run
    "WatchError": _v(
        C.INFRA_TIMEOUT, "WATCHed key changed before EXEC (concurrent writer)", confidence=0.6, source=REDIS_PY
    ),
    "LockNotOwnedError": _v(
        C.INFRA_TIMEOUT,
        "lock expired before its holder released it (ran past its timeout)",
        confidence=0.65,
        source=REDIS_PY,
    ),
}

# `ERR` replies the server source defines with one text (redis-py drops `ERR `), and redis-py's
# own pool message; each anchored at the start of the reply
TEXTS: dict[str, tuple[str, Verdict]] = {
    "ERR max number of clients reached": (
        r"max number of clients reached",
        _v(C.INFRA_RESOURCE, "reached maxclients", Remediation.RETRY, 0.8),
    ),
    "ERR invalid password": (r"invalid password", _v(C.INFRA_AUTH, "refused the password")),
    "ERR AUTH without a server password": (
        r"Client sent AUTH, but no password is set|AUTH <password> called without any password configured",
        _v(C.CONFIG_MISSING, "client sends a password the server does not use"),
    ),
    "ERR wrong number of arguments": (
        r"wrong number of arguments for '[\w| -]+' command",
        _v(C.CODE_ERROR, "command sent with the wrong number of arguments", confidence=0.8),
    ),
    "ERR syntax error": (r"syntax error\.?\s*$", _v(C.CODE_ERROR, "command syntax error", confidence=0.7)),
    "ERR not an integer or float": (
        r"value is not an integer or out of range|value is not a valid float",
        _v(C.CODE_ERROR, "argument or stored value is not a number (arguments in the wrong order?)", confidence=0.6),
    ),
    "ERR invalid expire time": (
        r"invalid expire time in '\w+' command",
        _v(C.CODE_ERROR, "command sent with a non-positive or non-integer TTL", confidence=0.7),
    ),
    "ERR DB index is out of range": (
        r"DB index is out of range",
        _v(C.CONFIG_MISSING, "connection selects a database number the server does not have", confidence=0.8),
    ),
    "ERR no such key": (
        r"no such key\s*$",
        _v(C.UPSTREAM_FAILED, "key the command needs does not exist", confidence=0.6),
    ),
    "Too many connections": (
        r"Too many connections",
        _v(C.INFRA_RESOURCE, "client connection pool exhausted", Remediation.RETRY, 0.7, REDIS_PY),
    ),
}

_REDIS = re.compile(r"redis|jedis|\b(?:ReplyError|ErrorReply)\b", re.I)
# where a reply starts: the message itself, after a class ("Type: "), redis-py's pipeline
# ("... caused error WRONGTYPE" / "caused error: "), redis-cli ("(error) ")
_START = r"(?:^|: |\b[Ee]rror:? |\(error\) |\[)"
_PREFIX = re.compile(_START + r"(?P<name>[A-Z]{2,12}) (?=\S)", re.M)
_TEXT = re.compile(
    _START + r"(?:ERR )?(?:" + "|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(TEXTS.values())) + ")", re.M
)
_TEXT_NAMES = list(TEXTS)
# a redis-py class named in the message: "redis.exceptions.BusyLoadingError", django-redis's "Redis ReadOnlyError: "
_CLASS_IN_TEXT = re.compile(r"\bredis(?:\.asyncio)?\.exceptions\.(?P<a>\w+)|\bRedis (?P<b>\w+Error): ")


def _class(type_name: str, text: str) -> str | None:
    short = type_name.rsplit(".", 1)[-1].strip()
    if short in CLASSES and "redis" in type_name.lower():
        return short
    for match in _CLASS_IN_TEXT.finditer(text):
        name = match["a"] or match["b"]
        if name in CLASSES:
            return name
    return None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The Redis error prefix, `ERR` text or redis-py class of an error that is Redis's."""
    text = f"{type_name}: {message[:4000]}" if type_name and type_name != "log" else message[:4000]
    if not _REDIS.search(text):
        return None
    for match in _PREFIX.finditer(text):
        if match["name"] in PREFIXES:
            return match["name"], PREFIXES[match["name"]]
    described = _TEXT.search(text)
    if described and described.lastgroup:
        name = _TEXT_NAMES[int(described.lastgroup[1:])]
        return name, TEXTS[name][1]
    raised = _class(type_name, text)
    return (raised, CLASSES[raised]) if raised else None
