"""Azure Data Factory / Synapse pipelines codes (catalogs/azure_data_factory.py): activity errors as posted in
public threads, look-alikes of other engines that the finder must not claim, and the tables' categories."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import azure_data_factory as adf
from patchit_testing import triage_text

# (source, output as posted, category, remediation, the code the finder reads or None)
POSTED = [
    (
        "https://github.com/microsoft/bc2adls/issues/129",
        '{\n    "errorCode": "2100",\n    "message": "ErrorCode=UserErrorFileNotFound,\'Type=Microsoft.DataTransfer.'
        "Common.Shared.HybridDeliveryException,Message=ADLS Gen2 operation failed for: Operation returned an invalid "
        "status code 'NotFound'. Account: 'bc2adlslkn'. FileSystem: 'bc2adls'. Path: 'deltas.manifest.cdm.json'. "
        "ErrorCode: 'PathNotFound'. Message: 'The specified path does not exist.'. RequestId: "
        "'299df862-001f-0070-2b0f-cd2a0d000000'. TimeStamp: 'Sat, 12 Aug 2023 11:24:06 GMT'.,Source=Microsoft."
        "DataTransfer.ClientLibrary,''Type=Microsoft.Azure.Storage.Data.Models.ErrorSchemaException,Message="
        "Operation returned an invalid status code 'NotFound',Source=Microsoft.DataTransfer.ClientLibrary,'\",\n"
        '    "failureType": "UserError",',
        "upstream.failed",
        "escalate",
        "UserErrorFileNotFound",
    ),
    (
        "https://github.com/Azure/Azure-DataFactory/issues/320",
        "Failure happened on 'Sink' side. ErrorCode=SftpPathNotFound,'Type=Microsoft.DataTransfer.Common.Shared."
        "HybridDeliveryException,Message=Can't find SFTP path '/Genesys Sample Call Recordings/callrecordings/"
        "00QTLVGRKG8BF9E18AU362LAES06QH9J.mp4'. Please check if the path exists. If the path you configured does not "
        "start with '/', note it is a relative path under the given user's default folder '/'.,Source=Microsoft."
        "DataTransfer.ClientLibrary.SftpConnector,''Type=Renci.SshNet.Common.SftpPathNotFoundException,Message=No "
        "such file,Source=Renci.SshNet,'",
        "upstream.failed",
        "escalate",
        "SftpPathNotFound",
    ),
    (
        "https://github.com/MicrosoftDocs/azure-docs/issues/36038",
        '{\n    "errorCode": "2200",\n    "message": "ErrorCode=UserErrorSourceDataContainsMoreColumnsThanDefined,'
        "'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=Error found when processing "
        "'Csv/Tsv Format Text' source '<file>.csv' with row number 195426: found more columns than expected column "
        'count: 51.,Source=Microsoft.DataTransfer.Common,\'",\n    "failureType": "UserError",\n'
        '    "target": "ChannelData_Sales"\n}',
        "data.malformed",
        "escalate",
        "UserErrorSourceDataContainsMoreColumnsThanDefined",
    ),
    (
        "https://github.com/MicrosoftDocs/powerapps-docs/issues/2971",
        '{"StatusCode":"DF-Executor-InvalidInputColumns","Message":"Job failed due to reason: The column in source '
        'configuration cannot be found in source data\'s schema","Details":""}',
        "schema.missing_column",
        "escalate",
        "DF-Executor-InvalidInputColumns",
    ),
    (
        "https://github.com/MicrosoftDocs/azure-docs/issues/45380",
        "{\n'errorCode': '2200',\n'message': 'ErrorCode=DataTypeNotSupported,'Type=Microsoft.DataTransfer.Common."
        "Shared.HybridDeliveryException,Message=The data type UTF8 is not supported.,Source=Microsoft.DataTransfer."
        "Common,'',\n'failureType': 'UserError',\n'target': 'Copy_w11',\n'details': []\n}",
        "data.type_mismatch",
        "escalate",
        "DataTypeNotSupported",
    ),
    (
        # a Synapse SQL number inside a code that only says the load failed
        "https://github.com/MicrosoftDocs/azure-docs/issues/11608",
        '"errorCode": "2200",\n    "message": "ErrorCode=FailedDbOperation,\'Type=Microsoft.DataTransfer.Common.'
        "Shared.HybridDeliveryException,Message=Error happened when loading data into SQL Data Warehouse.,Source="
        "Microsoft.DataTransfer.ClientLibrary,''Type=System.Data.SqlClient.SqlException,Message=Query aborted-- the "
        "maximum reject threshold (0 rows) was reached while reading from an external source: 1 rows rejected out "
        "of total 3 rows processed.Column ordinal: 8&#44; Expected data type: DECIMAL(8&#44;2)&#44; Offending value: "
        "\\u0000,Source=.Net SqlClient Data Provider,SqlErrorNumber=107090,Class=16,ErrorCode=-2146232060,State=1,'\"",
        "data.type_mismatch",
        "escalate",
        "SqlErrorNumber=107090",
    ),
    (
        "https://github.com/MicrosoftDocs/azure-docs/issues/42866",
        "Operation on target Copy data1 failed: Failure happened on 'Sink' side. ErrorCode=UserErrorJreNotFound,"
        "'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=Java Runtime Environment could "
        "not be found.,Source=Microsoft.DataTransfer.Common,''Type=System.DllNotFoundException,Message=Unable to "
        "load DLL 'jvm.dll': The specified module could not be found. (Exception from HRESULT: 0x8007007E),Source="
        "Microsoft.DataTransfer.Richfile.HiveOrcBridge,'",
        "dependency.missing",
        "escalate",
        "UserErrorJreNotFound",
    ),
    (
        # the activity's error on one line, as a log prints the run's error dict
        "https://github.com/MicrosoftDocs/azure-docs/issues/38069",
        '{"errorCode": "2108", "message": "Error calling the endpoint. Response status code: ", '
        '"failureType": "UserError", "target": "WebActivity1"}',
        "infra.network",
        "retry",
        "errorCode 2108",
    ),
    (
        "https://github.com/MicrosoftDocs/azure-docs/issues/50030",
        '{"errorCode": "3208", "message": "Time out to retry.", "failureType": "UserError", '
        '"target": "External Promotions", "details": []}',
        "infra.network",
        "retry",
        "errorCode 3208",
    ),
    (
        # the SQL error number the copy activity prints, read from the one SQL Server number table
        "https://github.com/MicrosoftDocs/azure-docs/issues/7825",
        "UserError: Cannot connect to SQL Server: '(localDB)\\MSSQLLocalDB', Database: 'DataFactoryTest', User: "
        "'haydenhancock'.'Type=,Message=Login failed for user 'haydenhancock'.,Source=,SqlErrorNumber=18456,"
        "Class=14,State=1,', activityId: dfc1dba9-ae9b-46c5-b0ba-57df4dc488bb",
        "infra.auth",
        "escalate",
        "SqlErrorNumber=18456",
    ),
]


@pytest.mark.parametrize(
    ("source", "text", "category", "remediation", "code"), POSTED, ids=[p[4] or p[0] for p in POSTED]
)
def test_posted_activity_errors(source, text, category, remediation, code):
    found = adf.find("log", text)
    assert (found[0] if found else None) == code, source
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), source


def test_the_provider_s_own_timeout_is_a_timeout():
    # airflow/providers/microsoft/azure/hooks/data_factory.py wait_for_pipeline_run_status
    text = (
        "airflow.providers.microsoft.azure.hooks.data_factory.AzureDataFactoryPipelineRunException: Pipeline run "
        "8680702e-f1ed-11ec-8961-6e35464960d1 has not reached a terminal status after 604800 seconds."
    )
    assert adf.find("log", text)[1].category is Category.INFRA_TIMEOUT


def test_a_code_whose_causes_vary_yields_to_the_sql_error_inside():
    # the SqlFailedToConnect message of the reference, with the Azure SQL transient 40613 inside
    text = (
        "ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message="
        "Cannot connect to SQL Database: 'srv', Database: 'db', User: 'u'.,''Type=System.Data.SqlClient.SqlException,"
        "Message=Database 'db' on server 'srv' is not currently available.,SqlErrorNumber=40613,Class=17,'"
    )
    assert adf.find("log", text)[0] == "SqlErrorNumber=40613"
    assert adf.find("log", text.replace("SqlErrorNumber=40613", "Number=0"))[0] == "SqlFailedToConnect"


@pytest.mark.parametrize(
    "text",
    [
        # Azure Storage's own code (catalogs/client_messages.py reads it), not an ADF activity error
        "azure.core.exceptions.ResourceNotFoundError: The specified blob does not exist.\nErrorCode:BlobNotFound",
        # a MySQL client's error code in a JSON log line
        '{"level": "error", "errorCode": "2003", "message": "Can\'t connect to MySQL server on \'db\' (111)"}',
        # Snowflake's look-alike of a missing object
        "snowflake.connector.errors.ProgrammingError: 002003 (42S02): SQL compilation error:\n"
        "Object 'RAW.ORDERS' does not exist or not authorized.",
        # SQL Server through pyodbc: its number in parentheses, not ADF's SqlErrorNumber=
        "pyodbc.OperationalError: ('HYT00', '[HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired "
        "(0) (SQLDriverConnect)') Database 'db' on server 'srv' is not currently available. (40613)",
    ],
)
def test_other_engines_are_not_claimed(text):
    assert adf.find("log", text) is None


def test_an_adf_wrapper_alone_is_not_claimed():
    # SqlOperationFailed only says a database operation failed; the inner message decides
    text = (
        "ErrorCode=SqlOperationFailed,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=A "
        "database operation failed. Please search error to get more details.,''Type=System.InvalidOperationException,"
        "Message=Column 'KeyID' does not allow DBNull.Value.,Source=System.Data,'"
    )
    assert adf.find("log", text) is None


def test_every_entry_maps_to_a_taxonomy_category():
    tables = [adf.CODES, adf.DEFAULTS, adf.ACTIVITY_CODES, {"provider": adf.PROVIDER_TIMEOUT}]
    verdicts = [verdict for table in tables for verdict in table.values()]
    assert len(verdicts) >= 100
    for verdict in verdicts:
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN
        assert verdict.source.startswith("https://") and 0 < verdict.confidence <= 1
