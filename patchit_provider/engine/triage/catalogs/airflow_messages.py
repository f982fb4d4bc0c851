"""Airflow's own messages, 2.x and 3.x, that carry no class or code: the DAG processor's import
errors ("Broken DAG"), the task runner's and supervisor's messages (timeouts, signals, zombie and
heartbeat kills), and what Airflow 3 removed or moved. Each rule cites Airflow's docs or source.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.
"""

from __future__ import annotations

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import AF3, WRAPPER, TextRule, Verdict, text_rule, each
from patchit_provider.engine.triage.catalogs.airflow_context import RUFF_AIR301

# Airflow 2.10 airflow/exceptions.py; Airflow 3.x airflow-core airflow/exceptions.py and task-sdk
# airflow/sdk/exceptions.py (the installed 3.3 files).
EXC_2 = "https://github.com/apache/airflow/blob/v2-10-stable/airflow/exceptions.py"
EXC_3 = "https://github.com/apache/airflow/blob/main/airflow-core/src/airflow/exceptions.py; task-sdk/src/airflow/sdk/exceptions.py"
SUPERVISOR = "https://github.com/apache/airflow/blob/main/task-sdk/src/airflow/sdk/execution_time/supervisor.py"
SCHEDULER = "https://github.com/apache/airflow/blob/main/airflow-core/src/airflow/jobs/scheduler_job_runner.py"
HEARTBEAT = (
    "https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#task-instance-heartbeat-timeout"
)
CHANGED_EXTERNALLY = (
    "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#task-state-changed-externally"
)
POOLS = "https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/pools.html"
SIGNALS = "https://man7.org/linux/man-pages/man7/signal.7.html (128+N / -N for signal N)"
AF3_UPGRADE = "https://airflow.apache.org/docs/apache-airflow/stable/installation/upgrading_to_airflow3.html"

# Modules of Airflow 2.10 that Airflow 3 removed or moved into a provider or the task SDK (ruff
# AIR301/AIR302; each checked absent from an installed Airflow 3.3). catalogs/messages.py covers
# contrib, operators, sensors, hooks, utils.dates/helpers, kubernetes, executors, datasets, macros.
REMOVED_MODULES = (
    r"api_connexion",
    r"www",
    r"api\.auth",
    r"api\.common\.experimental",
    r"auth\.managers",
    r"listeners\.spec\.dataset",
    r"timetables\.datasets",
    r"metrics",
    r"utils\.log\.secrets_masker",
    r"utils\.dag_parsing_context",
    r"utils\.weekday",
    r"utils\.module_loading",
    r"utils\.python_virtualenv",
    r"models\.mappedoperator",
    r"task\.task_runner",
    r"templates",
)
_MODULES = "|".join(REMOVED_MODULES)

# Options of airflow.cfg that Airflow 3 removed or moved to another section (`airflow config lint`,
# airflow/cli/commands/config_command.py CONFIGS_CHANGES, removals only): reading one raises
# AirflowConfigException "section/key [s/o] not found in config" (airflow configuration parser).
REMOVED_CONFIG: dict[str, str] = {
    "admin": "hide_sensitive_variable_fields sensitive_variable_fields",
    "core": "check_slas strict_dataset_uri_validation dag_default_view dag_orientation dataset_manager_class dataset_manager_kwargs worker_precheck non_pooled_task_slot_count dag_concurrency sql_alchemy_conn sql_engine_encoding sql_engine_collation_for_ids sql_alchemy_pool_enabled sql_alchemy_pool_size sql_alchemy_max_overflow sql_alchemy_pool_recycle sql_alchemy_pool_pre_ping sql_alchemy_schema sql_alchemy_connect_args load_default_connections max_db_retries task_runner enable_xcom_pickling dag_file_processor_timeout dag_processor_manager_log_location log_processor_filename_template",
    "api": "access_control_allow_origin auth_backend auth_backends page_size",
    "logging": "enable_task_context_logger dag_processor_manager_log_location dag_processor_manager_log_stdout log_processor_filename_template",
    "metrics": "metrics_use_pattern_match timer_unit_consistency statsd_allow_list statsd_block_list",
    "traces": "otel_task_log_event",
    "operators": "allow_illegal_arguments",
    "policy": "airflow_local_settings",
    "scheduler": "dependency_detector allow_trigger_in_future dag_stale_not_seen_duration processor_poll_interval deactivate_stale_dags_interval statsd_on max_threads statsd_host statsd_port statsd_prefix statsd_allow_list stat_name_handler statsd_datadog_enabled statsd_datadog_tags statsd_datadog_metrics_tags statsd_custom_client_path parsing_processes file_parsing_sort_mode max_callbacks_per_loop min_file_process_interval stale_dag_threshold print_stats_interval dag_dir_list_interval local_task_job_heartbeat_sec scheduler_zombie_task_threshold zombie_detection_interval child_process_log_directory",
    "celery": "stalled_task_timeout default_queue task_adoption_timeout",
    "kubernetes_executor": "worker_pods_pending_timeout worker_pods_pending_timeout_check_interval",
    "smtp": "smtp_user smtp_password",
    "database": "load_default_connections",
    "triggerer": "default_capacity",
    "webserver": "allow_raw_html_descriptions cookie_samesite audit_view_included_events audit_view_excluded_events instance_name update_fab_perms auth_rate_limited auth_rate_limit config_file session_backend session_lifetime_days force_log_out_after session_lifetime_minutes access_denied_message expose_hostname navbar_color navbar_text_color navbar_hover_color navbar_text_hover_color x_frame_enabled base_url secret_key web_server_host web_server_port workers web_server_worker_timeout web_server_ssl_cert web_server_ssl_key access_logfile grid_view_sorting_order enable_swagger_ui error_logfile access_logformat web_server_master_timeout worker_refresh_batch_size worker_refresh_interval reload_on_plugin_change worker_class expose_stacktrace log_fetch_delay_sec log_auto_tailing_offset log_animation_speed default_dag_run_display_number log_fetch_timeout_sec hide_paused_dags_by_default page_size default_wrap require_confirmation_dag_change instance_name_has_markup warn_deployment_exposure auto_refresh_interval enable_proxy_fix proxy_fix_x_for proxy_fix_x_proto proxy_fix_x_host proxy_fix_x_port proxy_fix_x_prefix expose_config cookie_secure analytics_tool analytics_id analytics_url show_recent_stats_for_completed_runs run_internal_api caching_hash_method show_trigger_form_if_no_params num_recent_configurations_for_trigger allowed_payload_size max_form_memory_size max_form_parts default_ui_timezone navbar_logo_text_color",
}
_CONFIG = "|".join(rf"{section}/(?:{'|'.join(options.split())})" for section, options in REMOVED_CONFIG.items())
CONFIG_LINT = "https://airflow.apache.org/docs/apache-airflow/stable/installation/upgrading_to_airflow3.html (airflow config lint; cli/commands/config_command.py CONFIGS_CHANGES)"

FIRST: list[TextRule] = [
    # Airflow 3 renamed zombie tasks "task instances without heartbeat" (scheduler_job_runner.py):
    # the worker or its supervisor died, as the zombie rule says, not a task timeout.
    text_rule(
        r"Task did not emit heartbeat within time limit|Detected a task instance without a heartbeat|"
        r"Failing \d+ TIs without heartbeat",
        C.INFRA_RESOURCE,
        0.7,
        f"{SCHEDULER}; {HEARTBEAT}",
        "the task stopped heartbeating (worker killed or lost)",
    ),
    # BaseOperator rejects an unknown keyword with "Invalid arguments were passed ... **kwargs: {...}"
    # (task-sdk bases/operator.py); these keywords are the ones Airflow 3 removed (ruff AIR301).
    text_rule(
        r"Invalid arguments were passed to \w+ \(task_id[^)]*\)\. Invalid arguments were:\s*\*\*kwargs: \{[^}]*"
        r"'(?:task_concurrency|use_task_execution_day|execution_date|provide_context|filename_template)'",
        C.CODE_ERROR,
        0.9,
        f"{RUFF_AIR301}; {AF3_UPGRADE}",
        "an operator argument removed in Airflow 3 is passed",
        Remediation.PATCH,
        AF3,
    ),
]

LAST: list[TextRule] = [
    # --- the task SDK's supervisor (3.x) and the scheduler ----------------------------------------
    text_rule(
        r"\bexit_code=(?:-9|137)\b",
        C.INFRA_RESOURCE,
        0.85,
        f'{SUPERVISOR} ("Process exited abnormally" exit_code=...); {SIGNALS}',
        "the task process was killed by SIGKILL (usually the out-of-memory killer)",
    ),
    text_rule(
        r"\bexit_code=(?:-15|143)\b",
        C.INFRA_RESOURCE,
        0.6,
        f"{SUPERVISOR}; {SIGNALS}",
        "the task process was terminated by SIGTERM from outside",
    ),
    text_rule(
        r"Server indicated the task shouldn't be running anymore",
        C.INFRA_RESOURCE,
        0.6,
        f"{SUPERVISOR}; {CHANGED_EXTERNALLY}",
        "the task's state was changed from outside and the supervisor terminated it",
    ),
    text_rule(
        r"Too many failed heartbeats; terminating process|Failed to send heartbeat\. Will be retried",
        C.INFRA_NETWORK,
        0.6,
        SUPERVISOR,
        "the supervisor could not reach the API server to heartbeat (transient)",
    ),
    text_rule(
        r"Task success overtime reached; terminating process",
        C.INFRA_TIMEOUT,
        0.7,
        f"{SUPERVISOR} ([core] task_success_overtime)",
        "the work after the task's success outlived task_success_overtime",
    ),
    text_rule(
        r"Process timed out\b[^\n]{0,80}\bpid=\d+",
        C.INFRA_TIMEOUT,
        0.85,
        "https://github.com/apache/airflow/blob/main/task-sdk/src/airflow/sdk/execution_time/timeout.py",
        "the task exceeded its execution_timeout",
    ),
    text_rule(
        r"Executor .{1,300}? reported that the task instance .{1,300}? finished with state failed",
        C.INFRA_RESOURCE,
        0.65,
        f"{SCHEDULER}; {CHANGED_EXTERNALLY}",
        "the executor lost the task (killed, evicted or never started)",
    ),
    text_rule(
        r"Run \S+ of \S+ has timed-out",
        C.INFRA_TIMEOUT,
        0.9,
        f"{SCHEDULER} (dagrun_timeout)",
        "the DAG run exceeded its dagrun_timeout",
    ),
    text_rule(
        r"Tasks using non-existent pool '[^']+' will not be scheduled|"
        r"Requested pool slots \(\d+\) are greater than total pool slots",
        C.CONFIG_MISSING,
        0.85,
        f"{SCHEDULER}; {POOLS}",
        "the task's pool does not exist or is smaller than the slots the task needs",
    ),
    # AirflowRuntimeError(f"{error.error.value}: {error.detail}") (task-sdk exceptions.py ErrorType)
    text_rule(
        r"\bXCOM_NOT_FOUND\b",
        C.UPSTREAM_FAILED,
        0.75,
        EXC_3,
        "an upstream task pushed no XCom",
    ),
    text_rule(
        r"\bASSET_NOT_FOUND\b",
        C.CONFIG_MISSING,
        0.7,
        EXC_3,
        "an asset named by the task is not defined in the deployment",
    ),
    # --- memory kills outside Airflow that catalogs/messages.py words otherwise ------------------
    text_rule(
        # Hadoop 2 "is running beyond physical memory limits", Hadoop 3 "is running NB beyond the
        # 'PHYSICAL' memory limit" (the NodeManager's container monitor kills the container)
        r"Container \[pid=\d+,\s*containerID=\S+\] is running (?:\d+B )?beyond "
        r"(?:the '(?:PHYSICAL|VIRTUAL)' memory limit|(?:physical|virtual) memory limits)",
        C.INFRA_RESOURCE,
        0.9,
        "https://github.com/apache/hadoop/blob/trunk/hadoop-yarn-project/hadoop-yarn/hadoop-yarn-server/"
        "hadoop-yarn-server-nodemanager/src/main/java/org/apache/hadoop/yarn/server/nodemanager/containermanager/"
        "monitor/ContainersMonitorImpl.java",
        "YARN killed the container for exceeding its memory limit",
    ),
    text_rule(
        # older kernels: "Out of memory: Kill process %d (%s) score %u or sacrifice child"
        r"Out of memory: Kill process \d+|invoked oom-killer:|oom-kill:constraint=|oom_reaper: reaped process \d+",
        C.INFRA_RESOURCE,
        0.9,
        "https://github.com/torvalds/linux/blob/master/mm/oom_kill.c",
        "the kernel's out-of-memory killer killed the process",
    ),
    # --- Airflow 2 -> 3 removals (ruff AIR301/AIR302, upgrading_to_airflow3) ----------------------
    text_rule(
        rf"No module named '(?:airflow\.(?:{_MODULES})\b[\w.]*)'",
        C.CODE_ERROR,
        0.9,
        f"{RUFF_AIR301}; {AF3_UPGRADE}",
        "an Airflow module that Airflow 3 removed or moved is imported",
        Remediation.PATCH,
        AF3,
    ),
    text_rule(
        rf"section/key \[(?:{_CONFIG})\] not found in config",
        C.CODE_ERROR,
        0.9,
        CONFIG_LINT,
        "an Airflow setting that Airflow 3 removed or moved is read",
        Remediation.PATCH,
        AF3,
    ),
    text_rule(
        r"unexpected keyword argument '(?:use_task_execution_day|filename_template)'",
        C.CODE_ERROR,
        0.9,
        RUFF_AIR301,
        "an argument removed in Airflow 3 is passed",
        Remediation.PATCH,
        AF3,
    ),
    text_rule(
        r"module 'airflow\.(?!providers\.)[\w.]+' has no attribute '\w+'|"
        r"type object '(?:TriggerRule|State|TaskInstanceState)' has no attribute '(?:DUMMY|NONE_FAILED_OR_SKIPPED|SHUTDOWN)'|"
        r"The trigger_rule must be one of .{0,600}?; received '(?:dummy|none_failed_or_skipped)'",
        C.CODE_ERROR,
        0.85,
        RUFF_AIR301,
        "a name or value that Airflow 3 removed is used",
        Remediation.PATCH,
        AF3,
    ),
    text_rule(
        r"'\w*(?:DagRun|TaskInstance)\w*' object has no attribute '(?:execution_date|next_execution_date|prev_execution_date|external_trigger)'",
        C.CODE_ERROR,
        0.85,
        f"{AF3_UPGRADE} (execution_date -> logical_date)",
        "an attribute that Airflow 3 removed from the DAG run or task instance is used",
        Remediation.PATCH,
        AF3,
    ),
    text_rule(
        r"(?:UndefinedError|jinja2\.exceptions\.UndefinedError): 'conf' is undefined",
        C.CODE_ERROR,
        0.85,
        f"{RUFF_AIR301} (REMOVED_CONTEXT_KEYS: conf); {AF3_UPGRADE}",
        "the template uses the `conf` context key that Airflow 3 removed",
        Remediation.PATCH,
        AF3,
    ),
]


# Classes of Airflow 2.10 and 3.x that exceptions.py does not name yet.
CLASSES: dict[str, Verdict | None] = {
    # signals of control flow, not failures; a class that only reports another failure
    **each(
        "AirflowSkipException AirflowRescheduleException TaskDeferred TaskAwaitingInput DagRunTriggerException "
        "DownstreamTasksSkipped AirflowClusterPolicySkipDag TaskDeferralError AirflowClusterPolicyError "
        "BackfillUnfinished PodMutationHookException",
        WRAPPER,
    ),
    **each(
        "AirflowWebServerTimeout",
        Verdict(C.INFRA_TIMEOUT, 0.85, EXC_2, "the web server did not answer in time"),
    ),
    **each(
        "UnmappableOperator FailStopDagInvalidTriggerRule InvalidStatsNameException DagRunTypeNotAllowed "
        "AirflowInactiveAssetInInletOrOutletException",
        Verdict(C.CODE_ERROR, 0.75, f"{EXC_2}; {EXC_3}", "the DAG's definition is invalid"),
    ),
    **each(
        "UnknownExecutorException AirflowUnsupportedFileTypeException PodReconciliationError",
        Verdict(C.CONFIG_MISSING, 0.75, f"{EXC_2}; {EXC_3}", "a deployment setting is missing or wrong"),
    ),
    **each(
        "UnmappableXComLengthPushed",
        Verdict(C.CONFIG_MISSING, 0.6, EXC_2, "the mapped list is longer than [core] max_map_length"),
    ),
    **each(
        "NoAvailablePoolSlot DagConcurrencyLimitReached TaskConcurrencyLimitReached",
        Verdict(C.INFRA_RESOURCE, 0.7, EXC_2, "no pool slot or concurrency left to run the task"),
    ),
    **each(
        "DeserializingResultError",
        Verdict(
            C.DEPENDENCY_MISSING, 0.6, EXC_3, "the result was pickled by another Python version than the one reading it"
        ),
    ),
}
BASES: dict[str, tuple[str, ...]] = {
    "AirflowSkipException": ("AirflowException",),
    "AirflowRescheduleException": ("AirflowException",),
    "AirflowTaskTimeout": ("AirflowException",),  # 2.x; BaseException in 3.x
    "AirflowWebServerTimeout": ("AirflowException",),
    "AirflowNotFoundException": ("AirflowException",),
    "DagNotFound": ("AirflowNotFoundException",),
    "DagRunNotFound": ("AirflowNotFoundException",),
    "TaskInstanceNotFound": ("AirflowNotFoundException",),
    "PoolNotFound": ("AirflowNotFoundException",),
    "DagCodeNotFound": ("AirflowNotFoundException",),
    "TaskDeferralError": ("AirflowException",),
    "TaskDeferralTimeout": ("AirflowException",),
    "_AirflowExecuteWithInactiveAssetExecption": ("AirflowFailException",),
    "AirflowInactiveAssetInInletOrOutletException": ("_AirflowExecuteWithInactiveAssetExecption",),
    "AirflowSecretsBackendAccessDenied": ("PermissionError",),
    "XComForMappingNotPushed": ("TypeError",),
    "UnmappableXComTypePushed": ("TypeError",),
    "DeserializingResultError": ("ValueError",),
    "UnknownExecutorException": ("ValueError",),
    "DagNotPartitionedError": ("ValueError",),
    "InvalidPartitionKeyError": ("ValueError",),
}
