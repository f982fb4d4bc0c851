"""Data-quality frameworks (catalogs/data_quality.py): Great Expectations' classes and the Airflow
provider's failure, pandera's SchemaErrorReason codes and SchemaError texts, Soda Core's scan
summary, each as the framework printed it on a public page."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import data_quality
from patchit_testing import triage_text

# (family, source, output as posted or printed, category, remediation)
POSTED = [
    (
        # GreatExpectationsOperator 0.x handle_result: the task log of a failed checkpoint
        "gx/airflow-provider-0.x",
        "https://github.com/great-expectations/airflow-provider-great-expectations/blob/0.2.0/"
        "great_expectations_provider/operators/great_expectations.py",
        "[2022-08-23, 13:38:14 UTC] {taskinstance.py:1910} ERROR - Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/lib/python3.9/site-packages/great_expectations_provider/operators/great_expectations.py",'
        " line 162, in execute\n    self.handle_result(result)\n"
        '  File "/usr/local/lib/python3.9/site-packages/great_expectations_provider/operators/great_expectations.py",'
        " line 188, in handle_result\n    raise AirflowException(\n"
        "airflow.exceptions.AirflowException: Validation with Great Expectations failed.\n",
        Category.DATA_QUALITY,
        "escalate",
    ),
    (
        # provider 1.x: GXValidationFailed._build_error_message, as its unit test asserts it
        "gx/airflow-provider-1.x",
        "https://github.com/great-expectations/airflow-provider-great-expectations/blob/main/tests/unit/test_errors.py",
        "great_expectations_provider.common.errors.GXValidationFailed: Great Expectations data validation failed.\n"
        "Full validation result available at: Task 'test_task' -> XCom key 'return_value'\nStatistics:\n"
        "  evaluated_expectations: 3\n  successful_expectations: 2\n  unsuccessful_expectations: 1\n"
        "Failed expectation types (1):\n  - expect_column_values_to_not_be_null",
        Category.DATA_QUALITY,
        "escalate",
    ),
    (
        "gx/missing-column-0.15",
        "https://github.com/fivetran/great_expectations/issues/6461",
        'great_expectations.exceptions.exceptions.MetricResolutionError: Error: The column "my_column" in BatchData '
        "does not exist.",
        Category.SCHEMA_MISSING_COLUMN,
        "escalate",
    ),
    (
        "gx/missing-column-1.x",
        "https://github.com/fivetran/great_expectations/issues/11532",
        'InvalidMetricAccessorDomainKwargsKeyError: Error: The column "X" in BatchData does not exist.',
        Category.SCHEMA_MISSING_COLUMN,
        "escalate",
    ),
    (
        "gx/CheckpointError",
        "https://github.com/great-expectations/airflow-provider-great-expectations/issues/143",
        'File "/home/airflow/.local/lib/python3.12/site-packages/great_expectations/checkpoint/checkpoint.py", '
        "line 282, in run\n    raise gx_exceptions.CheckpointError(\n"
        'great_expectations.exceptions.exceptions.CheckpointError: Checkpoint "table.sample_suite.chk" must be '
        "called with a validator or contain either a batch_request or validations.",
        Category.CODE_ERROR,
        "patch",
    ),
    (
        "gx/ConfigNotFoundError",
        "https://github.com/fivetran/great_expectations/issues/5149",
        "ConfigNotFoundError: Error: No great_expectations directory was found here!",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "pandera/element-wise-check",
        "https://github.com/unionai-oss/pandera/issues/1788",
        "SchemaError: Column 'column1' failed element-wise validator number 0: <Check <lambda>> failure cases: "
        "0.0, -0.5, -13.0",
        Category.DATA_QUALITY,
        "escalate",
    ),
    (
        # pandera < 0.19 printed the reason codes under "Error Counts"
        "pandera/error-counts-dtype",
        "https://github.com/apache/hamilton/issues/227",
        "WARNING:hamilton.data_quality.base:[day_of_the_week_6:pandera_schema_validator] validator failed. Message "
        "was: Schema None: A total of 1 schema errors were found.\n\nError Counts\n------------\n"
        "- SchemaErrorReason.WRONG_DATATYPE: 1\n\nSchema Error Summary\n--------------------\n"
        "                                     failure_cases  n_failure_cases\n"
        "schema_context column check                                        \n"
        "SeriesSchema   <NA>   dtype('uint8')        [bool]                1\n",
        Category.DATA_TYPE_MISMATCH,
        "escalate",
    ),
    (
        "pandera/schema-errors-json",
        "https://github.com/unionai-oss/pandera/issues/1669",
        'pandera.errors.SchemaErrors: {\n  "SCHEMA": {\n    "COLUMN_NOT_IN_SCHEMA": [\n      {\n'
        '        "schema": "MySchemaName",\n        "column": "MySchemaName",\n        "check": "column_in_schema",\n'
        "        \"error\": \"column 'undefined_in_schema' not in DataFrameSchema {'defined_in_schema': <Schema "
        'Column(name=defined_in_schema, type=DataType(int64))>}"\n      }\n    ]\n  }\n}',
        Category.DATA_QUALITY,
        "escalate",
    ),
    (
        "pandera/dtype-and-nulls",
        "https://github.com/unionai-oss/pandera/issues/26",
        "SchemaError: expected series 'a' to have type int64, got float64 and non-nullable series contains null "
        "values: {2: nan}",
        Category.DATA_TYPE_MISMATCH,
        "escalate",
    ),
    (
        "pandera/check-error",
        "https://github.com/unionai-oss/pandera/pull/613",
        "SchemaError: Error while executing check function: ValueError()",
        Category.CODE_ERROR,
        "patch",
    ),
    (
        # the message pandera's pandas backend words for the missing columns of issue 1115's example
        # (pandera/backends/pandas/container.py, COLUMN_NOT_IN_DATAFRAME)
        "pandera/missing-column",
        "https://github.com/unionai-oss/pandera/issues/1115",
        "pandera.errors.SchemaError: column 'column3' not in dataframe. Columns in dataframe: ['column1']",
        Category.SCHEMA_MISSING_COLUMN,
        "escalate",
    ),
    (
        "soda/failures",
        "https://github.com/astronomer/docs/blob/main/learn/soda-data-quality.md",
        "[2022-08-04, 13:23:59 UTC] {subprocess.py:92} INFO - 1/3 checks FAILED:\n"
        "[2022-08-04, 13:23:59 UTC] {subprocess.py:92} INFO -     MY_TABLE in MY_DATASOURCE\n"
        "[2022-08-04, 13:23:59 UTC] {subprocess.py:92} INFO -       max(MY_NUM_COL) between 10 and 20 [FAILED]\n"
        "[2022-08-04, 13:23:59 UTC] {subprocess.py:92} INFO -         check_value: 3\n"
        "[2022-08-04, 13:23:59 UTC] {subprocess.py:92} INFO - Oops! 1 failures. 0 warnings. 0 errors. 2 pass.\n"
        "[2022-08-04, 13:24:00 UTC] {subprocess.py:96} INFO - Command exited with return code 2\n"
        "[2022-08-04, 13:24:00 UTC] {taskinstance.py:1909} ERROR - Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/lib/python3.9/site-packages/airflow/operators/bash.py", line 194, in execute\n'
        "    raise AirflowException(\n"
        "airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 2.\n",
        Category.DATA_QUALITY,
        "escalate",
    ),
    (
        # an error: the scan could not evaluate its checks (here, files the command names are absent)
        "soda/errors",
        "https://github.com/sodadata/docs/blob/main/_includes/docker-soda-core.md",
        "Soda Core 3.0.xxx\nConfiguration path 'configuration.yml' does not exist\nPath \"checks.yml\" does not exist\n"
        "Scan summary:\nNo checks found, 0 checks evaluated.\n2 errors.\n"
        "Oops! 2 errors. 0 failures. 0 warnings. 0 pass.\nERRORS:\n"
        "Configuration path 'configuration.yml' does not exist\nPath \"checks.yml\" does not exist\n",
        Category.CODE_ERROR,
        "patch",
    ),
]


@pytest.mark.parametrize(("family", "source", "text", "category", "remediation"), POSTED, ids=[p[0] for p in POSTED])
def test_data_quality_outputs_decide(family, source, text, category, remediation):
    found = triage_text(text)
    assert (found.category, found.remediation.value) == (category, remediation), source
    assert found.decided_by.startswith("Data-quality framework"), found.decided_by


@pytest.mark.parametrize(
    ("type_name", "message"),
    [
        # polars' own SchemaError and jsonschema's share pandera's class name, not its texts
        ("polars.exceptions.SchemaError", "type String is incompatible with expected type Null"),
        ("jsonschema.exceptions.SchemaError", "'strin' is not valid under any of the given schemas"),
        # a Trino/Spark failure that names a column, no framework's shape
        ("log", "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"),
        # Great Expectations' wrapper around a warehouse error: the warehouse's code decides
        (
            "great_expectations.exceptions.exceptions.MetricResolutionError",
            '(psycopg2.errors.UndefinedTable) relation "public.orders" does not exist',
        ),
        # a summary that only looks like Soda's
        ("log", "Oops! Something went wrong. 1 failure."),
        # a dbt test's data failure is the dbt catalog's
        ("log", "Failure in test not_null_orders_id (models/schema.yml)"),
    ],
)
def test_look_alikes_are_not_claimed(type_name, message):
    assert data_quality.find(type_name, message) is None


def test_a_warehouse_error_inside_great_expectations_keeps_its_own_verdict():
    found = triage_text(
        "great_expectations.exceptions.exceptions.MetricResolutionError: (psycopg2.errors.UndefinedTable) "
        'relation "public.orders" does not exist'
    )
    assert found.category == Category.SCHEMA_MISSING_RELATION
    assert not found.decided_by.startswith("Data-quality framework")


def test_a_missing_column_outranks_the_checks_it_broke():
    text = (
        'pandera.errors.SchemaErrors: {\n  "DATA": {\n    "DATAFRAME_CHECK": [{"check": "greater_than(0)"}]\n  },\n'
        '  "SCHEMA": {\n    "COLUMN_NOT_IN_DATAFRAME": [{"check": "column_in_dataframe"}]\n  }\n}'
    )
    assert data_quality.find("pandera.errors.SchemaErrors", text)[0] == "COLUMN_NOT_IN_DATAFRAME"


def test_every_entry_maps_to_a_taxonomy_category_with_its_source():
    assert len(data_quality.CODES) >= 30
    for name, verdict in data_quality.CODES.items():
        assert isinstance(verdict.category, Category) and verdict.category != Category.UNKNOWN, name
        assert verdict.source.startswith("https://"), name
    assert set(data_quality._REASON_VALUES.values()) <= set(data_quality.PANDERA_REASONS)
