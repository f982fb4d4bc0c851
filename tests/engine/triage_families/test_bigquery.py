"""BigQuery's error reasons (catalogs/bigquery.py): messages as BigQuery's clients printed them in
public threads and docs (google-api-core, the Java and Go clients, R bigrquery, the bq CLI), and
look-alikes of other Google APIs that the table must not claim."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import bigquery
from patchit_testing import triage_text

# (source, output as posted, the reason the catalog reads, category, remediation)
POSTED = [
    (  # Go googleapi.Error: "<message>, <reason>"
        "https://github.com/hashicorp/terraform-provider-google/issues/9577",
        "Error: Error creating Job: googleapi: Error 403: Access Denied: Dataset my-project:my_dataset: Permission "
        "bigquery.tables.create denied on dataset my-project:my_dataset (or it may not exist)., accessDenied",
        "accessDenied",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/rudderlabs/rudder-server/pull/2740",
        'BQ: Error running job: googleapi: Error 400: Syntax error: Unexpected string literal "bwh_e_470_edf_7_0547_4_'
        'bf_3_b_896_29_cd_08_c_289..." at [1:13], invalidQuery',
        "invalidQuery",
        "code.error",
        "patch",
    ),
    (  # google-api-core's reason detail; the 403 alone reads as a refused credential
        "https://github.com/PostHog/posthog/pull/63670",
        "Forbidden: 403 Billing has not been enabled for this project. Enable billing at\n"
        "https://console.cloud.google.com/billing. ...; reason: billingNotEnabled, ...",
        "billingNotEnabled",
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/mozilla/telemetry-airflow/pull/1393",
        "google.api_core.exceptions.BadRequest: 400 Resources exceeded during query execution: Your project or "
        "organization exceeded the maximum disk and memory limit available for shuffle operations. Consider "
        "provisioning more slots, reducing query concurrency, or using more efficient logic in this job.",
        "resourcesExceeded",
        "infra.resource",
        "escalate",
    ),
    (  # a table's daily quota: not a rate that clears in seconds
        "https://github.com/mozilla/jetstream/pull/861",
        "Exception while writing resource usage profiling data to BigQuery: 403 Quota exceeded: Your table exceeded "
        "quota for imports or query appends per table. For more information, see "
        "https://cloud.google.com/bigquery/docs/troubleshoot-quotas",
        "quotaExceeded",
        "infra.resource",
        "escalate",
    ),
    (  # the cost cap comes back as a 500, which alone reads as a transient server error
        "https://cloud.google.com/python/docs/reference/bigframes/latest/bigframes._config.compute_options.ComputeOptions",
        "google.api_core.exceptions.InternalServerError: 500 Query exceeded limit for bytes billed: 500. 10485760 or "
        "higher required.",
        "bytesBilledLimitExceeded",
        "infra.resource",
        "escalate",
    ),
    (  # jobInternalError's own message under a 400
        "https://github.com/DataBiosphere/azul/issues/3364",
        "[ERROR] BadRequest: 400 GET https://bigquery.googleapis.com/bigquery/v2/projects/platform-hca-dev/queries/"
        "ba61ab7f-94ed-4c42-8fe7-f1a3756b83cd?maxResults=0&location=US&prettyPrint=false: The job encountered an "
        "internal error during execution and was unable to complete successfully.",
        "jobInternalError",
        "infra.network",
        "retry",
    ),
    (  # jobBackendError's own message under a 400
        "https://github.com/googleapis/python-bigquery/issues/1991",
        "Error Type: <class 'google.api_core.exceptions.BadRequest'> error: 400 GET https://bigquery.googleapis.com/"
        "bigquery/v2/projects/<>/queries/JOB_ID?maxResults=0&location=US&prettyPrint=false: The job encountered an "
        "error during execution. Retrying the job may solve the problem. Location: US Job ID: JOB_ID",
        "jobBackendError",
        "infra.network",
        "retry",
    ),
    (  # R bigrquery: "<message> [reason]"
        "https://github.com/r-dbi/bigrquery/pull/574",
        "Error in `signal_reason()`:\n! Error encountered during execution. Retrying may solve the problem. "
        "[backendError]",
        "backendError",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/mozilla/redash/issues/991",
        "Error running query: Operation timed out after 6.0 hours. Consider reducing the amount of work performed by "
        "your operation so that it can complete within this limit.",
        "timeout",
        "infra.timeout",
        "retry",
    ),
    (
        "https://github.com/googleapis/google-cloud-go/issues/975",
        "panic: googleapi: Error 404: Not found: Table pureapp-199410:dream4.sometable14, notFound",
        "notFound",
        "schema.missing_relation",
        "escalate",
    ),
    (  # the Java client's BigQueryError{reason=invalid, ...}: the load message names a malformed file
        "https://github.com/DataTalksClub/data-engineering-zoomcamp/tree/main/02-workflow-orchestration",
        "BigQueryError{reason=invalid, location=null, \nmessage=Error while reading table: "
        "kestra-sandbox.zooomcamp.yellow_tripdata_2020_01, \nerror message: CSV table references column position 17, "
        "but line contains only 14 columns.;",
        "invalid",
        "data.malformed",
        "escalate",
    ),
    (  # the Java client's JSON: invalidQuery defers to the analyzer's own words (a missing column)
        "https://github.com/metabase/metabase/issues/20555",
        '400 Bad Request POST https://www.googleapis.com/bigquery/v2/projects/bigquery-for-segment/queries { "code" : '
        '400, "errors" : [ { "domain" : "global", "location" : "q", "locationType" : "parameter", "message" : '
        '"Unrecognized name: `Send Message Checkpoints__timestamp` at [1:24]", "reason" : "invalidQuery" } ], '
        '"message" : "Unrecognized name: `Send Message Checkpoints__timestamp` at [1:24]", "status" : '
        '"INVALID_ARGUMENT" }',
        "invalidQuery",
        "schema.missing_column",
        "escalate",
    ),
    (
        "https://github.com/glific/glific/issues/820",
        "UPDATE or DELETE statement over table *.contacts would affect rows in the streaming buffer, which is not "
        "supported",
        "badRequest",
        "upstream.failed",
        "retry",
    ),
]


# BigQuery's messages as clients printed them without their reason (or with a reason the message
# says more than): (source, output as posted, the reason it comes with, category, remediation)
UNREASONED = [
    # --- partitioned and clustered tables
    (
        "https://github.com/mozilla/bigquery-etl/pull/1968",
        "Incompatible table partitioning specification. Expects partitioning specification "
        "interval(type:day,field:date), but input partitioning specification is interval(type:day)",
        "invalid",
        "code.error",
        "patch",
    ),
    (  # wrapped as the mail archive printed it
        "https://mail-archive.com/commits@beam.apache.org/msg54843.html",
        "Incompatible table partitioning specification. Expects partitioning \nspecification "
        "interval(type:day,field:PARTITION_DATE), but input partitioning \nspecification is "
        "interval(type:day,field:PARTITION_DATE)",
        "invalid",
        "code.error",
        "patch",
    ),
    (  # the bq CLI
        "https://github.com/YumaInaura/YumaInaura/issues/430",
        # the title: the message on one line (a log line holds what the CLI wraps)
        "BigQuery error in query operation: Error processing job 'xxxxxxxxxx': Partitioning specification must be "
        "provided in order to create partitioned table",
        "invalid",
        "code.error",
        "patch",
    ),
    (  # Airflow's operator: the message decides under the reason
        "https://github.com/tuanavu/airflow-tutorial/issues/13",
        "ERROR - BigQuery job failed. Final error was: {'reason': 'invalid', 'message': 'Partitioning specification "
        "must be provided in order to create partitioned table'}.",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/googleapis/google-cloud-ruby/issues/2520",
        "Google::Cloud::InvalidArgumentError: invalid: If partitioning specification is present, destination table "
        "must also be present.",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/ebiznext/comet-data-pipeline/issues/217",
        "BigQuery error in load operation: Table with field based partitioning must have a schema.",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/mozilla/bigquery-etl/pull/4419",
        "The bqetl_serp dag has been failing with the error - Some rows belong to different partitions rather than "
        "destination partition",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/mozilla/bigquery-etl/pull/5258",
        "Cannot read partition information from a table that is not partitioned: "
        "moz-fx-data-marketing-prod:acoustic.suppression_list_v1$20240320",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/apache/incubator-superset/issues/7167",
        "Cannot query over table 'my_dataset.partitioned_table' without a filter over column(s) 'date' that can be "
        "used for partition elimination (job ID: 63d9e724-c622-4d48-8894-5c671f96aac8)",
        "invalidQuery",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/dbt-labs/dbt-core/issues/2000",
        "Cannot replace a table with a different partitioning spec. Instead, DROP the table, and then recreate it. "
        "New partitioning spec is interval(type:day,field:date) and existing spec is none",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/mozilla/bigquery-etl/pull/1115",
        'BQ reports an error "Result of ORDER BY queries cannot be clustered".',
        "invalidQuery",
        "code.error",
        "patch",
    ),
    # --- schema changes
    (
        "https://github.com/adswerve/target-bigquery/issues/36",
        "google.api_core.exceptions.BadRequest: 400 Provided Schema does not match Table "
        "myproject-1:meltano_quickbase_json.wo_tags. Cannot add fields (field: add_work_order)",
        "invalid",
        "code.error",
        "patch",
    ),
    (  # Go: "<message>, invalid"
        "https://github.com/mozilla/mozilla-schema-generator/issues/63",
        "* google_bigquery_table.telemetry_first_shutdown_v4_live: googleapi: Error 400: Provided Schema does not "
        "match Table moz-fx-data-shar-nonprod-efed:telemetry_live.first_shutdown_v4. Cannot add required fields to an "
        "existing schema. (field: application), invalid",
        "invalid",
        "code.error",
        "patch",
    ),
    (
        "https://github.com/google/clusterfuzz/pull/680",
        "Provided Schema does not match Table cluster-fuzz:afl_stats.TestcaseRun. Field seconds_executed has changed "
        "type from FLOAT to INTEGER",
        "invalid",
        "code.error",
        "patch",
    ),
    (  # the Java client's exception under the caller's
        "https://github.com/GoogleCloudPlatform/spring-cloud-gcp/issues/544",
        "java.util.concurrent.ExecutionException: com.google.cloud.spring.bigquery.core.BigQueryException: Provided "
        "Schema does not match Table harmonica-dev:Analytics.scammer_table. Field user_id is missing in new schema",
        "invalid",
        "code.error",
        "patch",
    ),
    # --- DML: concurrent updates are aborted; invalidQuery alone would read as a wrong statement
    (
        "https://github.com/m-lab/etl-gardener/issues/272",
        "googleapi: Error 400: Could not serialize access to table mlab-sandbox:tmp_ndt.tcpinfo due to concurrent "
        "update, invalidQuery",
        "invalidQuery",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/confluentinc/kafka-connect-bigquery/issues/127",
        "com.wepay.kafka.connect.bigquery.exception.BigQueryConnectException: Some write threads encountered "
        "unrecoverable errors: com.google.cloud.bigquery.BigQueryException: Could not serialize access to table "
        "[table-name] due to concurrent update; See logs for more detail",
        "invalidQuery",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/dlt-hub/dlt/issues/2892",
        "dlt.destinations.exceptions.DatabaseTransientException: 400 Query error: Transaction is aborted due to "
        "concurrent update against table XYZ",
        "invalidQuery",
        "infra.network",
        "retry",
    ),
    (  # ends in GoogleSQL's [line:column] like a syntax error
        "https://github.com/estuary/connectors/issues/111",
        "prior transaction: transactor.Commit: merge error: Query error: Transaction is aborted due to concurrent "
        "update against table acmeCo:dataset.flow_checkpoints_v1. Transaction ID: "
        "61e30eea-0000-2dab-8e60-94eb2c1b1a92 at [24:9]",
        "invalidQuery",
        "infra.network",
        "retry",
    ),
    # --- load jobs: the source file is absent (google-api-core prints the reason after the message)
    (
        "https://github.com/dlt-hub/dlt/issues/4023",
        "google.api_core.exceptions.BadRequest: 400 Error while reading data, error message: Failed to expand table "
        "_dlt_pipeline_state_48b1e27f_eb3d_4453_bb35_068a46cf4abe_source with file pattern "
        "gs://my-analytics-landing-dlt-staging/landing_salesforce/_dlt_pipeline_state/1780548052.776939.cd36bbe7c0."
        "parquet: matched no files. File: gs://my-analytics-landing-dlt-staging/landing_salesforce/"
        "_dlt_pipeline_state/1780548052.776939.cd36bbe7c0.parquet; reason: invalid",
        "invalid",
        "upstream.failed",
        "escalate",
    ),
]


@pytest.mark.parametrize(
    "source,text,reason,category,remediation",
    [*POSTED, *UNREASONED],
    ids=[f"{case[2]}-{case[0].rsplit('/', 2)[-2]}" for case in [*POSTED, *UNREASONED]],
)
def test_bigquery_errors_as_clients_print_them(source, text, reason, category, remediation):
    assert source.startswith("https://")
    found = bigquery.find("log", text)
    assert found is not None and found[0] == reason, found
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_the_bq_cli_prints_invalid_query_as_an_error_in_the_query_string():
    """bq_error_utils.process_error prints BigqueryInvalidQueryError as 'Error in query string: ...';
    a message of the message table (a syntax error) says more than the reason."""
    text = "Error in query string: Error processing job 'my-project:bqjob_r1d2c3_0000018a_1': {}"
    assert bigquery.find("log", text.format("Division by zero: 1 / 0")) == (
        "invalidQuery",
        bigquery.CODES["invalidQuery"],
    )
    reason, verdict = bigquery.find(
        "log", text.format("Syntax error: Expected end of input but got keyword SELECT at [2:1]")
    )
    assert (reason, verdict.category) == ("invalidQuery", Category.CODE_ERROR)
    assert verdict is not bigquery.CODES["invalidQuery"]
    assert bigquery.find("BigqueryNotFoundError", "Not found: Job my-project:US.bqjob_r1")[0] == "notFound"


@pytest.mark.parametrize(
    "type_name,text",
    [
        # Cloud Storage answers with the same global reasons (GoogleCloudPlatform/mlops-on-gcp#138)
        (
            "NotFoundError",
            'Error executing an HTTP request: HTTP response code 404 with body \'{\n  "error": {\n    "code": 404,\n'
            '    "message": "The requested project was not found.",\n    "errors": [\n      {\n        "message": '
            '"The requested project was not found.",\n        "domain": "global",\n        "reason": "notFound"\n'
            "      }\n    ]\n  }\n}\n' when reading gs://workshop-datasets/covertype/small",
        ),
        # Go's googleapi format from the Cloud Storage API
        ("log", "googleapi: Error 403: Access denied., forbidden"),
        ("log", "googleapi: Error 429: The rate of change requests to the object is too high., rateLimitExceeded"),
        # a word of the table in another engine's error
        (
            "pymongo.errors.OperationFailure",
            "Rate limit exceeded, full error: {'code': 449, 'codeName': 'RateLimitExceeded'}",
        ),
        ("ValueError", "invalid literal for int() with base 10: 'reason: timeout'"),
    ],
)
def test_other_engines_look_alikes_are_not_bigquery_s(type_name, text):
    assert bigquery.find(type_name, text) is None


def test_a_reason_beyond_the_table_is_not_read():
    assert (
        bigquery.find("log", "BigQuery job failed. Final error was: {'reason': 'stopped', 'message': 'Job cancelled'}")
        is None
    )


def test_every_entry_maps_to_a_taxonomy_category():
    texts = [*bigquery._TEXTS, *bigquery._GATED_TEXTS]
    assert len(texts) >= 70
    verdicts = [*bigquery.CODES.values(), *(verdict for _, _, verdict in texts)]
    assert len(bigquery.CODES) >= 25
    for verdict in verdicts:
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN
        assert verdict.source.startswith("https://") and 0 < verdict.confidence <= 1
    # every own message names a reason of the table (badRequest: the streaming-buffer case only)
    assert {reason for _, reason, _ in texts} - set(bigquery.CODES) == {"badRequest"}


def test_airflow_s_hook_refuses_schema_update_options_a_query_job_does_not_take():
    """BigQueryHook.run_query raises ValueError from its `allowed_schema_update_options` (AIRFLOW_HOOK)."""
    text = (
        "['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_DELETION'] contains invalid schema update options. Please only use "
        "one or more of the following options: ['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION']"
    )
    assert bigquery.find("ValueError", text)[1].category is Category.CODE_ERROR


@pytest.mark.parametrize(
    "type_name,text",
    [
        # another engine's message of the shape the gated texts read (PostgreSQL's datetime.c)
        ("psycopg2.errors.InvalidDatetimeFormat", 'invalid input syntax for type date: "2021-13-01"'),
        ("log", "ERROR: Invalid date: '2021-13-01' in column created_at"),
        # Spark's own partition and schema errors are not BigQuery's
        (
            "AnalysisException",
            "[INSERT_PARTITION_COLUMN_ARITY_MISMATCH] Cannot write to 'spark_catalog.default.t', not enough data "
            "columns; target table has 3 column(s) but the inserted data has 2 column(s)",
        ),
        # PostgreSQL's serialization failure has no table in BigQuery's words
        ("psycopg2.errors.SerializationFailure", "could not serialize access due to concurrent update"),
        # a shell's syntax error has no GoogleSQL [line:column]
        ("log", '/bin/sh: 1: Syntax error: "(" unexpected'),
    ],
)
def test_look_alike_messages_of_other_engines_are_not_read(type_name, text):
    assert bigquery.find(type_name, text) is None


def test_a_shared_shape_message_counts_only_in_a_bigquery_error():
    message = "Invalid date: '2021-13-01'"
    assert bigquery.find("log", message) is None
    reason, verdict = bigquery.find("google.cloud.bigquery.job.QueryJob", f"400 {message}; reason: invalidQuery")
    assert (reason, verdict.category) == ("invalidQuery", Category.DATA_TYPE_MISMATCH)


def test_schema_update_options_are_the_job_s_configuration_only_in_a_bigquery_error():
    """A constructed text (no public source): the gated rule reads any BigQuery error that names
    schemaUpdateOptions, and the same words outside a BigQuery error stay unread."""
    text = "the schema_update_options given need a destination table"
    reason, verdict = bigquery.find("log", f"BigQuery error in query operation: {text}")
    assert (reason, verdict.category) == ("invalid", Category.CODE_ERROR)
    assert bigquery.find("log", text) is None


# Messages other modules read before (catalogs/messages.py, client_messages.py, rules.py): the
# texts of the tests that hold them (test_triage_catalogs.py, test_clients.py), read by this table
MOVED = [
    ("google.api_core.exceptions.BadRequest: 400 Function not found: TO_CHAR at [71:25]", "invalidQuery", "code.error"),
    ("google.api_core.exceptions.BadRequest: 400 Type not found: text at [13:51]", "invalidQuery", "code.error"),
    (
        "Error: No matching signature for operator < for argument types: DATETIME, TIMESTAMP\n  Signature: T1 < T1",
        "invalidQuery",
        "code.error",
    ),
    ("google.api_core.exceptions.BadRequest: 400 Bad int64 value: 1.72e9", "invalidQuery", "data.type_mismatch"),
    (
        "google.api_core.exceptions.BadRequest: 400 Within a standard SQL view, references to functions/procedures "
        "require explicit project IDs unless the entity is created in the same project that is issuing the query",
        "invalidQuery",
        "code.error",
    ),
    (
        "  Database Error\n    UPDATE/MERGE must match at most one source row for each target row",
        "invalidQuery",
        "data.quality",
    ),
    ("Unrecognized name: cust_id; Did you mean customer_id?", "invalidQuery", "schema.missing_column"),
    (
        "Message: Could not parse '2018-01-18 0:00:00' as DATE for field review_creation_date (position 5)",
        "invalid",
        "data.type_mismatch",
    ),
    (
        "400 Error while reading data, error message: CSV table encountered too many errors, giving up. Rows: 1; "
        "errors: 1. Please look into the errors[] collection for more details.",
        "invalid",
        "data.malformed",
    ),
    # a row wider than the table (github.com/GoogleCloudPlatform/database-assessment/issues/135)
    (
        "400 Error while reading data, error message: Too many values in row starting at position: 30863. "
        "Found 10 column(s) while expected 9.",
        "invalid",
        "data.malformed",
    ),
]


@pytest.mark.parametrize(("text", "reason", "category"), MOVED)
def test_messages_without_a_reason_are_this_table_s(text, reason, category):
    found = bigquery.find("log", text)
    assert found is not None and found[0] == reason and found[1].category.value == category, found
    assert triage_text(text).category.value == category
