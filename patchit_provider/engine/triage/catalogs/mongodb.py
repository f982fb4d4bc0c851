"""MongoDB server error codes and driver exception classes -> category.

Sources: the server's own code table, src/mongo/base/error_codes.yml
(https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml; the manual lists the same
numbers and names at https://www.mongodb.com/docs/manual/reference/error-codes/), and the drivers'
exception classes: PyMongo's pymongo/errors.py and bson/errors.py
(https://github.com/mongodb/mongo-python-driver/blob/master/pymongo/errors.py), the Java driver's
com.mongodb exceptions (Spark's MongoDB connector raises them) and the Node.js driver's MongoXxxError.

Clients print a server code as its number and name: PyMongo `..., full error: {'ok': 0.0, 'errmsg':
'...', 'code': 13, 'codeName': 'Unauthorized'}`, the Java driver `Command failed with error 26
(NamespaceNotFound): 'ns not found'` and `WriteError{code=11000, ...}`, Node.js `code: 292, codeName:
'QueryExceededMemoryLimitNoDiskUseAllowed'`, the Go driver `(NamespaceNotFound) ns not found`. Only
codes and classes of this table count, and only in an error that is MongoDB's.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = (
    "https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml; "
    "https://www.mongodb.com/docs/manual/reference/error-codes/; "
    "https://github.com/mongodb/mongo-python-driver/blob/master/pymongo/errors.py"
)


def _v(category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.9) -> Verdict:
    return Verdict(category, confidence, SOURCE, f"MongoDB {why}", remediation)


# (verdict, "number:Name ...") rows of error_codes.yml, one group a reason
_SERVER: tuple[tuple[Verdict, str], ...] = (
    # the codes error_codes.yml files under NetworkError / NotPrimaryError / RetriableError
    (
        _v(
            C.INFRA_NETWORK,
            "a server or the primary could not be reached or stepped down (retryable)",
            Remediation.RETRY,
        ),
        "6:HostUnreachable 89:NetworkTimeout 91:ShutdownInProgress 133:FailedToSatisfyReadPreference "
        "134:ReadConcernMajorityNotAvailableYet 189:PrimarySteppedDown 365:TemporarilyUnavailable 9001:SocketException "
        "10058:LegacyNotPrimary 10107:NotWritablePrimary 11600:InterruptedAtShutdown 11602:InterruptedDueToReplStateChange "
        "13435:NotPrimaryNoSecondaryOk 13436:NotPrimaryOrSecondary",
    ),
    # a concurrent write touched the same document: the driver labels it TransientTransactionError
    (
        _v(C.INFRA_NETWORK, "a write conflicted with a concurrent one (transient: re-run)", Remediation.RETRY, 0.75),
        "112:WriteConflict",
    ),
    # the server's SystemOverloadedError category: it sheds load, as an HTTP 429 does
    (
        _v(C.INFRA_NETWORK, "the server is overloaded or rate-limited the client (re-run later)", Remediation.RETRY),
        "433:AdmissionQueueOverflow 449:RateLimitExceeded 450:PooledConnectionAcquisitionRejected "
        "462:IngressRequestRateLimitExceeded",
    ),
    # a host name that does not resolve is an address to fix, not a blip (as EAI_NONAME)
    (
        _v(C.INFRA_NETWORK, "a host name of the connection does not resolve: check the address", Remediation.ESCALATE),
        "7:HostNotFound 230:DNSHostNotFound",
    ),
    # the ExceededTimeLimitError category and the lock / write-concern waits
    (
        _v(C.INFRA_TIMEOUT, "an operation ran past its time limit (maxTimeMS, lock or write-concern wait)"),
        "24:LockTimeout 50:MaxTimeMSExpired 64:WriteConcernTimeout 202:NetworkInterfaceExceededTimeLimit "
        "262:ExceededTimeLimit 290:TransactionExceededLifetimeLimitSeconds 407:PooledConnectionAcquisitionExceededTimeLimit",
    ),
    # the server reaps a cursor idle for 10 minutes: the job read slower than the cursor lived
    (
        _v(C.INFRA_TIMEOUT, "the cursor timed out on the server while the job iterated it", confidence=0.8),
        "43:CursorNotFound",
    ),
    (
        _v(C.INFRA_AUTH, "the credentials were refused or the user lacks the privilege"),
        "11:UserNotFound 13:Unauthorized 18:AuthenticationFailed 214:AuthenticationRestrictionUnmet "
        "391:ReauthenticationRequired",
    ),
    (_v(C.SCHEMA_MISSING_RELATION, "the database, collection or view does not exist"), "26:NamespaceNotFound"),
    (_v(C.SCHEMA_MISSING_RELATION, "an index the operation names does not exist", confidence=0.7), "27:IndexNotFound"),
    # a command, operator, option or update document the server cannot accept: the code wrote it
    (
        _v(C.CODE_ERROR, "the command, query or update is invalid"),
        "2:BadValue 9:FailedToParse 40:ConflictingUpdateOperators 48:NamespaceExists 59:CommandNotFound "
        "66:ImmutableField 72:InvalidOptions 73:InvalidNamespace 85:IndexOptionsConflict 86:IndexKeySpecsConflict "
        "115:CommandNotSupported 166:CommandNotSupportedOnView 168:InvalidPipelineOperator "
        "263:OperationNotSupportedInTransaction 40413:IDLDuplicateField 40414:IDLFailedToParse 40415:IDLUnknownField",
    ),
    # a value of a document cannot be used as the expression or update needs it
    (
        _v(C.DATA_TYPE_MISMATCH, "a document's value has a type or size the operation cannot use", confidence=0.75),
        "14:TypeMismatch 15:Overflow 241:ConversionFailure",
    ),
    (_v(C.DATA_MALFORMED, "a BSON document is corrupt or not conformant"), "22:InvalidBSON 378:NonConformantBSON"),
    (_v(C.DATA_QUALITY, "a document repeats a unique key"), "11000:DuplicateKey"),
    (_v(C.DATA_QUALITY, "a document failed the collection's validator"), "121:DocumentValidationFailure"),
    (
        _v(C.INFRA_RESOURCE, "a memory, disk, size or session limit was reached"),
        "146:ExceededMemoryLimit 257:TransactionTooLarge 261:TooManyLogicalSessions 264:TooManyFilesOpen "
        "292:QueryExceededMemoryLimitNoDiskUseAllowed 388:TransactionTooLargeForCache 10334:BSONObjectTooLarge "
        "14031:OutOfDiskSpace",
    ),
    (
        _v(C.INFRA_RESOURCE, "the server ran short of a resource (retryable)", Remediation.RETRY),
        "402:ResourceExhausted",
    ),
    # a feature the deployment is not set up for (replica set, TLS, search, write-concern tags, mechanism)
    (
        _v(C.CONFIG_MISSING, "the deployment or the connection is not configured for the operation", confidence=0.8),
        "76:NoReplicationEnabled 79:UnknownReplWriteConcern 100:UnsatisfiableWriteConcern 123:NotAReplicaSet "
        "140:InvalidSSLConfiguration 334:MechanismUnavailable 31082:SearchNotEnabled",
    ),
    # the oplog no longer holds where the reader stood (as Kafka's OFFSET_OUT_OF_RANGE)
    (
        _v(C.UPSTREAM_FAILED, "the oplog position a change stream or tailing cursor resumed from is gone"),
        "136:CappedPositionLost 286:ChangeStreamHistoryLost",
    ),
)

# number -> name, name -> verdict
NUMBERS: dict[int, str] = {
    int(number): name for _, rows in _SERVER for number, name in (row.split(":") for row in rows.split())
}
CODES: dict[str, Verdict] = {row.split(":")[1]: verdict for verdict, rows in _SERVER for row in rows.split()}

_REACH = _v(C.INFRA_NETWORK, "driver found no server to talk to or lost the connection", Remediation.RETRY, 0.85)
# The drivers' own classes. OperationFailure, WriteError, BulkWriteError, MongoCommandException,
# MongoServerError... only carry a server code: not in this table.
CLASSES: dict[str, Verdict] = {
    **dict.fromkeys(
        (
            # PyMongo (NotMasterError: its name before 3.12)
            "ServerSelectionTimeoutError AutoReconnect ConnectionFailure NetworkTimeout NotPrimaryError NotMasterError "
            # Java
            "MongoTimeoutException MongoSocketOpenException MongoSocketReadException MongoSocketWriteException "
            "MongoSocketReadTimeoutException MongoSocketClosedException MongoSocketException MongoNotPrimaryException "
            "MongoNodeIsRecoveringException "
            # Node.js
            "MongoServerSelectionError MongoNetworkError MongoNetworkTimeoutError"
        ).split(),
        _REACH,
    ),
    **dict.fromkeys(
        "ExecutionTimeout WTimeoutError WaitQueueTimeoutError MongoExecutionTimeoutException".split(),
        _v(C.INFRA_TIMEOUT, "driver: an operation or the wait for a pooled connection timed out", confidence=0.85),
    ),
    **dict.fromkeys(
        "CursorNotFound MongoCursorNotFoundException".split(),
        _v(C.INFRA_TIMEOUT, "driver: the cursor timed out on the server while the job iterated it", confidence=0.8),
    ),
    "DuplicateKeyError": CODES["DuplicateKey"].weaker(0.05),
    "MongoSecurityException": _v(C.INFRA_AUTH, "Java driver: authenticating the credential failed", confidence=0.85),
    # a URI or client option the driver cannot use: the connection's settings, not the job's code
    **dict.fromkeys(
        "ConfigurationError InvalidURI MongoConfigurationException MongoParseError".split(),
        _v(C.CONFIG_MISSING, "driver: the connection string or a client option is invalid", confidence=0.8),
    ),
    **dict.fromkeys(
        "InvalidName InvalidOperation CollectionInvalid".split(),
        _v(
            C.CODE_ERROR,
            "PyMongo: the code used the client wrongly (a name, a closed client, an existing collection)",
            confidence=0.75,
        ),
    ),
    "DocumentTooLarge": _v(
        C.INFRA_RESOURCE, "PyMongo: a document is larger than the server's BSON size limit", confidence=0.85
    ),
    # bson/errors.py: a value the BSON codec cannot encode (numpy.int64, Decimal) or an ObjectId string that is none
    **dict.fromkeys(
        "InvalidDocument InvalidId".split(),
        _v(C.DATA_TYPE_MISMATCH, "bson: a value cannot be encoded or converted to BSON", confidence=0.75),
    ),
    **dict.fromkeys(
        "InvalidBSON InvalidStringData".split(),
        _v(C.DATA_MALFORMED, "bson: bytes or a string are not valid BSON / UTF-8", confidence=0.8),
    ),
}

# The server's errmsg of a code, as drivers older than the `full error:` suffix print it alone
# (weaker than the code itself: a message of another layer may say more)
_TEXTS = {
    r"E11000 duplicate key error": "DuplicateKey",
    r"not authorized on \S+ to execute command": "Unauthorized",
    r"Authentication failed\.": "AuthenticationFailed",
    r"\bns (?:not found|does not exist)\b": "NamespaceNotFound",
    r"Document failed validation": "DocumentValidationFailure",
    r"operation exceeded time limit": "MaxTimeMSExpired",
    r"Exceeded memory limit for \$group|Sort exceeded memory limit": "QueryExceededMemoryLimitNoDiskUseAllowed",
    r"[Cc]ursor (?:id \S+ )?not found|cursor id \S+ not valid at server": "CursorNotFound",
    r"\bnot master\b|\bnot primary\b": "NotWritablePrimary",
}
_TEXT_NAME = [(re.compile(text), name) for text, name in _TEXTS.items()]

# the driver's module or package, a MongoDB URI or package path, a reply's `codeName`, or a class
# name only PyMongo has (Sentry and loggers print classes without their module)
_MONGO = re.compile(
    r"pymongo|\bbson\.|com\.mongodb|\bMongo[A-Z]\w+|(?i:mongodb)|\bcodeName\b|\bE11000\b|"
    r"\b(?:ServerSelectionTimeoutError|AutoReconnect|CursorNotFound|DocumentTooLarge|DuplicateKeyError|BulkWriteError|"
    r"OperationFailure|NotPrimaryError|NotMasterError|WTimeoutError)\b"
)
# codeName: 'X' / "codeName" : "X" / (X) -- Java's `error 26 (X)`, Go's `(X) message`
_NAME = re.compile(r"""codeName['"]?\s*[:=]\s*['"]?(?P<a>[A-Za-z]\w+)|\((?P<b>[A-Z][A-Za-z]+)\)""")
# 'code': 13 / "code" : 13 / code: 13 / code=11000 / failed with error 13 / error code 13 / E11000
_NUMBER = re.compile(r"""\bcode['"]?\s*[:=]\s*(?P<a>\d+)|\bwith error (?:code )?(?P<b>\d+)|\bE(?P<c>11000)\b""")
_CLASS = re.compile(r"\b[A-Z][A-Za-z]+\b")
# a cause under "no server reachable" that other catalogs read better: a TLS certificate or a
# host name that does not resolve (the driver's class only says the server was not reached)
_LOWER_CAUSE = re.compile(
    r"certificate verify failed|CERTIFICATE_VERIFY_FAILED|Name or service not known|nodename nor servname|"
    r"getaddrinfo failed|No address associated|UnknownHostException|ENOTFOUND",
    re.I,
)

# pymongo/uri_parser.py, pymongo/compression_support.py: 'The "dnspython" module must be installed to use
# mongodb+srv:// URIs' -- an optional package of the driver, not a wrong setting
_NEEDS_MODULE = re.compile(r"module must be installed|must install the \w+ module|requires the \w+ module", re.I)
_OPTIONAL_MODULE = _v(
    C.DEPENDENCY_MISSING, "driver: an optional package it needs (dnspython, pymongocrypt) is not installed"
)


def _server(text: str) -> tuple[str, Verdict] | None:
    for match in _NAME.finditer(text):
        name = match["a"] or match["b"]
        if name in CODES:
            return name, CODES[name]
    for match in _NUMBER.finditer(text):
        name = NUMBERS.get(int(match["a"] or match["b"] or match["c"]))
        if name:
            return name, CODES[name]
    return None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The server code, else the driver class, else the server message of this table, in an error
    that is MongoDB's (a driver's class or module, a MongoDB URI, a `codeName`, `E11000`)."""
    text = f"{type_name}: {message[:4000]}"
    if not _MONGO.search(text):
        return None
    found = _server(text)
    if found:
        return found
    for match in _CLASS.finditer(text):
        name = match.group(0)
        if name in CLASSES:
            if CLASSES[name] is _REACH and _LOWER_CAUSE.search(text):
                return None
            if name == "ConfigurationError" and _NEEDS_MODULE.search(text):
                return name, _OPTIONAL_MODULE
            return name, CLASSES[name]
    for regex, name in _TEXT_NAME:
        if regex.search(text):
            return name, CODES[name].weaker(0.1)
    return None
