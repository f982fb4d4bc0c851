"""Kafka client and broker error codes -> category.

Sources: the Kafka protocol's error codes (https://kafka.apache.org/protocol#protocol_error_codes,
`UNKNOWN_TOPIC_OR_PARTITION`, ...), librdkafka's `rd_kafka_resp_err_t` as confluent-kafka prints it
(`KafkaError{code=MSG_SIZE_TOO_LARGE,...}`, the local errors with a leading underscore such as
`_TRANSPORT`; https://github.com/confluentinc/librdkafka/blob/master/src/rdkafka.h) and
kafka-python's exception classes (kafka/errors.py: `NoBrokersAvailable`, `NodeNotReadyError`,
`KafkaTimeoutError`, the protocol errors as `UnknownTopicOrPartitionError`). Only names of this
table count.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = (
    "https://kafka.apache.org/protocol#protocol_error_codes; "
    "https://github.com/confluentinc/librdkafka/blob/master/src/rdkafka.h (rd_kafka_resp_err_t); "
    "https://github.com/dpkp/kafka-python/blob/master/kafka/errors.py"
)


def _v(category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, SOURCE, f"Kafka {why}", remediation)


_NETWORK = _v(C.INFRA_NETWORK, "brokers unreachable or a partition leader moving (transient)", Remediation.RETRY)
_AUTH = _v(C.INFRA_AUTH, "the client is not authenticated or not authorized")

CODES: dict[str, Verdict] = {
    **{
        name: _NETWORK
        for name in (
            "_TRANSPORT _ALL_BROKERS_DOWN _MSG_TIMED_OUT _TIMED_OUT _RESOLVE NETWORK_EXCEPTION LEADER_NOT_AVAILABLE "
            "NOT_LEADER_FOR_PARTITION NOT_LEADER_OR_FOLLOWER REQUEST_TIMED_OUT BROKER_NOT_AVAILABLE "
            "COORDINATOR_NOT_AVAILABLE NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS NOT_ENOUGH_REPLICAS "
            "NoBrokersAvailable NodeNotReadyError KafkaTimeoutError KafkaConnectionError RequestTimedOutError "
            "LeaderNotAvailableError NotLeaderForPartitionError BrokerNotAvailableError"
        ).split()
    },
    **{
        name: _AUTH
        for name in (
            "TOPIC_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED CLUSTER_AUTHORIZATION_FAILED "
            "TRANSACTIONAL_ID_AUTHORIZATION_FAILED SASL_AUTHENTICATION_FAILED _AUTHENTICATION _SSL "
            "TopicAuthorizationFailedError GroupAuthorizationFailedError ClusterAuthorizationFailedError "
            "SaslAuthenticationFailedError"
        ).split()
    },
    **{
        name: _v(C.SCHEMA_MISSING_RELATION, "the topic or partition does not exist")
        for name in (
            "UNKNOWN_TOPIC_OR_PART",
            "UNKNOWN_TOPIC_OR_PARTITION",
            "_UNKNOWN_TOPIC",
            "_UNKNOWN_PARTITION",
            "UnknownTopicOrPartitionError",
        )
    },
    **{
        name: _v(
            C.CONFIG_MISSING, "a message is larger than the producer's or the broker's size limit (message.max.bytes)"
        )
        for name in (
            "MSG_SIZE_TOO_LARGE",
            "MESSAGE_TOO_LARGE",
            "_MSG_SIZE_TOO_LARGE",
            "RECORD_LIST_TOO_LARGE",
            "MessageSizeTooLargeError",
        )
    },
    "_QUEUE_FULL": _v(
        C.INFRA_RESOURCE, "the producer's local queue is full (queue.buffering.max.messages)", Remediation.RETRY
    ),
    "OFFSET_OUT_OF_RANGE": _v(C.UPSTREAM_FAILED, "the committed offset was deleted by retention"),
    "OffsetOutOfRangeError": _v(C.UPSTREAM_FAILED, "the committed offset was deleted by retention"),
    # a configuration the client library does not know: the code passes it
    "KafkaConfigurationError": _v(C.CODE_ERROR, "configuration key unknown to the installed client", confidence=0.75),
    "_INVALID_ARG": _v(C.CODE_ERROR, "an invalid argument or configuration value", confidence=0.75),
}

# librdkafka's own descriptions (rd_kafka_err2str, src/rdkafka.c: "Broker: ..." / "Local: ..."), as
# bindings that print the text or a CamelCase variant (Rust rdkafka's `UnknownTopicOrPartition`) show them
_TEXTS = {
    "Broker: Unknown topic or partition": "UNKNOWN_TOPIC_OR_PART",
    "Local: Unknown topic": "_UNKNOWN_TOPIC",
    "Broker: Message size too large": "MSG_SIZE_TOO_LARGE",
    "Local: Broker transport failure": "_TRANSPORT",
    "Local: All broker connections are down": "_ALL_BROKERS_DOWN",
    "Local: Message timed out": "_MSG_TIMED_OUT",
    "Local: Host resolution failure": "_RESOLVE",
    "Local: Authentication failure": "_AUTHENTICATION",
    "Broker: Topic authorization failed": "TOPIC_AUTHORIZATION_FAILED",
    "Broker: Group authorization failed": "GROUP_AUTHORIZATION_FAILED",
    "Local: Queue full": "_QUEUE_FULL",
}
_TEXT = re.compile("|".join(re.escape(text) for text in _TEXTS))

_NAME = re.compile(
    r"\bcode=(?P<a>_?[A-Z][A-Z_]+)\b|\b(?P<b>_?[A-Z][A-Z_]{3,})\b|\b(?P<c>[A-Z]\w+(?:Error|Available))\b"
)
_KAFKA = re.compile(r"kafka|cimpl|confluent|\b(?:Broker|Local): ", re.I)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first Kafka error name of this table, in an error that is Kafka's (its class or text)."""
    text = f"{type_name}: {message[:4000]}"
    if not _KAFKA.search(text):
        return None
    for match in _NAME.finditer(text):
        name = match["a"] or match["b"] or match["c"]
        if name in CODES:
            return name, CODES[name]
    described = _TEXT.search(text)
    if described:
        name = _TEXTS[described.group(0)]
        return name, CODES[name]
    return None
