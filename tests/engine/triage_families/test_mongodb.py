"""MongoDB server codes and driver classes (catalogs/mongodb.py): messages as MongoDB's clients
(PyMongo, the Java, Node.js and Perl drivers, the shell) printed them in public threads, one or
more for each group of the table, look-alikes of other engines that must not be read as MongoDB's,
and the table against the taxonomy and the server's code list."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.engine.triage.catalogs import mongodb
from patchit_testing import triage_text

# (source, output as posted, category, remediation, the name of the table that decides)
POSTED = [
    # --- infra.network: no server reachable, a primary gone -----------------------------------------
    (
        "https://github.com/Bmixo/btSearch/issues/5",
        "pymongo.errors.ServerSelectionTimeoutError: 127.0.0.1:27017: [Errno 111] Connection refused, Timeout: 30s, "
        "Topology Description: <TopologyDescription id: 61dea303535586daad64f933, topology_type: Unknown, servers: "
        "[<ServerDescription ('127.0.0.1', 27017) server_type: Unknown, rtt: None, error=AutoReconnect('127.0.0.1:27017: "
        "[Errno 111] Connection refused')>]>",
        "infra.network",
        "retry",
        "ServerSelectionTimeoutError",
    ),
    (
        "https://github.com/vert-x3/vertx-mongo-client/issues/138",
        "com.mongodb.MongoTimeoutException: Timed out after 30000 ms while waiting for a server that matches "
        "ReadPreferenceServerSelector{readPreference=primary}. Client view of cluster state is {type=UNKNOWN, "
        "servers=[{address=localhost:27017, type=UNKNOWN, state=CONNECTING}]",
        "infra.network",
        "retry",
        "MongoTimeoutException",
    ),
    (
        "https://github.com/mongodb/helm-charts/issues/196",
        r"pymongo.errors.NotPrimaryError: not primary, full error: {'operationTime': Timestamp(1674072822, 1), 'ok': 0.0, "
        r"'errmsg': 'not primary', 'code': 10107, 'codeName': 'NotWritablePrimary', '$clusterTime': {'clusterTime': "
        r"Timestamp(1674072822, 1), 'signature': {'hash': b'\x12\xf2\x80p\xfe\xdb\x13\xb9\x9f\xa5\xf8cW:S\x8aj\xbfnx', "
        r"'keyId': 7190015608463818757}}}",
        "infra.network",
        "retry",
        "NotWritablePrimary",
    ),
    (
        # Spring Data's wrapper around the Java driver's `error N (Name)`
        "https://github.com/spring-projects/spring-data-mongodb/issues/4025",
        "org.springframework.data.mongodb.UncategorizedMongoDbException:  Command failed with error 10107 "
        "(NotWritablePrimary): 'not \nmaster' on server mongo:27017. The full response is",
        "infra.network",
        "retry",
        "NotWritablePrimary",
    ),
    # --- infra.auth ------------------------------------------------------------------------------
    (
        "https://github.com/grillazz/fastapi-mongodb/issues/50",
        "pymongo.errors.OperationFailure: Authentication failed., full error: {'ok': 0.0, 'errmsg': 'Authentication "
        "failed.', 'code': 18, 'codeName': 'AuthenticationFailed'}",
        "infra.auth",
        "escalate",
        "AuthenticationFailed",
    ),
    (
        "https://github.com/langchain-ai/langchain-mongodb/issues/225",
        "pymongo.errors.OperationFailure: not authorized on spd_api to execute command { listCollections: 1, cursor: {}, "
        'nameOnly: true, lsid: { id: UUID("00081a67-4074-403c-95f4-be38f0c2f566") }, $db: "spd_api" }, full error: '
        "{'ok': 0.0, 'errmsg': 'not authorized on spd_api to execute command { listCollections: 1, cursor: {}, nameOnly: "
        'true, lsid: { id: UUID("00081a67-4074-403c-95f4-be38f0c2f566") }, $db: "spd_api" }\', \'code\': 13, '
        "'codeName': 'Unauthorized'}",
        "infra.auth",
        "escalate",
        "Unauthorized",
    ),
    (
        # the Java driver before 3.8 printed the number only
        "https://github.com/mongodb/mongo-spark/pull/27",
        "com.mongodb.MongoCommandException: Command failed with error 13: 'not authorized on admin to execute command "
        '{ collStats: "yw_route" }\' on server xxx.xxx.xx.xx:8636. The full response is { "ok" : 0.0, "errmsg" : "not '
        'authorized on admin to execute command { collStats: \\"yw_route\\" }", "code" : 13 }',
        "infra.auth",
        "escalate",
        "Unauthorized",
    ),
    (
        # PyMongo 2.x: the server's message without the code
        "https://github.com/certsocietegenerale/fame/pull/33",
        'pymongo.errors.OperationFailure: not authorized on fame to execute command { find: "settings", filter: {} }',
        "infra.auth",
        "escalate",
        "Unauthorized",
    ),
    # --- schema.missing_relation -------------------------------------------------------------------
    (
        # the shell's reply document
        "https://github.com/mongodb/mongo/pull/1328",
        '> db.test.dropIndex({});\n{\n        "ok" : 0,\n        "errmsg" : "ns not found",\n        "code" : 26,\n'
        '        "codeName" : "NamespaceNotFound"\n}',
        "schema.missing_relation",
        "escalate",
        "NamespaceNotFound",
    ),
    (
        "https://github.com/steedos/steedos-platform/issues/6624",
        "MongoError: ns does not exist: steedos.instance_tasks",
        "schema.missing_relation",
        "escalate",
        "NamespaceNotFound",
    ),
    # --- infra.timeout ---------------------------------------------------------------------------
    (
        "https://github.com/doctrine/mongodb/issues/315",
        "pymongo.errors.CursorNotFound: Cursor not found, cursor id: 542052039037",
        "infra.timeout",
        "retry",
        "CursorNotFound",
    ),
    (
        # the Perl driver
        "https://github.com/openfoodfacts/openfoodfacts-server/issues/4754",
        "MongoDB::DatabaseError: operation exceeded time limit",
        "infra.timeout",
        "retry",
        "MaxTimeMSExpired",
    ),
    # --- infra.resource --------------------------------------------------------------------------
    (
        "https://github.com/dataware-tools/pydtk/pull/65",
        "pymongo.errors.OperationFailure: Exceeded memory limit for $group, but didn't allow external sort. Pass "
        "allowDiskUse:true to opt in., full error: {'ok': 0.0, 'errmsg': \"Exceeded memory limit for $group, but "
        "didn't allow external sort. Pass allowDiskUse:true to opt in.\", 'code': 292, 'codeName': "
        "'QueryExceededMemoryLimitNoDiskUseAllowed'}",
        "infra.resource",
        "escalate",
        "QueryExceededMemoryLimitNoDiskUseAllowed",
    ),
    (
        # the Node.js driver prints the reply's fields under the stack
        "https://github.com/rd13/jsperf.app/pull/58",
        "MongoServerError: PlanExecutor error during aggregation :: caused by :: Exceeded memory limit for $group, but "
        "didn't allow external spilling; pass allowDiskUse:true to opt in\n"
        "    at Connection.onMessage (/var/task/node_modules/mongodb/lib/cmap/connection.js:202:26)\n"
        "    at TLSSocket.emit (node:events:517:28) {\n  ok: 0,\n  code: 292,\n"
        "  codeName: 'QueryExceededMemoryLimitNoDiskUseAllowed',",
        "infra.resource",
        "escalate",
        "QueryExceededMemoryLimitNoDiskUseAllowed",
    ),
    (
        "https://github.com/arjunrajlaboratory/NimbusImage/issues/492",
        "pymongo.errors.DocumentTooLarge: BSON document too large (16840242 bytes) - the connected server supports BSON "
        "document sizes up to 16793598 bytes.",
        "infra.resource",
        "escalate",
        "DocumentTooLarge",
    ),
    # --- data.quality / data.type_mismatch ---------------------------------------------------------
    (
        "https://github.com/mongodb/mongo-python-driver/pull/294",
        "pymongo.errors.DuplicateKeyError: insertDocument :: caused by :: 11000 E11000 duplicate key error index: "
        "dbs.coll.$_id_  dup key: { : ObjectId('56008f92c341cf5ab45db695') }",
        "data.quality",
        "escalate",
        "DuplicateKey",
    ),
    (
        "https://github.com/Auxilor/eco/issues/356",
        "com.willfp.eco.libs.mongodb.MongoWriteException: Write operation error on server 172.18.0.1:27017. Write error: "
        "WriteError{code=11000, message='E11000 duplicate key error collection: ecomongo.uuidprofile index: _id_ dup "
        'key: { _id: "2bf85faa-31e9-4a3c-b3b2-7796020d2060" }\', details={}}.',
        "data.quality",
        "escalate",
        "DuplicateKey",
    ),
    (
        "https://github.com/mindsdb/mindshub/issues/1764",
        "bson.errors.InvalidDocument: cannot encode object: 4, of type: <class 'numpy.int64'>",
        "data.type_mismatch",
        "escalate",
        "InvalidDocument",
    ),
    # --- code.error --------------------------------------------------------------------------------
    (
        "https://github.com/opendatateam/udata/pull/3912",
        "$where cannot be applied to a field, full error: {'ok': 0.0, 'errmsg': '$where cannot be applied to a field', "
        "'code': 2, 'codeName': 'BadValue'}",
        "code.error",
        "patch",
        "BadValue",
    ),
    # --- config.missing / dependency.missing -------------------------------------------------------
    (
        "https://github.com/the-full-stack/ask-fsdl/issues/76",
        "pymongo.errors.InvalidURI: Bad database name",
        "config.missing",
        "escalate",
        "InvalidURI",
    ),
    (
        # a mongodb+srv:// host whose SRV record does not exist: the URI is wrong, no blip to retry
        "https://github.com/Sam-Max/rcmltb/issues/85",
        "pymongo.errors.ConfigurationError: The DNS query name does not exist: _mongodb._tcp.rclone.0ubs0am.mongodb.net.",
        "config.missing",
        "escalate",
        "ConfigurationError",
    ),
    (
        "https://github.com/ChildMindInstitute/mindlogger-app/issues/500",
        'pymongo.errors.ConfigurationError: The "dnspython" module must be installed to use mongodb+srv:// URIs',
        "dependency.missing",
        "patch",
        "ConfigurationError",
    ),
]


@pytest.mark.parametrize(("source", "text", "category", "remediation", "name"), POSTED, ids=[p[4] for p in POSTED])
def test_mongodb_messages_as_posted(source, text, category, remediation, name):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), source
    assert f"MongoDB error {name} " in result.decided_by + " ", (source, result.decided_by)


# Texts of other engines and libraries that share a word, a `code` or a class name with MongoDB's:
# (source, text as posted)
LOOK_ALIKES = [
    (
        "https://github.com/zulip/zulip/issues/19622",
        'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "richpeople_pkey"\n'
        "DETAIL:  Key (id)=(0) already exists.",
    ),
    (
        "constructed: a Slack Web API error body (https://api.slack.com/web#errors) that carries a `code`",
        "slack_sdk.errors.SlackApiError: The request to the Slack API failed.\n"
        "The server responded with: {'ok': False, 'error': 'not_authed', 'code': 13}",
    ),
    (
        "constructed: httpx's WriteTimeout (https://www.python-httpx.org/exceptions/), a `...Timeout` class",
        "httpx.WriteTimeout: timed out",
    ),
    (
        "constructed: kafka-python's KafkaTimeoutError (kafka/errors.py), a `...TimeoutError` of another client",
        "kafka.errors.KafkaTimeoutError: KafkaTimeoutError: Failed to update metadata after 60.0 secs.",
    ),
]


@pytest.mark.parametrize(("source", "text"), LOOK_ALIKES, ids=["psycopg2", "slack", "httpx", "kafka"])
def test_other_engines_are_not_read_as_mongodb(source, text):
    type_name, _, message = text.partition(": ")
    assert mongodb.find(type_name, message) is None, source
    assert "MongoDB" not in triage_text(text).decided_by


def test_a_mongodb_error_with_no_code_of_the_table_is_not_claimed():
    # mongomock's OperationFailure for an operator it lacks: PyMongo's class, no code, no known message
    # (https://github.com/mongomock/mongomock/issues/598)
    assert mongodb.find("pymongo.errors.OperationFailure", "Unrecognized expression '$convert'") is None
    # Atlas's proxy answers 8000 AtlasError for many causes: only its message can decide
    # (https://github.com/AbirHasan2005/PyroFilesStoreBot/issues/48)
    found = mongodb.find(
        "pymongo.errors.OperationFailure",
        "bad auth : Authentication failed., full error: {'ok': 0, 'errmsg': 'bad auth : Authentication failed.', "
        "'code': 8000, 'codeName': 'AtlasError'}",
    )
    assert found is not None and found[0] == "AuthenticationFailed"
    assert found[1].confidence < mongodb.CODES["AuthenticationFailed"].confidence


def test_a_certificate_under_server_selection_is_left_to_the_tls_rule():
    """ServerSelectionTimeoutError only says no server answered; a refused certificate is the cause."""
    text = (
        "pymongo.errors.ServerSelectionTimeoutError: SSL handshake failed: cluster0-shard-00-01.xxxxx.mongodb.net:27017: "
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate "
        "(_ssl.c:1091), Timeout: 30s"
    )  # the shape of https://github.com/mongodb/mongo-python-driver/pull/444's example, with Atlas's host
    type_name, _, message = text.partition(": ")
    assert mongodb.find(type_name, message) is None
    result = triage_text(text)
    assert result.category == Category.INFRA_AUTH and "MongoDB" not in result.decided_by


def test_every_entry_maps_to_a_taxonomy_category():
    entries = {**mongodb.CODES, **mongodb.CLASSES}
    assert len(mongodb.CODES) >= 60
    for name, verdict in entries.items():
        assert isinstance(verdict.category, Category) and verdict.category in set(Category), name
        assert verdict.category != Category.UNKNOWN, name
        assert verdict.remediation is None or verdict.remediation in set(Remediation), name
        assert 0 < verdict.confidence <= 1 and "mongodb" in verdict.source, name


def test_numbers_and_names_agree_with_error_codes_yml():
    # spot checks against src/mongo/base/error_codes.yml
    known = {
        2: "BadValue",
        13: "Unauthorized",
        18: "AuthenticationFailed",
        26: "NamespaceNotFound",
        43: "CursorNotFound",
        50: "MaxTimeMSExpired",
        121: "DocumentValidationFailure",
        292: "QueryExceededMemoryLimitNoDiskUseAllowed",
        10107: "NotWritablePrimary",
        11000: "DuplicateKey",
    }
    assert {number: mongodb.NUMBERS[number] for number in known} == known
    assert set(mongodb.NUMBERS.values()) == set(mongodb.CODES)
    assert len(mongodb.NUMBERS) == len(mongodb.CODES)  # one number a name


def test_a_validator_failure_in_a_node_bulk_write_reply():
    """A bare reply document (no error line a triage could start from): the finder alone."""
    reply = (  # https://github.com/globaldothealth/list/issues/994
        '{\n    "name": "BulkWriteError",\n    "driver": true,\n    "code": 121,\n    "writeErrors": [\n        {\n'
        '            "code": 121,\n            "index": 0,\n            "errmsg": "Document failed validation",'
    )
    name, verdict = mongodb.find("log", reply)
    assert name == "DocumentValidationFailure" and verdict.category == Category.DATA_QUALITY


def test_a_number_alone_is_read_in_the_drivers_formats():
    assert mongodb.find("com.mongodb.MongoQueryException", "Query failed with error code 13 and error message 'x'")
    assert mongodb.find("log", 'Error: listCollections failed: { "code" : 26, "ok" : 0 } (mongodb)')[0] == (
        "NamespaceNotFound"
    )
    assert mongodb.find("log", "ordinary text with code: 26 and no engine") is None
