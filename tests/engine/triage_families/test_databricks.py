"""Databricks REST, cluster and Jobs codes (catalogs/databricks.py): messages as posted in public
threads or as the client's own source formats them, look-alikes of other engines that the table
must not claim, and the table's entries against the taxonomy."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category, Remediation
from patchit_provider.engine.triage.catalogs import databricks
from patchit_testing import triage_text

PROVIDER = "https://github.com/apache/airflow/blob/main/providers/databricks/src/airflow/providers/databricks"

# (source, output as posted or as the client formats it, code, category, remediation)
POSTED = [
    # --- REST error_code: a missing workspace object -----------------------------------------
    (
        "https://github.com/databricks/databricks-cli/issues/352",
        'Error: b\'{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Path (/Users/some.guy@example.com/x-y-z/) '
        "doesn\\'t exist.\"}'",
        "RESOURCE_DOES_NOT_EXIST",
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/databricks/databricks-sdk-go/pull/703",
        "tests/integration/test_installation.py::test_jobs_with_no_inventory_database - "
        "databricks.sdk.errors.mapping.BadRequest: RESOURCE_DOES_NOT_EXIST: Could not find principal with name ucx_bgRu",
        "RESOURCE_DOES_NOT_EXIST",
        "config.missing",
        "escalate",
    ),
    (
        # the SDK class alone (the message carries no code)
        "https://github.com/databricks/databricks-sdk-py/pull/522",
        "databricks.sdk.errors.mapping.ResourceDoesNotExist: Path (/Users/serge.smertin@databricks.com/.vMj0/state.json) "
        "doesn't exist.",
        "RESOURCE_DOES_NOT_EXIST",
        "config.missing",
        "escalate",
    ),
    (
        # the Airflow provider's _do_api_call; the SDK's overrides.py: a 400 "Job ... does not exist"
        # is a missing resource, not an invalid parameter
        PROVIDER + "/hooks/databricks_base.py",
        'airflow.exceptions.AirflowException: Response: {"error_code":"INVALID_PARAMETER_VALUE","message":"Job 4711 '
        'does not exist."}, Status Code: 400',
        "RESOURCE_DOES_NOT_EXIST",
        "config.missing",
        "escalate",
    ),
    # --- REST error_code: transient (rate limit, unavailable) --------------------------------
    (
        "https://github.com/databricks/databricks-sdk-py/issues/274",
        "databricks.sdk.core.DatabricksError: None REQUEST_LIMIT_EXCEEDED: GetUserPermissionsRequest RPC token bucket "
        "limit has been exceeded.",
        "REQUEST_LIMIT_EXCEEDED",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/microsoft/azdo-databricks/issues/31",
        '{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "Authentication is temporarily unavailable. Please try '
        'again later."}',
        "TEMPORARILY_UNAVAILABLE",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/trinodb/trino/pull/29376",
        "Caused by: com.databricks.jdbc.exception.DatabricksHttpException: HTTP request failed by code: 503,\n"
        "      status line: HTTP/1.1 503 Service Unavailable.\n"
        "      Thrift Header: TEMPORARILY_UNAVAILABLE: Cluster 5711-083124-7nybcy05 is temporarily unavailable.",
        "TEMPORARILY_UNAVAILABLE",
        "infra.network",
        "retry",
    ),
    # --- REST error_code: a quota of the workspace ---------------------------------------------
    (
        "https://github.com/astronomer/astro-sdk/issues/1550",
        "requests.exceptions.HTTPError: 400 Client Error: Bad Request for url: "
        "https://dbc-9c390870-65ef.cloud.databricks.com/api/2.0/jobs/create\n Response from server: \n"
        " *** 'error_code': 'QUOTA_EXCEEDED',\n  'message': 'The quota for the number of jobs has been reached. The "
        "current '\n             'quota is 10000.'***",
        "QUOTA_EXCEEDED",
        "infra.resource",
        "escalate",
    ),
    # --- cluster termination_reason.code ---------------------------------------------------------
    (
        "https://github.com/SAFEHR-data/FlowEHR/issues/141",
        "Error: cannot create cluster: 0303-131037-qid874qx is not able to transition from TERMINATED to RUNNING: "
        "Self-bootstrap failure during launch. Please try again later and contact Databricks if the problem persists. "
        "databricks_error_message: Self-bootstrap failure during launch. Please try again later a..., Termination "
        "info: code: SELF_BOOTSTRAP_FAILURE, type: , parameters: map[databricks_error_message:Self-bootstrap failure "
        "during launch. Please try again later and contact Databricks if the problem persists. Node daemon fast "
        "failed and did not answer ping for instance 04387a5e9e4a4328b335937bb7db2e10]. Please see "
        "https://docs.databricks.com/dev-tools/api/latest/clusters.html#clusterclusterstate for more details",
        "SELF_BOOTSTRAP_FAILURE",
        "infra.network",
        "retry",
    ),
    (
        "https://github.com/Azure/azure-databricks-client/pull/22",
        '"state": "TERMINATED",\n"state_message": "Spark encountered an error during startup. '
        'databricks_error_message: Spark error: Driver down"\n"termination_reason": {\n    "code": "SPARK_ERROR",\n'
        '    "parameters": {\n        "databricks_error_message": "Spark error: Driver down"\n    }\n}',
        "SPARK_ERROR",
        "infra.network",
        "retry",
    ),
    # --- Jobs run result_state, as the Airflow provider prints the run state ---------------------
    (
        PROVIDER + "/operators/databricks.py",
        "airflow.exceptions.AirflowException: load_orders failed with terminal state: {'life_cycle_state': "
        "'TERMINATED', 'result_state': 'TIMEDOUT', 'state_message': ''} and with the error ",
        "TIMEDOUT",
        "infra.timeout",
        "retry",
    ),
    (
        PROVIDER + "/operators/databricks.py",
        "airflow.exceptions.AirflowException: Job run failed with terminal state: {'life_cycle_state': 'SKIPPED', "
        "'result_state': 'MAXIMUM_CONCURRENT_RUNS_REACHED', 'state_message': ''} and with the errors []",
        "MAXIMUM_CONCURRENT_RUNS_REACHED",
        "infra.resource",
        "retry",
    ),
]


@pytest.mark.parametrize(("source", "text", "code", "category", "remediation"), POSTED, ids=[p[2] for p in POSTED])
def test_posted_messages(source: str, text: str, code: str, category: str, remediation: str) -> None:
    assert source.startswith("https://")
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert f"Databricks error {code}" in result.decided_by


# texts of other engines (or of Databricks' SQL layer) with names this table also holds
LOOK_ALIKES = [
    # Trino's PERMISSION_DENIED (trino-python-client repr)
    'trino.exceptions.TrinoUserError: TrinoUserError(type=USER_ERROR, name=PERMISSION_DENIED, message="Access Denied: '
    'Cannot select from table orders", query_id=20240101_000000_00001_abcde)',
    # a gRPC status of another service
    "grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n\tstatus = "
    'StatusCode.UNAVAILABLE\n\tdetails = "failed to connect to all addresses"',
    # MLflow shares the REST error body's names but is not the Databricks platform
    "mlflow.exceptions.RestException: RESOURCE_DOES_NOT_EXIST: Could not find experiment with ID 1",
    # the SQL connector's errors are Spark's (spark.py, sqlstate.py, the gRPC table)
    "databricks.sql.exc.ServerOperationError: DEADLINE_EXCEEDED: This operation took too long",
    # a Jobs run that failed before the task ran: its state_message, not INTERNAL_ERROR, decides
    "airflow.exceptions.AirflowException: t failed with terminal state: {'life_cycle_state': 'INTERNAL_ERROR', "
    "'result_state': 'FAILED', 'state_message': 'Run failed'} and with the error Run failed",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_not_claimed(text: str) -> None:
    type_name, _, message = text.partition(": ")
    assert databricks.find(type_name, message) is None


def test_shared_names_need_a_databricks_shape() -> None:
    """A name other engines use counts in a field or as `NAME: `; the platform's own long names anywhere."""
    assert databricks.find("log", "databricks job failed: PERMISSION_DENIED by policy") is None
    assert databricks.find("log", "databricks job failed: PERMISSION_DENIED: User x cannot run job 7")
    assert databricks.find("log", "cluster on databricks terminated (DRIVER_UNREACHABLE)")[0] == "DRIVER_UNREACHABLE"
    assert databricks.find("log", "PERMISSION_DENIED: User x cannot run job 7") is None  # no Databricks marker


def test_every_entry_maps_to_a_taxonomy_category() -> None:
    entries = {**databricks.CODES, **databricks.RUN_STATES}
    assert len(entries) >= 30
    for name, verdict in entries.items():
        assert isinstance(verdict.category, Category) and verdict.category is not Category.UNKNOWN, name
        assert verdict.remediation is None or isinstance(verdict.remediation, Remediation), name
        assert verdict.source.startswith("https://"), name
    assert set(databricks.SDK_CLASSES.values()) <= set(databricks.CODES)
