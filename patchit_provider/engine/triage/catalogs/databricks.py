"""Databricks REST, cluster and Jobs codes -> category (the platform layer; the Spark/Delta SQL
conditions a Databricks cluster raises stay in spark.py).

Sources: the REST error object's `error_code` (https://docs.databricks.com/api/account/errors; the
full list is the OpenAPI `ErrorCode` enum, databricks-sdk-py databricks/sdk/service/postgres.py, and
the SDK's classes, databricks/sdk/errors/platform.py, with its overrides.py: a 400
INVALID_PARAMETER_VALUE "Job/Cluster/Run ... does not exist" is RESOURCE_DOES_NOT_EXIST), a cluster's
`termination_reason.code` (https://docs.databricks.com/api/workspace/clusters/get,
TerminationReasonCode in databricks/sdk/service/compute.py), and a Jobs run's `result_state` and
`status.termination_details.code` (https://docs.databricks.com/api/workspace/jobs/getrun,
RunResultState / TerminationCodeCode in databricks/sdk/service/jobs.py).

Clients print the code as a JSON or dict field (the Airflow provider's `Response: {"error_code":
...}, Status Code: 400`, databricks-cli's `Error: b'{"error_code": ...}'`, the Jobs run state
`{'life_cycle_state': ..., 'result_state': 'TIMEDOUT', ...}`), as `CODE: message` (databricks-sdk
`BadRequest: RESOURCE_DOES_NOT_EXIST: ...`, Terraform `Error: REQUEST_LIMIT_EXCEEDED: ...`, the JDBC
driver's `Thrift Header: TEMPORARILY_UNAVAILABLE: ...`), as `Termination info: code: X` (Terraform),
or as the SDK class (`databricks.sdk.errors.platform.ResourceDoesNotExist`). Names that other
engines also use (PERMISSION_DENIED, NOT_FOUND, INTERNAL_ERROR, ...) count only in those shapes;
the platform's own long names (DRIVER_UNREACHABLE, ...) count anywhere in a Databricks error.
Left out: codes that say nothing of a cause (UNKNOWN, CANCELLED, *_ALREADY_EXISTS, USER_REQUEST,
INACTIVITY, JOB_FINISHED) and the run life cycle state INTERNAL_ERROR, which the Jobs service uses
for any failure before the task ran: its state_message decides.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = (
    "https://docs.databricks.com/api/account/errors; "
    "https://github.com/databricks/databricks-sdk-py/blob/main/databricks/sdk/errors/platform.py; "
    "https://github.com/databricks/databricks-sdk-py/blob/main/databricks/sdk/service/postgres.py (ErrorCode)"
)
CLUSTERS = (
    "https://docs.databricks.com/api/workspace/clusters/get (termination_reason.code); "
    "https://github.com/databricks/databricks-sdk-py/blob/main/databricks/sdk/service/compute.py (TerminationReasonCode)"
)
JOBS = (
    "https://docs.databricks.com/api/workspace/jobs/getrun (state.result_state, status.termination_details.code); "
    "https://github.com/databricks/databricks-sdk-py/blob/main/databricks/sdk/service/jobs.py"
)
AIRFLOW = (
    "https://github.com/apache/airflow/blob/main/providers/databricks/src/airflow/providers/databricks/exceptions.py"
)


def _group(
    names: str, category: C, why: str, remediation: Remediation | None = None, source: str = SOURCE, conf: float = 0.85
) -> dict[str, Verdict]:
    verdict = Verdict(category, conf, source, f"Databricks {why}", remediation)
    return dict.fromkeys(names.split(), verdict)


R = Remediation
CODES: dict[str, Verdict] = {
    # --- REST error_code ------------------------------------------------------------------------
    # the workspace object the pipeline names (job, cluster, path, scope, pool) is absent
    **_group(
        "RESOURCE_DOES_NOT_EXIST NOT_FOUND ENDPOINT_NOT_FOUND METASTORE_DOES_NOT_EXIST "
        "EXTERNAL_LOCATION_DOES_NOT_EXIST STORAGE_CREDENTIAL_DOES_NOT_EXIST PRINCIPAL_DOES_NOT_EXIST",
        C.CONFIG_MISSING,
        "the job, cluster, path or object the pipeline names does not exist in the workspace",
        conf=0.75,
    ),
    # Unity Catalog's own namespace codes
    **_group(
        "TABLE_DOES_NOT_EXIST SCHEMA_DOES_NOT_EXIST CATALOG_DOES_NOT_EXIST",
        C.SCHEMA_MISSING_RELATION,
        "the Unity Catalog table, schema or catalog does not exist",
    ),
    # the request the pipeline builds is invalid (HTTP 400)
    **_group(
        "INVALID_PARAMETER_VALUE BAD_REQUEST MALFORMED_REQUEST INVALID_ARGUMENT",
        C.CODE_ERROR,
        "the request (job or cluster spec, parameters) the pipeline sends is invalid",
        conf=0.6,
    ),
    **_group("UNAUTHENTICATED CUSTOMER_UNAUTHORIZED", C.INFRA_AUTH, "the token or credentials were refused (HTTP 401)"),
    **_group("PERMISSION_DENIED", C.INFRA_AUTH, "the principal lacks a permission on the object (HTTP 403)"),
    "PERMISSION_NOT_PROPAGATED": Verdict(
        C.INFRA_AUTH, 0.7, SOURCE, "Databricks: a new grant has not propagated yet (transient)", R.RETRY
    ),
    # the platform is down, overloaded or rate limits the caller (HTTP 429/500/503): transient
    **_group(
        "TEMPORARILY_UNAVAILABLE WORKSPACE_TEMPORARILY_UNAVAILABLE SERVICE_UNDER_MAINTENANCE UNAVAILABLE "
        "INTERNAL_ERROR REQUEST_LIMIT_EXCEEDED RESOURCE_EXHAUSTED TOO_MANY_REQUESTS COULD_NOT_ACQUIRE_LOCK ABORTED",
        C.INFRA_NETWORK,
        "service unavailable, rate limited or a concurrent change (transient)",
        R.RETRY,
    ),
    **_group(
        "DEADLINE_EXCEEDED DEPLOYMENT_TIMEOUT PROJECTS_OPERATION_TIMEOUT",
        C.INFRA_TIMEOUT,
        "the request ran out of time (HTTP 504)",
    ),
    # a limit of the workspace or of one call (jobs quota, 1 MB read/block)
    **_group(
        "QUOTA_EXCEEDED RESOURCE_LIMIT_EXCEEDED MAX_READ_SIZE_EXCEEDED MAX_BLOCK_SIZE_EXCEEDED "
        "MAX_LIST_SIZE_EXCEEDED MAX_NOTEBOOK_SIZE_EXCEEDED",
        C.INFRA_RESOURCE,
        "a quota or size limit of the workspace or the API was reached",
    ),
    # a feature the workspace has not enabled (HTTP 501)
    **_group("FEATURE_DISABLED NOT_IMPLEMENTED", C.CONFIG_MISSING, "the feature is not enabled for the workspace"),
    # --- cluster termination_reason.code (TerminationReasonCode) ---------------------------------
    # the cloud, the control plane or the driver failed: Databricks' SERVICE_FAULT / CLOUD_FAILURE types
    **_group(
        "CLOUD_PROVIDER_LAUNCH_FAILURE CLOUD_PROVIDER_SHUTDOWN CLOUD_PROVIDER_INSTANCE_NOT_LAUNCHED "
        "UNEXPECTED_LAUNCH_FAILURE SELF_BOOTSTRAP_FAILURE BOOTSTRAP_TIMEOUT BOOTSTRAP_TIMEOUT_CLOUD_PROVIDER_EXCEPTION "
        "COMMUNICATION_LOST CONTROL_PLANE_REQUEST_FAILURE CONTROL_PLANE_CONNECTION_FAILURE DRIVER_UNREACHABLE "
        "DRIVER_UNRESPONSIVE DRIVER_NODE_UNREACHABLE INSTANCE_UNREACHABLE DNS_RESOLUTION_ERROR "
        "DRIVER_DNS_RESOLUTION_FAILURE NPIP_TUNNEL_SETUP_FAILURE NETWORK_CHECK_CONTROL_PLANE_FAILURE "
        "NETWORK_CHECK_DNS_SERVER_FAILURE NETWORK_CHECK_STORAGE_FAILURE NETWORK_CHECK_NIC_FAILURE "
        "NETWORK_CHECK_METADATA_ENDPOINT_FAILURE NETWORK_CHECK_MULTIPLE_COMPONENTS_FAILURE "
        "METASTORE_COMPONENT_UNHEALTHY DBFS_COMPONENT_UNHEALTHY EXECUTION_COMPONENT_UNHEALTHY "
        "HIVEMETASTORE_CONNECTIVITY_FAILURE DATABASE_CONNECTION_FAILURE CONTAINER_LAUNCH_FAILURE "
        "INSTANCE_POOL_CLUSTER_FAILURE SPARK_STARTUP_FAILURE SPARK_ERROR SPOT_INSTANCE_TERMINATION "
        "STORAGE_DOWNLOAD_FAILURE STORAGE_DOWNLOAD_FAILURE_SLOW SPARK_IMAGE_DOWNLOAD_FAILURE",
        C.INFRA_NETWORK,
        "the cluster could not start or lost its driver (a cloud or platform fault; retry)",
        R.RETRY,
        CLUSTERS,
        0.75,
    ),
    **_group(
        "AZURE_RESOURCE_MANAGER_THROTTLING AZURE_RESOURCE_PROVIDER_THROTTLING AWS_REQUEST_LIMIT_EXCEEDED "
        "GCP_API_RATE_QUOTA_EXCEEDED CLUSTER_OPERATION_THROTTLED REQUEST_THROTTLED RATE_LIMITED "
        "SPARK_IMAGE_DOWNLOAD_THROTTLED STORAGE_DOWNLOAD_FAILURE_THROTTLED",
        C.INFRA_NETWORK,
        "the cloud or the control plane throttled the cluster's requests (retry later)",
        R.RETRY,
        CLUSTERS,
    ),
    # no capacity in the zone, or no free slot yet: transient
    **_group(
        "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE GCP_INSUFFICIENT_CAPACITY CLOUD_PROVIDER_RESOURCE_STOCKOUT "
        "INTERNAL_CAPACITY_FAILURE ALLOCATION_TIMEOUT ALLOCATION_TIMEOUT_NO_HEALTHY_CLUSTERS "
        "ALLOCATION_TIMEOUT_NO_READY_CLUSTERS ALLOCATION_TIMEOUT_NO_UNALLOCATED_CLUSTERS LAZY_ALLOCATION_TIMEOUT",
        C.INFRA_RESOURCE,
        "the cloud or the pool had no capacity for the cluster's instances (retry later)",
        R.RETRY,
        CLUSTERS,
    ),
    # a quota or an address space of the account is used up: someone raises it
    **_group(
        "AZURE_QUOTA_EXCEEDED_EXCEPTION AWS_RESOURCE_QUOTA_EXCEEDED GCP_QUOTA_EXCEEDED GCP_RESOURCE_QUOTA_EXCEEDED "
        "AWS_MAX_SPOT_INSTANCE_COUNT_EXCEEDED_FAILURE INSTANCE_POOL_MAX_CAPACITY_REACHED "
        "AWS_INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET_FAILURE IP_EXHAUSTION_FAILURE SUBNET_EXHAUSTED_FAILURE "
        "GCP_IP_SPACE_EXHAUSTED CLOUD_ACCOUNT_POD_QUOTA_EXCEEDED K8S_ACTIVE_POD_QUOTA_EXCEEDED",
        C.INFRA_RESOURCE,
        "a cloud quota, pool limit or subnet address space is used up",
        source=CLUSTERS,
    ),
    **_group(
        "DRIVER_OUT_OF_MEMORY DRIVER_OUT_OF_DISK DOCKER_IMAGE_TOO_LARGE_FOR_INSTANCE_EXCEPTION",
        C.INFRA_RESOURCE,
        "the driver ran out of memory or disk",
        source=CLUSTERS,
    ),
    # the cloud refused the workspace's role, key or service account
    **_group(
        "AWS_AUTHORIZATION_FAILURE AWS_INACCESSIBLE_KMS_KEY_FAILURE AZURE_BYOK_KEY_PERMISSION_FAILURE GCP_FORBIDDEN "
        "GCP_SERVICE_ACCOUNT_ACCESS_DENIED GCP_KMS_KEY_PERMISSION_DENIED GCP_INACCESSIBLE_KMS_KEY_FAILURE "
        "GCP_DENIED_BY_ORG_POLICY SECRET_PERMISSION_DENIED SECRET_CREATION_ACCESS_DENIED IMAGE_PULL_PERMISSION_DENIED "
        "ACCESS_TOKEN_FAILURE",
        C.INFRA_AUTH,
        "the cloud refused the cluster's role, key, secret or service account",
        source=CLUSTERS,
    ),
    # the cluster spec or the workspace's network is misconfigured (Databricks' *_DUE_TO_MISCONFIG codes)
    **_group(
        "CLOUD_PROVIDER_LAUNCH_FAILURE_DUE_TO_MISCONFIG BOOTSTRAP_TIMEOUT_DUE_TO_MISCONFIG "
        "CONTROL_PLANE_CONNECTION_FAILURE_DUE_TO_MISCONFIG CONTROL_PLANE_REQUEST_FAILURE_DUE_TO_MISCONFIG "
        "INSTANCE_UNREACHABLE_DUE_TO_MISCONFIG STORAGE_DOWNLOAD_FAILURE_DUE_TO_MISCONFIG "
        "CLOUD_PROVIDER_RESOURCE_STOCKOUT_DUE_TO_MISCONFIG NETWORK_CHECK_CONTROL_PLANE_FAILURE_DUE_TO_MISCONFIG "
        "NETWORK_CHECK_DNS_SERVER_FAILURE_DUE_TO_MISCONFIG NETWORK_CHECK_STORAGE_FAILURE_DUE_TO_MISCONFIG "
        "NETWORK_CHECK_NIC_FAILURE_DUE_TO_MISCONFIG NETWORK_CHECK_METADATA_ENDPOINT_FAILURE_DUE_TO_MISCONFIG "
        "NETWORK_CHECK_MULTIPLE_COMPONENTS_FAILURE_DUE_TO_MISCONFIG NETWORK_CONFIGURATION_FAILURE "
        "AZURE_VNET_CONFIGURATION_FAILURE WORKSPACE_CONFIGURATION_ERROR INVALID_AWS_PARAMETER AWS_INVALID_KEY_PAIR "
        "AWS_INVALID_KMS_KEY_STATE UNSUPPORTED_INSTANCE_TYPE INVALID_SPARK_IMAGE SPARK_IMAGE_NOT_FOUND "
        "INSTANCE_POOL_NOT_FOUND GCP_SERVICE_ACCOUNT_NOT_FOUND GCP_SERVICE_ACCOUNT_DELETED SECRET_RESOLUTION_ERROR "
        "DOCKER_INVALID_OS_EXCEPTION",
        C.CONFIG_MISSING,
        "the cluster spec or the workspace's network/cloud setup is misconfigured",
        source=CLUSTERS,
        conf=0.8,
    ),
    **_group(
        "CLUSTER_OPERATION_TIMEOUT DRIVER_LAUNCH_TIMEOUT K8S_DBR_CLUSTER_LAUNCH_TIMEOUT NETVISOR_SETUP_TIMEOUT",
        C.INFRA_TIMEOUT,
        "the cluster did not come up within the platform's time limit",
        source=CLUSTERS,
        conf=0.75,
    ),
    # --- Jobs status.termination_details.code (TerminationCodeCode) ------------------------------
    **_group(
        "DRIVER_ERROR CLOUD_FAILURE REPOSITORY_CHECKOUT_FAILED",
        C.INFRA_NETWORK,
        "the run lost its driver, its cloud or the Git service (retry)",
        R.RETRY,
        JOBS,
        0.7,
    ),
    **_group(
        "CLUSTER_REQUEST_LIMIT_EXCEEDED",
        C.INFRA_NETWORK,
        "cluster start requests exceeded the rate limit (retry later)",
        R.RETRY,
        JOBS,
    ),
    **_group(
        "WORKSPACE_RUN_LIMIT_EXCEEDED MAX_CONCURRENT_RUNS_EXCEEDED MAX_SPARK_CONTEXTS_EXCEEDED "
        "MAX_JOB_QUEUE_SIZE_EXCEEDED",
        C.INFRA_RESOURCE,
        "the workspace, job or cluster already runs its maximum of runs (retry later)",
        R.RETRY,
        JOBS,
    ),
    **_group(
        "UNAUTHORIZED_ERROR STORAGE_ACCESS_ERROR",
        C.INFRA_AUTH,
        "the run was refused access to a resource or the storage",
        source=JOBS,
        conf=0.75,
    ),
    **_group(
        "RESOURCE_NOT_FOUND INVALID_RUN_CONFIGURATION INVALID_CLUSTER_REQUEST",
        C.CONFIG_MISSING,
        "the job's configuration names a missing resource or an invalid cluster",
        source=JOBS,
        conf=0.75,
    ),
    **_group(
        "LIBRARY_INSTALLATION_ERROR",
        C.DEPENDENCY_MISSING,
        "a library the job requests could not be installed (bad name or version, or no permission)",
        R.ESCALATE,
        JOBS,
        0.75,
    ),
    # --- the Airflow provider's own classes ---------------------------------------------------------
    **_group("DatabricksSqlExecutionTimeout", C.INFRA_TIMEOUT, "SQL statement timed out (provider)", source=AIRFLOW),
    **_group(
        "DatabricksOperatorPayloadError",
        C.CODE_ERROR,
        "operator payload is invalid (provider)",
        source=AIRFLOW,
        conf=0.8,
    ),
}

# a Jobs run's state.result_state (RunResultState): the ones that name a cause by themselves
RUN_STATES: dict[str, Verdict] = {
    **_group("TIMEDOUT", C.INFRA_TIMEOUT, "run stopped at its timeout_seconds", source=JOBS),
    **_group(
        "MAXIMUM_CONCURRENT_RUNS_REACHED",
        C.INFRA_RESOURCE,
        "run was skipped: the job's max_concurrent_runs was reached",
        R.RETRY,
        JOBS,
    ),
    **_group("UPSTREAM_FAILED", C.UPSTREAM_FAILED, "run was skipped because an upstream task failed", source=JOBS),
}

# databricks-sdk classes (errors/platform.py) -> the code they stand for
SDK_CLASSES = {
    "InvalidParameterValue": "INVALID_PARAMETER_VALUE",
    "BadRequest": "BAD_REQUEST",
    "Unauthenticated": "UNAUTHENTICATED",
    "PermissionDenied": "PERMISSION_DENIED",
    "NotFound": "NOT_FOUND",
    "ResourceDoesNotExist": "RESOURCE_DOES_NOT_EXIST",
    "Aborted": "ABORTED",
    "TooManyRequests": "TOO_MANY_REQUESTS",
    "ResourceExhausted": "RESOURCE_EXHAUSTED",
    "RequestLimitExceeded": "REQUEST_LIMIT_EXCEEDED",
    "InternalError": "INTERNAL_ERROR",
    "NotImplemented": "NOT_IMPLEMENTED",
    "TemporarilyUnavailable": "TEMPORARILY_UNAVAILABLE",
    "DeadlineExceeded": "DEADLINE_EXCEEDED",
}

# names other engines use too (gRPC, Trino, HTTP reason phrases): read only in a Databricks shape
_SHARED = frozenset(
    "NOT_FOUND INVALID_ARGUMENT BAD_REQUEST UNAUTHENTICATED PERMISSION_DENIED UNAVAILABLE INTERNAL_ERROR "
    "RESOURCE_EXHAUSTED TOO_MANY_REQUESTS ABORTED DEADLINE_EXCEEDED NOT_IMPLEMENTED QUOTA_EXCEEDED RATE_LIMITED "
    "CLOUD_FAILURE DRIVER_ERROR".split()
)

_DATABRICKS = re.compile(
    r"databricks|\berror_code\b|termination_reason|Termination info: code:|life_cycle_state|\bdbfs:/", re.I
)
# "error_code": "X" / 'error_code': 'X' / error_code=X / Termination info: code: X / "code": "X"
_FIELD = re.compile(r"""\b(?P<field>error_code|code|result_state)["']?\s*[:=]\s*["']?(?P<name>[A-Z][A-Z0-9_]{2,})\b""")
# "X: message" (the SDK, Terraform, the JDBC driver) and the platform's own long names anywhere
_PREFIXED = re.compile(r"(?<![\w.])(?P<name>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?P<colon>: )?")
_SDK_CLASS = re.compile(r"databricks\.sdk\.(?:errors\.(?:platform|mapping)|core)\.(?P<cls>\w+)")
# databricks-sdk errors/overrides.py: a 400 INVALID_PARAMETER_VALUE that is a missing job, cluster or run
_MISSING = re.compile(r"\b(?:Cluster|Job|Run):? .{1,200}? does(?: not|n't) exist", re.S)


def _verdict(name: str, text: str) -> tuple[str, Verdict] | None:
    if name == "INVALID_PARAMETER_VALUE" and _MISSING.search(text):
        name = "RESOURCE_DOES_NOT_EXIST"
    return (name, CODES[name]) if name in CODES else None


def _termination_code(text: str) -> tuple[str, Verdict] | None:
    """A `"code": "X"` line of a cluster's termination_reason printed apart from its object: the
    platform's own TerminationReasonCode names identify it."""
    for match in _FIELD.finditer(text):
        name = match["name"]
        if match["field"] == "code" and name not in _SHARED and name in CODES and CODES[name].source == CLUSTERS:
            return name, CODES[name]
    return None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first Databricks code of this table in an error that is Databricks' (its class, its
    host, an `error_code` body, a cluster's termination reason or a Jobs run state)."""
    text = f"{type_name}: {message[:4000]}"
    if "databricks.sql" in type_name:
        return None  # the SQL connector's errors carry Spark conditions and SQLSTATEs (spark.py, sqlstate.py)
    if not _DATABRICKS.search(text):
        return _termination_code(text)
    for match in _FIELD.finditer(text):
        name = match["name"]
        if match["field"] == "result_state":
            if name in RUN_STATES:
                return name, RUN_STATES[name]
        elif found := _verdict(name, text):
            return found
    for match in _PREFIXED.finditer(text):
        name = match["name"]
        if (match["colon"] or name not in _SHARED) and (found := _verdict(name, text)):
            return found
    short = type_name.rsplit(".", 1)[-1]
    if "databricks" in type_name and short in CODES:
        return short, CODES[short]
    sdk = _SDK_CLASS.search(text)
    cls = sdk["cls"] if sdk else short if "databricks.sdk" in type_name else ""
    return _verdict(SDK_CLASSES[cls], text) if cls in SDK_CLASSES else None
