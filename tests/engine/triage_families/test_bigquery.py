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


@pytest.mark.parametrize("source,text,reason,category,remediation", POSTED, ids=[p[2] for p in POSTED])
def test_bigquery_errors_as_clients_print_them(source, text, reason, category, remediation):
    assert source.startswith("https://")
    found = bigquery.find("log", text)
    assert found is not None and found[0] == reason
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_the_bq_cli_prints_invalid_query_as_an_error_in_the_query_string():
    """bq_error_utils.process_error prints BigqueryInvalidQueryError as 'Error in query string: ...'."""
    text = (
        "Error in query string: Error processing job 'my-project:bqjob_r1d2c3_0000018a_1': Syntax error: "
        "Expected end of input but got keyword SELECT at [2:1]"
    )
    assert bigquery.find("log", text) == ("invalidQuery", bigquery.CODES["invalidQuery"])
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
    verdicts = [*bigquery.CODES.values(), *(verdict for _, _, verdict in bigquery._TEXTS)]
    assert len(bigquery.CODES) >= 25
    for verdict in verdicts:
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN
        assert verdict.source.startswith("https://") and 0 < verdict.confidence <= 1
    # every own message names a reason of the table (badRequest: the streaming-buffer case only)
    assert {reason for _, reason, _ in bigquery._TEXTS} - set(bigquery.CODES) == {"badRequest"}
