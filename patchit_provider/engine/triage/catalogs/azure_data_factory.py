"""Azure Data Factory / Synapse pipelines error codes -> category, from Microsoft's troubleshooting reference.

Sources: the connector and copy activity codes (`ErrorCode=UserErrorFileNotFound`, `SqlFailedToConnect`, ...;
https://learn.microsoft.com/en-us/azure/data-factory/connector-troubleshoot-guide and its per-connector pages,
https://github.com/MicrosoftDocs/azure-docs/tree/main/articles/data-factory/connector-troubleshoot-*.md), the
activity error codes (2xxx, 3xxx, 4xxx: https://learn.microsoft.com/en-us/azure/data-factory/data-factory-troubleshoot-guide),
the mapping data flow codes (`DF-Executor-*`:
https://learn.microsoft.com/en-us/azure/data-factory/data-flow-troubleshoot-errors) and, for the Azure SQL error
numbers a copy activity prints as `SqlErrorNumber=N`,
https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-errors-issues and
https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors.

An activity error reads `Operation on target Copy1 failed: Failure happened on 'Source' side.
ErrorCode=UserErrorFileNotFound,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=...`
or, as JSON, `{"errorCode": "2200", "message": "ErrorCode=...", "failureType": "UserError"}`. The Airflow provider
(airflow/providers/microsoft/azure/hooks/data_factory.py) raises AzureDataFactoryPipelineRunException.
Codes that only say that something failed (SqlOperationFailed, FailedDbOperation, UserErrorFailedFileOperation,
AdlsGen2OperationFailed, HttpFileFailedToRead, RestSourceCallFailed, the copy activity's 2200, the generic 2011)
are not in the tables: the SQL error, the storage code or the HTTP status printed inside decides.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs import server_messages
from patchit_provider.engine.triage.catalogs.base import Verdict, each

CONNECTORS = "https://learn.microsoft.com/en-us/azure/data-factory/connector-troubleshoot-guide"
ACTIVITIES = "https://learn.microsoft.com/en-us/azure/data-factory/data-factory-troubleshoot-guide"
DATA_FLOWS = "https://learn.microsoft.com/en-us/azure/data-factory/data-flow-troubleshoot-errors"
AZURE_SQL = (
    "https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-errors-issues; "
    "https://learn.microsoft.com/en-us/sql/relational-databases/errors-events/database-engine-events-and-errors"
)
PROVIDER = (
    "https://github.com/apache/airflow/blob/main/providers/microsoft/azure/src/airflow/providers/microsoft/azure/"
    "hooks/data_factory.py (wait_for_pipeline_run_status)"
)
SOURCE = f"{CONNECTORS}; {ACTIVITIES}; {DATA_FLOWS}; {AZURE_SQL}"


def _v(
    category: C, why: str, remediation: Remediation | None = None, confidence: float = 0.85, source: str = CONNECTORS
) -> Verdict:
    return Verdict(category, confidence, source, f"Azure Data Factory {why}", remediation)


# named codes of the connector, copy activity and data flow references
CODES: dict[str, Verdict] = {
    # an input another system should have put there is absent (a file, a path, a container)
    **each(
        "UserErrorFileNotFound SftpPathNotFound",
        _v(C.UPSTREAM_FAILED, "the source file or path does not exist"),
    ),
    "DF-Executor-SourceInvalidPayload": _v(
        C.UPSTREAM_FAILED, "the storage container the dataset names does not exist", source=DATA_FLOWS
    ),
    # the column the mapping, the dataset or the query names is not in the data
    **each(
        "SqlInvalidColumnName SqlColumnNameMismatchByCaseSensitive UserErrorInvalidColumnMappingColumnNotFound "
        "ParquetColumnNotFound",
        _v(C.SCHEMA_MISSING_COLUMN, "a column of the mapping or the query does not exist in the source or sink"),
    ),
    **each(
        "DF-Executor-ColumnUnavailable DF-Executor-InvalidInputColumns",
        _v(C.SCHEMA_MISSING_COLUMN, "a column the data flow names is not in the source's schema", source=DATA_FLOWS),
    ),
    # the bytes of the file cannot be parsed in the dataset's format
    **each(
        "DelimitedTextMoreColumnsThanDefined UserErrorSourceDataContainsMoreColumnsThanDefined "
        "DelimitedTextColumnNameNotAllowNull JsonInvalidDataFormat JsonInvalidDataMixedArrayAndObject "
        "ParquetInvalidFile",
        _v(C.DATA_MALFORMED, "the source file cannot be parsed in the dataset's format"),
    ),
    **each(
        "DF-Executor-SystemInvalidJson DF-Xml-MalformedFile",
        _v(C.DATA_MALFORMED, "the source file is malformed or in an unsupported encoding", source=DATA_FLOWS),
    ),
    # a value of the data does not convert to the sink's or the mapping's type
    **each(
        "ParquetInvalidDataFormat ParquetDataTypeNotMatchColumnType ParquetNotSupportedType "
        "JsonUnsupportedHierarchicalComplexValue SqlDataTypeNotSupported SqlBulkCopyInvalidColumnLength "
        "DataTypeNotSupported",
        _v(C.DATA_TYPE_MISMATCH, "a value does not fit the type or the length of its column"),
    ),
    "DF-Executor-Conversion": _v(
        C.DATA_TYPE_MISMATCH, "a value cannot be converted to a date or time", source=DATA_FLOWS
    ),
    # the pipeline's definition (query, mapping, dataset path, expression) is wrong: its authors fix it
    **each(
        "SqlInvalidDbQueryString UserErrorOdbcInvalidQueryString WildcardPathSinkNotSupported "
        "MappingInvalidPropertyWithEmptyValue MappingInvalidPropertyWithNamePathAndOrdinal MappingDuplicatedOrdinal "
        "MappingInvalidOrdinalForSinkColumn JsonInvalidArrayPathDefinition JsonNullValueInPathDefinition "
        "SqlAutoCreateTableTypeMapFailed SqlCreateTableFailedUnsupportedType QueryMissingFormatSettingsInDataset",
        _v(C.CODE_ERROR, "the activity's query, mapping or dataset definition is invalid", confidence=0.8),
    ),
    **each(
        "DF-Executor-ParseError DF-Executor-InvalidType DF-Executor-SystemImplicitCartesian DF-Executor-InvalidColumn",
        _v(C.CODE_ERROR, "the data flow's expression or join is invalid", confidence=0.8, source=DATA_FLOWS),
    ),
    "InvalidTemplate": _v(
        C.CONFIG_TEMPLATE, "the pipeline expression cannot be evaluated", confidence=0.8, source=DATA_FLOWS
    ),
    # a linked service or integration runtime setting is missing or wrong
    **each(
        "SqlServerInvalidLinkedServiceCredentialMissing AdlsGen2InvalidUrl AccessToOnPremFileSystemDenied",
        _v(C.CONFIG_MISSING, "the linked service or the integration runtime is not configured for this access"),
    ),
    **each(
        "DF-Executor-StoreIsNotDefined DF-GEN2-InvalidAccountConfiguration DF-GEN2-InvalidAuthConfiguration "
        "DF-Blob-InvalidAccountConfiguration DF-Blob-InvalidAuthConfiguration",
        _v(
            C.CONFIG_MISSING,
            "the data flow's store or linked service credentials are not configured",
            source=DATA_FLOWS,
        ),
    ),
    **each(
        "JreNotFound UserErrorJreNotFound",
        _v(
            C.DEPENDENCY_MISSING,
            "no Java runtime on the self-hosted integration runtime (needed for Parquet/ORC)",
            Remediation.ESCALATE,
        ),
    ),
    # the credentials are refused or lack the permission
    **each(
        "SqlUnauthorizedAccess SftpPermissionDenied SftpAuthenticationFailure SftpInvalidSftpCredential "
        "SftpInvalidHostKeyFingerprint AdlsGen2ForbiddenError ADLSGen2ForbiddenError GetOAuth2AccessTokenErrorResponse "
        "FailedToGetOAuth2AccessToken SqlDeniedPublicAccess",
        _v(C.INFRA_AUTH, "the data store refused the credentials or their access"),
    ),
    "DF-Executor-illegalArgument": _v(
        C.INFRA_AUTH, "the linked service's account name or access key is wrong", source=DATA_FLOWS
    ),
    # the data store dropped the connection or is briefly unavailable (the reference says retry)
    **each(
        "SqlConnectionIsClosed SqlBatchWriteTransactionFailed AzureBlobServiceNotReturnExpectedDataLength "
        "DynamicsCreateServiceClientError FailedToDownloadCustomPlugins",
        _v(C.INFRA_NETWORK, "the data store closed the connection or failed transiently", Remediation.RETRY),
    ),
    # a time limit was reached
    **each(
        "SqlOpenConnectionTimeout SqlBatchWriteTimeout AdlsGen2TimeoutError",
        _v(C.INFRA_TIMEOUT, "the data store did not answer in time (transient)", Remediation.RETRY),
    ),
    "DF-Executor-BroadcastTimeout": _v(
        C.INFRA_TIMEOUT,
        "a broadcast join's stream exceeded its timeout: a larger runtime or broadcast off",
        Remediation.ESCALATE,
        source=DATA_FLOWS,
    ),
    # the data flow cluster ran out of memory or disk
    **each(
        "DF-Executor-OutOfMemoryError DF-Executor-OutOfDiskSpaceError",
        _v(C.INFRA_RESOURCE, "the data flow cluster ran out of memory or disk", source=DATA_FLOWS),
    ),
}

# codes whose reference lists several causes: their verdict counts only when nothing more specific
# (a code above, an Azure SQL number) is printed
DEFAULTS: dict[str, Verdict] = {
    "SqlFailedToConnect": _v(
        C.INFRA_NETWORK,
        "cannot connect to the SQL database (firewall, network or login: the SQL error inside tells)",
        Remediation.ESCALATE,
        confidence=0.6,
    ),
    "SftpFailedToConnectToSftpServer": _v(
        C.INFRA_NETWORK, "cannot connect to the SFTP server (port, linked service type or throttling)", confidence=0.6
    ),
    "FtpFailedToConnectToFtpServer": _v(
        C.INFRA_NETWORK, "cannot connect to the FTP server", Remediation.ESCALATE, confidence=0.6
    ),
}

_THROTTLED = _v(
    C.INFRA_NETWORK, "throttled: too many concurrent activity runs (retry later)", Remediation.RETRY, source=ACTIVITIES
)
_DEFINITION = _v(C.CODE_ERROR, "the activity's JSON definition is incomplete or invalid", source=ACTIVITIES)

# numeric activity error codes whose reference names one cause
ACTIVITY_CODES: dict[int, Verdict] = {
    2128: _v(C.INFRA_NETWORK, "no response from the endpoint", Remediation.RETRY, source=ACTIVITIES),
    2108: _v(C.INFRA_NETWORK, "the endpoint could not be called", Remediation.RETRY, 0.7, ACTIVITIES),
    3208: _v(C.INFRA_NETWORK, "the connection to Databricks was interrupted", Remediation.RETRY, source=ACTIVITIES),
    3203: _v(C.INFRA_NETWORK, "the Databricks cluster is terminated (retry later)", Remediation.RETRY, 0.7, ACTIVITIES),
    4125: _v(C.INFRA_NETWORK, "Azure Machine Learning returned a server error", Remediation.RETRY, source=ACTIVITIES),
    2010: _v(C.INFRA_NETWORK, "the self-hosted integration runtime is offline", Remediation.ESCALATE, 0.7, ACTIVITIES),
    2003: _THROTTLED,
    3253: _THROTTLED,
    4502: _THROTTLED,
    3200: _v(C.INFRA_AUTH, "the Databricks access token has expired (403)", source=ACTIVITIES),
    2403: _v(C.INFRA_AUTH, "no access token from the managed identity", source=ACTIVITIES),
    2709: _v(C.INFRA_AUTH, "the access token is from the wrong tenant", source=ACTIVITIES),
    4121: _v(C.INFRA_AUTH, "the Azure Machine Learning credential has expired", source=ACTIVITIES),
    4122: _v(C.INFRA_AUTH, "the Azure Machine Learning credential is invalid or lacks permission", source=ACTIVITIES),
    **dict.fromkeys(
        (2704, 2705, 2711), _v(C.INFRA_AUTH, "Data Lake ACL verification failed (forbidden)", source=ACTIVITIES)
    ),
    2106: _v(C.CONFIG_MISSING, "the storage connection string is invalid", source=ACTIVITIES),
    4124: _v(C.CONFIG_MISSING, "the Azure Machine Learning pipeline endpoint does not exist", source=ACTIVITIES),
    **dict.fromkeys(
        (3250, 3251, 3252),
        _v(C.INFRA_RESOURCE, "not enough resources (vCores) in the Synapse workspace or pool", source=ACTIVITIES),
    ),
    **dict.fromkeys((2104, 2105, 2111, 3602, 3603, 3606, 3607, 3609, 3611, 3612, 4101, 4110, 4111), _DEFINITION),
}

# what the Airflow provider raises itself: its wait for the run's terminal status timed out
_PROVIDER_TIMEOUT = re.compile(r"Pipeline run \S+ has not reached a terminal status after \d+ seconds")
PROVIDER_TIMEOUT = _v(
    C.INFRA_TIMEOUT, "pipeline run did not finish within the operator's timeout", confidence=0.8, source=PROVIDER
)

# the error is ADF's or Synapse pipelines': the DataTransfer exception, the activity's error shape,
# a data flow code or the provider's classes
_ADF = re.compile(
    r"ErrorCode\s*=\s*['\"`]?[A-Za-z]|Operation on target .{1,300}? failed|HybridDeliveryException|"
    r"Microsoft\.DataTransfer|SqlErrorNumber=|\bfailureType\b|Failure happened on '(?:Source|Sink)' side|"
    r"\bDF-[A-Za-z0-9]+-\w+|(?i:AzureDataFactory\w*|AzureSynapse\w*(?:Exception|Operator|Hook)|datafactory|data_factory)"
)
_NAME = re.compile(r"[Ee]rror ?[Cc]ode['\"]?\s*[:=]\s*['\"`]?([A-Za-z][\w-]+)|\b(DF-[A-Za-z0-9]+-\w+)")
_BARE = re.compile(r"\b([A-Z][A-Za-z0-9]{13,})\b")
_NUMBER = re.compile(r"[Ee]rror ?[Cc]ode['\"]?\s*[:=]\s*['\"]?(\d{3,5})(?!\d)")
_SQL_NUMBER = re.compile(r"SqlErrorNumber=(-?\d+)")
# 2108 carries the endpoint's response status: a 4xx is the HTTP status's to decide
_CLIENT_STATUS = re.compile(r"status code: '[^']*(?:\b4\d\d\b|Unauthorized|Forbidden|NotFound|BadRequest)", re.I)
_EXPLICIT_ONLY = frozenset({"InvalidTemplate"})


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first ADF/Synapse code of these tables in an error that is ADF's: a named code, then an Azure SQL
    error number, then a code whose causes vary, then a numeric activity code; None otherwise."""
    text = f"{type_name}: {message[:6000]}"
    if not _ADF.search(text):
        return None
    named = [m[1] or m[2] for m in _NAME.finditer(text)]
    named += [m[1] for m in _BARE.finditer(text) if m[1] in CODES and m[1] not in _EXPLICIT_ONLY]
    for name in named:
        if name in CODES:
            return name, CODES[name]
    sql = _SQL_NUMBER.search(text)
    if sql:
        number = int(sql[1])
        # a SQL error this table does not hold: its own message decides (catalogs/messages.py)
        known = server_messages.SQLSERVER.get(number)
        return (f"SqlErrorNumber={number}", known) if known else None
    for name in named:
        if name in DEFAULTS:
            return name, DEFAULTS[name]
    for match in _NUMBER.finditer(text):
        number = int(match[1])
        if number == 2108 and _CLIENT_STATUS.search(text):
            continue
        if number in ACTIVITY_CODES:
            return f"errorCode {number}", ACTIVITY_CODES[number]
    if _PROVIDER_TIMEOUT.search(text):
        return "pipeline run timeout", PROVIDER_TIMEOUT
    return None
