"""Airflow 2.x and 3.x (catalogs/airflow_messages.py, localize.broken_dag): messages as posted in
public threads or as Airflow's own source formats them, import errors in each form Airflow prints
them, the Airflow 3 removals, and look-alike texts that must not match."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import airflow_messages, exceptions
from patchit_testing import triage_text


DAG = "/opt/airflow/dags/etl.py"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    f'  File "{DAG}", line 3, in <module>\n'
    "    import foo\n"
    "ModuleNotFoundError: No module named 'foo'\n"
)

# (source, output as posted or as Airflow formats it, category, remediation)
POSTED = [
    # --- task runner and supervisor: kills, signals, timeouts ------------------------------------
    (
        "https://github.com/openego/eGon-data/issues/1225",
        "[2025-04-01, 08:07:05 UTC] {local_task_job_runner.py:266} INFO - Task exited with return code -9. "
        "For more information, see https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#LocalTaskJob-killed",
        "infra.resource",
        "escalate",
    ),
    (
        "https://github.com/apache/airflow/issues/10435",
        "INFO - Task exited with return code Negsignal.SIGKILL",
        "infra.resource",
        "escalate",
    ),
    (
        # issue 61521 (Airflow 3.1.6): the worker's supervisor log of a task killed with exit_code=-9;
        # the line as task-sdk execution_time/supervisor.py formats it
        "https://github.com/apache/airflow/issues/61521",
        "[warning  ] Process exited abnormally           [supervisor] exit_code=-9",
        "infra.resource",
        "escalate",
    ),
    (
        "installed airflow/sdk/execution_time/supervisor.py (_handle_heartbeat_failures)",
        "[error    ] Too many failed heartbeats; terminating process [supervisor] failed_heartbeats=3",
        "infra.network",
        "retry",
    ),
    (
        "installed airflow/sdk/execution_time/timeout.py (TimeoutPosix.handle_timeout)",
        "[error    ] Process timed out              [task] pid=4242",
        "infra.timeout",
        "retry",
    ),
    (
        "installed airflow/sdk/execution_time/supervisor.py (_handle_task_overtime)",
        "[warning  ] Task success overtime reached; terminating process. Modify `task_success_overtime` "
        "setting in [core] section of Airflow configuration to change this limit. [supervisor]",
        "infra.timeout",
        "retry",
    ),
    # --- memory kills: YARN's container monitor, the kernel's OOM killer ----------------------------
    (
        # Hadoop 3 format, as TestContainerManager of apache/hadoop expects it
        "https://github.com/apache/hadoop (ContainersMonitorImpl; TestContainerManager expectedMsgPattern)",
        "Container [pid=925,containerID=container_e14_1594895045814_0002_01_000002] is running 94359552B beyond the "
        "'PHYSICAL' memory limit. Current usage: 1.1 GB of 1 GB physical memory used; 4.7 GB of 2.1 GB virtual "
        "memory used. Killing container.",
        "infra.resource",
        "escalate",
    ),
    (
        "https://github.com/torvalds/linux/blob/v4.14/mm/oom_kill.c (oom_kill_process)",
        "[123565.452985] Out of memory: Kill process 1234 (python) score 912 or sacrifice child",
        "infra.resource",
        "escalate",
    ),
    # --- scheduler ---------------------------------------------------------------------------------
    (
        # PR 19950 quotes the scheduler's line "Run $RUN_NUMBER of $DAG_ID has timed-out"
        "https://github.com/apache/airflow/pull/19950",
        "[2021-12-02 10:00:00,000] {scheduler_job.py:1082} INFO - Run scheduled__2021-12-01T00:00:00+00:00 of etl has timed-out",
        "infra.timeout",
        "retry",
    ),
    (
        "installed airflow/jobs/scheduler_job_runner.py (_purge_task_instances_without_heartbeats)",
        "Detected a task instance without a heartbeat: {'DAG Id': 'etl', 'Task Id': 'load', 'Run Id': "
        "'manual__2025-06-01', 'Hostname': 'worker-1'} (See https://airflow.apache.org/docs/apache-airflow/"
        "stable/core-concepts/tasks.html#task-instance-heartbeat-timeout)",
        "infra.resource",
        "escalate",
    ),
    (
        "installed airflow/jobs/scheduler_job_runner.py (_process_task_event_logs)",
        "Executor CeleryExecutor(parallelism=32) reported that the task instance <TaskInstance: etl.load "
        "manual__2025-06-01 [queued]> finished with state failed, but the task instance's state attribute is "
        "queued. Learn more: https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#task-state-changed-externally",
        "infra.resource",
        "escalate",
    ),
    (
        "installed airflow/jobs/scheduler_job_runner.py (_executable_task_instances_to_queued)",
        "WARNING - Tasks using non-existent pool 'etl_pool' will not be scheduled",
        "config.missing",
        "escalate",
    ),
    (
        # PR 20178 added this line for a task that asks for more slots than its pool has
        "https://github.com/apache/airflow/pull/20178",
        "INFO - Not executing <TaskInstance: a_pool.my_task scheduled__2021-12-09T19:08:00+00:00 [scheduled]>. "
        "Requested pool slots (4) are greater than total pool slots: '2' for pool: my_pool.",
        "config.missing",
        "escalate",
    ),
    # --- classes -----------------------------------------------------------------------------------
    (
        "https://github.com/apache/airflow/blob/v2-10-stable/airflow/exceptions.py (AirflowWebServerTimeout)",
        "airflow.exceptions.AirflowWebServerTimeout: No response from gunicorn master within 120 seconds",
        "infra.timeout",
        "retry",
    ),
    (
        "installed airflow/exceptions.py (UnknownExecutorException)",
        "airflow.exceptions.UnknownExecutorException: Unknown executor being loaded: MyExecutor",
        "config.missing",
        "escalate",
    ),
    (
        "installed airflow/sdk/exceptions.py (AirflowRuntimeError, ErrorType.XCOM_NOT_FOUND)",
        "airflow.sdk.exceptions.AirflowRuntimeError: XCOM_NOT_FOUND: {'key': 'return_value', 'dag_id': 'etl', "
        "'task_id': 'extract', 'run_id': 'manual__2025-06-01'}",
        "upstream.failed",
        "escalate",
    ),
    # --- Airflow 2 -> 3 removals (ruff AIR301 lists them; each module is absent from Airflow 3.3) --
    (
        "ruff AIR301 (airflow.api_connexion)",
        "ModuleNotFoundError: No module named 'airflow.api_connexion'",
        "code.error",
        "patch",
    ),
    (
        "ruff AIR301 (airflow.utils.dates.days_ago)",
        "AttributeError: module 'airflow.utils.dates' has no attribute 'days_ago'",
        "code.error",
        "patch",
    ),
    (
        "ruff AIR301 (TriggerRule.DUMMY)",
        "AttributeError: type object 'TriggerRule' has no attribute 'DUMMY'",
        "code.error",
        "patch",
    ),
    (
        "installed airflow/sdk/bases/operator.py (trigger_rule validation); ruff AIR301 (TriggerRule.DUMMY)",
        "ValueError: The trigger_rule must be one of ['all_success', 'all_failed', 'all_done'],'etl.load'; received 'dummy'.",
        "code.error",
        "patch",
    ),
    (
        "upgrading_to_airflow3 (execution_date -> logical_date)",
        "AttributeError: 'DagRun' object has no attribute 'execution_date'",
        "code.error",
        "patch",
    ),
    (
        "ruff AIR301 (REMOVED_CONTEXT_KEYS: conf)",
        "jinja2.exceptions.UndefinedError: 'conf' is undefined",
        "code.error",
        "patch",
    ),
    (
        "installed airflow/cli/commands/config_command.py (CONFIGS_CHANGES: [core] dag_concurrency removed)",
        "airflow.exceptions.AirflowConfigException: section/key [core/dag_concurrency] not found in config",
        "code.error",
        "patch",
    ),
    (
        "installed airflow/sdk/bases/operator.py (Invalid arguments); ruff AIR301 (use_task_execution_day)",
        "TypeError: Invalid arguments were passed to BranchDateTimeOperator (task_id: branch). Invalid arguments were:\n"
        "**kwargs: {'use_task_execution_day': True}",
        "code.error",
        "patch",
    ),
]


@pytest.mark.parametrize(("source", "text", "category", "remediation"), POSTED, ids=[p[0][-60:] for p in POSTED])
def test_posted(source: str, text: str, category: str, remediation: str) -> None:
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_removals_are_decided_by_this_catalog() -> None:
    """The Airflow 3 removals answer from this family's rules (their source), not by chance."""
    for text in (
        "ModuleNotFoundError: No module named 'airflow.www.security'",
        "AttributeError: 'RuntimeTaskInstance' object has no attribute 'execution_date'",
        "TypeError: Invalid arguments were passed to BashOperator (task_id: t). Invalid arguments were:\n"
        "**kwargs: {'task_concurrency': 2}",
    ):
        result = triage_text(text)
        assert result.category.value == "code.error"
        assert "removal_in_3.rs" in result.source or "upgrading_to_airflow3" in result.source, result.source


def test_a_removal_inside_an_installed_package_is_that_package_s_incompatibility() -> None:
    """An installed package that still imports a module Airflow 3 removed: that package's version
    does not support Airflow 3, the DAG's own code is not at fault."""
    result = triage_text(
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/etl.py", line 2, in <module>\n'
        "    import some_airflow_plugin\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/some_airflow_plugin/__init__.py", line 3, in <module>\n'
        "    from airflow.utils.log.secrets_masker import redact\n"
        "ModuleNotFoundError: No module named 'airflow.utils.log.secrets_masker'"
    )
    assert result.category.value == "dependency.missing"


# https://github.com/astronomer/dag-factory/issues/224: a dag-factory pre-release still passes
# `schedule_interval` to Airflow 3's DAG; the same call written in a DAG file is that file's bug.
_REMOVED_ARGUMENT = (
    "Traceback (most recent call last):\n"
    '  File "{caller}", line 946, in build\n'
    "    dag: DAG = DAG(**dag_kwargs)\n"
    "TypeError: DAG.__init__() got an unexpected keyword argument 'schedule_interval'"
)


@pytest.mark.parametrize(
    ("caller", "category"),
    [
        ("/usr/local/lib/python3.12/site-packages/dagfactory/dagbuilder.py", "dependency.missing"),
        ("/opt/airflow/dags/orders.py", "code.error"),
    ],
)
def test_a_removed_argument_is_the_caller_s(caller: str, category: str) -> None:
    assert triage_text(_REMOVED_ARGUMENT.format(caller=caller)).category.value == category


def test_a_removed_argument_forwarded_through_a_package_s_kwargs_is_the_dag_file_s() -> None:
    """https://github.com/astronomer/cosmos-demo/pull/14: cosmos's DbtDag hands its caller's
    **kwargs on to DAG.__init__; the DAG file that wrote `schedule_interval` is the one to fix."""
    result = triage_text(
        "Traceback (most recent call last):\n"
        '  File "/usr/local/airflow/dags/filtering/only_seeds.py", line 8, in <module>\n'
        "    only_seeds = DbtDag(\n"
        '  File "/usr/local/lib/python3.12/site-packages/cosmos/airflow/dag.py", line 24, in __init__\n'
        "    DAG.__init__(self, *args, **airflow_kwargs(**kwargs))\n"
        "TypeError: DAG.__init__() got an unexpected keyword argument 'schedule_interval'"
    )
    assert (result.category.value, result.remediation.value) == ("code.error", "patch"), result.rationale
    assert result.culprit is not None and result.culprit.path.endswith("dags/filtering/only_seeds.py")


def test_a_removed_setting_read_for_a_package_is_that_package_s() -> None:
    """Airflow raises from its own configuration module; the package that asked for the removed
    setting (and wrapped the error in its own) is the one whose version does not fit Airflow 3."""
    result = triage_text(
        "Traceback (most recent call last):\n"
        '  File "/home/airflow/.local/lib/python3.8/site-packages/airflow/configuration.py", line 383, in get\n'
        '    raise AirflowConfigException(f"section/key [{section}/{key}] not found in config")\n'
        "airflow.exceptions.AirflowConfigException: section/key [core/dag_concurrency] not found in config\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/home/airflow/.local/lib/python3.8/site-packages/dagfactory/dagfactory.py", line 102, in build_dags\n'
        "    raise Exception(\n"
        "Exception: Failed to generate dag orders. verify config is correct"
    )
    assert result.category.value == "dependency.missing", result.rationale


def test_removed_config_matches_airflow_config_lint() -> None:
    """REMOVED_CONFIG is the removals of the installed `airflow config lint` table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from airflow.cli.commands.config_command import CONFIGS_CHANGES
    removed = {
        (c.config.section, c.config.option)
        for c in CONFIGS_CHANGES
        if c.was_removed and c.remove_if_equals is None and c.is_invalid_if is None
    }
    listed = {(section, o) for section, options in airflow_messages.REMOVED_CONFIG.items() for o in options.split()}
    assert listed == removed


# Look-alikes that must not take these verdicts.
NEGATIVE = [
    # a scheduling delay, not a failure: the pool has slots, just not free ones (PR 20178)
    (
        "Not executing <TaskInstance: d.t> since it requires 4 slots but there are 2 open slots in the pool my_pool.",
        None,
    ),
    ("Process exited abnormally exit_code=1", None),
    ("[info     ] Process exited                 [supervisor] exit_code=0 pid=12", None),
    # a run that succeeded is not a lost task
    (
        "Executor LocalExecutor(parallelism=32) reported that the task instance <TaskInstance: d.t> finished with "
        "state success, but the task instance's state attribute is running.",
        None,
    ),
    # memory figures in a healthy container's report are no kill
    ("Container [pid=1,containerID=container_1] Current usage: 1.1 GB of 2 GB physical memory used", None),
    # control flow, not a failure
    ("airflow.exceptions.AirflowSkipException: no new files", None),
    # an unrelated package whose name starts with airflow_
    ("ModuleNotFoundError: No module named 'airflow_metrics'", "dependency.missing"),
    # a bad trigger rule that was never an Airflow one is not a removal
    ("ValueError: The trigger_rule must be one of ['all_success'],'d.t'; received 'all_sucess'.", None),
    # a setting Airflow never had is a missing setting, not a removal
    ("airflow.exceptions.AirflowConfigException: section/key [core/my_option] not found in config", "config.missing"),
    # an operator argument that Airflow never had
    (
        "TypeError: Invalid arguments were passed to PythonOperator (task_id: t). Invalid arguments were:\n**kwargs: {'op_kwarg': 1}",
        None,
    ),
]


@pytest.mark.parametrize(("text", "category"), NEGATIVE)
def test_look_alikes(text: str, category: str | None) -> None:
    result = triage_text(text)
    if category is not None:
        assert result.category.value == category
    assert airflow_messages.RUFF_AIR301 not in result.source
    assert airflow_messages.CONFIG_LINT not in result.source
    assert "ContainersMonitorImpl" not in result.source and "oom_kill.c" not in result.source
    assert airflow_messages.SUPERVISOR not in result.source
    assert airflow_messages.SCHEDULER not in result.source


# --- import errors ("Broken DAG") in each form Airflow prints them --------------------------------
def _cli(rows: list[dict[str, str]], output: str, width: int = 120) -> str:
    """`airflow dags list-import-errors --output <output>` as the installed CLI prints it."""
    from airflow.cli.simple_table import AirflowConsole

    if output == "plain":
        from tabulate import tabulate

        return tabulate([r.values() for r in rows], tablefmt="plain", headers=list(rows[0]))
    console = AirflowConsole(color_system=None, record=True, file=io.StringIO())
    console._width = width  # a terminal's width (AirflowConsole pins 200 when not on a tty)
    console.print_as(rows, output=output)
    return console.export_text()


@pytest.mark.parametrize("output", ["table", "plain", "json", "yaml"])
@pytest.mark.parametrize("bundle", [False, True], ids=["2.x", "3.x"])
def test_list_import_errors(output: str, bundle: bool) -> None:
    row = {"filepath": DAG, "error": TRACEBACK}
    if bundle:  # Airflow 3 adds the bundle's name
        row = {"bundle_name": "dags-folder", **row}
    result = triage_text(_cli([row], output))
    assert (result.category.value, result.remediation.value) == ("dependency.missing", "patch")
    assert result.culprit is not None and result.culprit.path == DAG


@pytest.mark.parametrize("bundle", [False, True], ids=["2.x", "3.x"])
def test_list_import_errors_wraps_a_long_path(bundle: bool) -> None:
    """On a narrow terminal the table wraps the filepath cell onto the next lines (a table posted
    with "/workspace/airflow/dags/freeipa_deploym" then "ent.py" is this form)."""
    path = "/workspace/airflow/dags/freeipa_deployment.py"
    row = {
        "filepath": path,
        "error": f"AirflowDagDuplicatedIdException: Ignoring DAG freeipa_deployment from {path} - also found in "
        "/workspace/airflow/dags/registry.py",
    }
    if bundle:
        row = {"bundle_name": "dags-folder", **row}
    text = "Error: Failed to load all files. For details, run `airflow dags list-import-errors`\n" + _cli(
        [row], "table", width=60
    )
    assert "freeipa_deployment.py" not in text.splitlines()[3]  # the cell is wrapped
    result = triage_text(text)
    assert result.culprit is not None and result.culprit.path == path


@pytest.mark.parametrize("message", ["cannot import name bigquery_etl_copy_deduplicate", "cannot import name 'helper'"])
def test_broken_dag_banner_of_an_old_python_s_import_error(message: str) -> None:
    """Python 2 and Python 3 before 3.7 printed `cannot import name X` without the module
    (Python/ceval.c import_from); an Airflow 1 banner carries it without the class. As posted in
    https://github.com/mozilla/telemetry-airflow/issues/579."""
    result = triage_text(f"Broken DAG: [{DAG}] {message}")
    assert result.error.type == "ImportError" and result.category.value == "dependency.missing"
    assert result.culprit is not None and result.culprit.path == DAG


def test_broken_dag_banner_and_processor_log() -> None:
    """The UI's banner and the DAG processor's line; CPython's own message names the class."""
    banner = triage_text(f"Broken DAG: [{DAG}] invalid syntax (etl.py, line 14)")
    assert (banner.category.value, banner.culprit.path, banner.culprit.line) == ("code.error", DAG, 14)
    # the "Failed to import" line as posted in https://github.com/GeoscienceAustralia/dea-airflow/issues/676;
    # the line under it is CPython's message
    processor = triage_text(
        "[2022-03-10 05:58:54,735] {dagbag.py:334} ERROR - Failed to import: "
        "/opt/airflow/dags/automated_reporting/rep_usgs_monitoring_prod.py\n"
        "NameError: name 'undefined_thing' is not defined"
    )
    assert processor.category.value == "code.error"
    assert processor.culprit.path == "/opt/airflow/dags/automated_reporting/rep_usgs_monitoring_prod.py"


def test_rest_api_import_error_names_the_file() -> None:
    from patchit_provider.engine.triage import localize

    body = json.dumps({"import_errors": [{"filename": DAG, "import_error_id": 1, "stack_trace": TRACEBACK}]})
    assert localize.broken_dag(body) == DAG


def test_a_table_row_without_the_import_errors_header_is_no_dag() -> None:
    from patchit_provider.engine.triage import localize

    assert localize.broken_dag("| file | status |\n| etl.py | ok |\nmodels.py  | 3 tests passed") is None
    assert localize.broken_dag('{"filename": "etl.py", "size": 10}') is None


# --- the tables agree with the installed Airflow ----------------------------------------------------
SITE = Path(importlib.import_module("airflow").__file__).parent
# Classes of Airflow 2.10 (airflow/exceptions.py) that Airflow 3 no longer defines.
AIRFLOW_2_ONLY = {
    "AirflowWebServerTimeout",
    "UnmappableOperator",
    "UnmappableXComLengthPushed",
    "FailStopDagInvalidTriggerRule",
    "NoAvailablePoolSlot",
    "DagConcurrencyLimitReached",
    "TaskConcurrencyLimitReached",
    "BackfillUnfinished",
}


def _installed_classes() -> set[str]:
    names: set[str] = set()
    for path in (SITE / "exceptions.py", SITE / "sdk" / "exceptions.py"):
        tree = ast.parse(path.read_text())
        names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    return names


def test_classes_exist_in_airflow() -> None:
    installed = _installed_classes()
    unknown = set(airflow_messages.CLASSES) - installed - AIRFLOW_2_ONLY
    assert not unknown
    assert not (AIRFLOW_2_ONLY & installed)  # a 2.x-only class that 3.x defines belongs to the other list


def test_classes_reach_the_resolver() -> None:
    assert exceptions.CLASSES["UnknownExecutorException"] is airflow_messages.CLASSES["UnknownExecutorException"]
    assert "AirflowException" in exceptions.lineage("AirflowSkipException")


@pytest.mark.parametrize("module", airflow_messages.REMOVED_MODULES)
def test_removed_modules_are_absent_from_airflow_3(module: str) -> None:
    name = "airflow." + module.replace("\\", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(name)


@pytest.mark.parametrize(
    "statement,category",
    [
        ("import dags.plugins as plugins", Category.CODE_ERROR),  # a folder on the DAG's own path
        ("import acme_tools", Category.DEPENDENCY_MISSING),  # nowhere in the tree: a package to install
        ("from airflow.providers.nonexistent import x", Category.DEPENDENCY_MISSING),  # a distribution's name
    ],
)
def test_an_import_of_a_folder_on_the_dags_own_path_is_the_trees_layout(tmp_path, statement, category):
    """A DAG under `<home>/airflow/dags/team/` that imports `dags.plugins` (as in
    https://github.com/bitnami/charts/issues/5647's git-sync layout) names its own tree, rooted
    wrongly on sys.path: code, not a package to install. Real CPython output, no repository."""
    dag = tmp_path / "airflow" / "dags" / "team" / "pipeline_dag.py"
    dag.parent.mkdir(parents=True)
    dag.write_text(f"{statement}\n")
    proc = subprocess.run([sys.executable, str(dag)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "ModuleNotFoundError" in proc.stderr, proc.stderr
    result = triage_text(f"Broken DAG: [{dag}] {proc.stderr}")
    assert result.category == category, result.rationale


@pytest.mark.parametrize(
    "text,category,remediation",
    [
        # https://github.com/apache/airflow/issues/61775: KubernetesPodOperator, kubelet's pull limit
        (
            "airflow.providers.cncf.kubernetes.kubernetes_helper_functions.PodLaunchFailedException: Pod docker image "
            "cannot be pulled, unable to start: ErrImagePull\npull QPS exceeded",
            "infra.network",
            "retry",
        ),
        # `docker pull` in a BashOperator, throttled by Docker Hub (https://docs.docker.com/docker-hub/usage/pulls/)
        (
            "Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase "
            "the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
            "infra.network",
            "retry",
        ),
        # the image named is not there: the pod's configuration
        (
            "PodLaunchFailedException: Pod docker image cannot be pulled, unable to start: ImagePullBackOff",
            "config.missing",
            "escalate",
        ),
    ],
)
def test_a_throttled_image_pull_is_retried_a_missing_image_is_not(text, category, remediation):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_a_template_failing_in_airflow_s_code_points_at_the_dag_file_the_log_names() -> None:
    """Every frame is Airflow's or Jinja's (the template is rendered by the task runner); without a
    repository the culprit is the DAG file of "Filling up the DagBag from ..." (dagbag.py)."""
    log = (
        "[2024-05-01, 10:00:00 UTC] {dagbag.py:540} INFO - Filling up the DagBag from /opt/airflow/dags/etl_orders.py\n"
        "[2024-05-01, 10:00:01 UTC] {taskinstance.py:1937} ERROR - Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 1648, in '
        "_execute_task_with_callbacks\n    self.render_templates(context=context)\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/jinja2/environment.py", line 1301, in render\n'
        "    self.environment.handle_exception()\n"
        '  File "<template>", line 1, in top-level template code\n'
        "jinja2.exceptions.UndefinedError: 'execution_date' is undefined\n"
    )
    result = triage_text(log)
    assert result.category.value == "code.error"
    assert result.culprit is not None and (result.culprit.path, result.culprit.line) == (
        "/opt/airflow/dags/etl_orders.py",
        None,
    )
    # an infrastructure failure in the same task names no file: nothing in the DAG to change
    oom = triage_text(log.split("Traceback")[0] + "ERROR - Task exited with return code Negsignal.SIGKILL\n")
    assert oom.culprit is None


CWL_CONF = (  # as posted in https://github.com/Barski-lab/cwl-airflow/issues/39 (the trigger's JSON lacked "job")
    "Traceback (most recent call last):\n"
    '  File "/usr/local/lib/python3.7/site-packages/airflow/models/taskinstance.py", line 984, in _run_raw_task\n'
    "    result = task_copy.execute(context=context)\n"
    '  File "/usr/local/lib/python3.7/site-packages/cwl_airflow/extensions/operators/cwljobdispatcher.py", line 49, '
    "in execute\n"
    '    job=context["dag_run"].conf["job"],\n'
    "KeyError: 'job'\n"
)


@pytest.mark.parametrize(
    "body",
    [
        'class Run:\n    conf = {}\n\ncontext = {"dag_run": Run()}\ntable = context["dag_run"].conf["table"]\n',
        'def execute(context):\n    return context["params"]["table"]\n\nexecute({"params": {}})\n',
        "def load(params):\n    return params['table']\n\nload({})\n",
    ],
)
def test_a_key_the_run_s_conf_or_params_lacks_is_the_run_s_configuration(tmp_path, body) -> None:
    """KeyError on the triggered run's `dag_run.conf` or the DAG's `params`: the trigger did not pass
    the key, a configuration to fix where the run is triggered (CPython's own traceback)."""
    script = tmp_path / "dag_task.py"
    script.write_text(body)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert "KeyError" in run.stderr
    assert triage_text(run.stderr).category == Category.CONFIG_MISSING
    assert triage_text(CWL_CONF).category == Category.CONFIG_MISSING
    # the same KeyError on a record of the data stays a missing field
    script.write_text('row = {"id": 1}\nprint(row["customer_id"])\n')
    record = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert triage_text(record.stderr).category == Category.SCHEMA_MISSING_COLUMN
