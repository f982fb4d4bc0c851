"""dbt's console formats, package version incompatibilities (pip, pkg_resources, importlib,
Airflow providers, dbt packages) and Jinja messages: real outputs as posted (the URL of each) or
raised here by the installed library, through the public triage path."""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
import subprocess

import pytest

from patchit_provider.engine.dbt_artifacts import node_error, read_dbt_artifacts
from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage import dbt_lines
from patchit_provider.engine.triage.catalogs import dbt_messages, exceptions
from patchit_testing import DBT_BIN, dbt_project, triage_text


def _dbt(project, command: str) -> subprocess.CompletedProcess[str]:
    """`dbt <command>` in a dbt_project() folder, its console output as a user sees it."""
    return subprocess.run(
        [str(DBT_BIN), "--no-use-colors", command, "--profiles-dir", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )


# (family, source, output as posted, category, remediation, culprit path or None)
POSTED = [
    (
        "dbt/source-not-found",
        "https://github.com/ClickHouse/clickhouse-docs/pull/206",
        "$ dbt run\n12:21:48  Running with dbt=1.1.1\n12:21:48  Partial parse save file not found. Starting full parse.\n"
        "12:21:50  Encountered an error:\n"
        "Compilation Error in model actor_summary (models/actors/actor_summary.sql)\n"
        "  Model 'model.imdb.actor_summary' (models/actors/actor_summary.sql) depends on a source named "
        "'imdb.genres' which was not found",
        "schema.missing_relation",
        "escalate",
        "models/actors/actor_summary.sql",
    ),
    (
        "dbt/source-not-found-debug-log",
        "https://github.com/aws-samples/dbt-glue/issues/610",
        "\x1b[0m11:46:18.861506 [info ] [MainThread]: Unable to do partial parsing because saved manifest not found. "
        "Starting full parse.\n"
        "\x1b[0m11:46:23.653229 [error] [MainThread]: Encountered an error:\nCompilation Error\n"
        "  Model 'model.YY.XX' (models\\XX\\XX.sql) depends on a source named 'ZZ.FGH' which was not found",
        "schema.missing_relation",
        "escalate",
        None,
    ),
    (
        "dbt/cycle-self-ref",
        "https://github.com/dbt-labs/dbt-core/issues/4733",
        "Running with dbt=0.21.1\n[WARNING]: Configuration paths exist in your dbt_project.yml file which do not "
        "apply to any resources.\nThere are 1 unused configuration paths:\n- models.demo19_dbt.example.data\n\n"
        "Encountered an error:\nFound a cycle: model.demo19_dbt.example_payments_details",
        "code.error",
        "patch",
        None,
    ),
    (
        "dbt/duplicate-model-name",
        "https://github.com/dbt-labs/dbt-core/issues/1269",
        "19:28:01  Running with dbt=1.1.2\n19:28:01  Encountered an error:\nCompilation Error\n"
        '  dbt found two models with the name "my_first_dbt_model".\n  \n'
        "  Since these resources have the same name, dbt will be unable to find the correct resource\n"
        '  when looking for ref("my_first_dbt_model").',
        "code.error",
        "patch",
        None,
    ),
    (
        "dbt/duplicate-resource-name-0.14",
        "https://github.com/dbt-labs/dbt-core/pull/1482",
        "$ dbt compile\nRunning with dbt=0.14.0-a1\nEncountered an error:\nCompilation Error\n"
        '  dbt found two resources with the name "x_archive". Since these resources have the same name,\n'
        '  dbt will be unable to find the correct resource when ref("x_archive") is used. To fix this,\n'
        "  change the name of one of these resources:\n"
        "  - model.minimal.x_archive (models/x_archive.sql)\n  - archive.minimal.x_archive (archives/x_archive.sql)",
        "code.error",
        "patch",
        None,
    ),
    (
        "dbt/deps-no-compatible-version",
        "https://github.com/Embucket/embucket-labs/pull/1113",
        "Could not find a matching compatible version for package brooklyn-data/dbt_artifacts\n"
        "  Requested range: =2.8.0, =2.8.0\n"
        "  Compatible versions: ['0.1.0', '0.2.0', '0.2.1', '0.3.0', '0.4.0', '0.4.1', '2.2.3', '2.3.0'",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "dbt/deps-no-matching-version-0.21",
        "https://github.com/calogica/dbt-date/issues/49",
        "Running with dbt=0.21.0\nEncountered an error:\nCould not find a matching version for package calogica/dbt_date\n"
        "  Requested range: =0.4.1, =0.4.1\n"
        "  Available versions: ['0.1.1', '0.1.2', '0.1.3', '0.1.4', '0.2.0', '0.3.0', '0.3.1', '0.4.0']",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "dbt/profile-target",
        "https://github.com/dbt-labs/dbt-core/issues/8829",
        "The profile 'my_profile' does not have a target named 'prod'. The valid target names for this profile are:\n"
        "   - dev",
        "config.missing",
        "escalate",
        None,
    ),
    (
        "dbt/profile-target-0.10",
        "https://github.com/dbt-labs/dbt-core/pull/893",
        "$ dbt compile\nEncountered an error while reading profiles:\n"
        "  ERROR The profile 'default' does not have a target named 'invalid-target'. The valid target names for "
        "this profile are:\n - dev\n - nopass\n - bq\nEncountered an error:\nCould not run dbt",
        "config.missing",
        "escalate",
        None,
    ),
    (
        "dbt/not-a-project",
        "https://github.com/dbt-checkpoint/dbt-checkpoint/issues/28",
        "Executing cmd: `dbt docs generate`\nRunning with dbt=0.18.2\nEncountered an error:\nRuntime Error\n"
        "  fatal: Not a dbt project (or any of the parent directories). Missing dbt_project.yml file",
        "config.missing",
        "escalate",
        None,
    ),
    (
        "dbt/project-dir-flag",
        "https://github.com/edx/jenkins-job-dsl/pull/844",
        "02:41:34 Running with dbt=0.14.0\n02:41:34 Encountered an error:\n02:41:34 Runtime Error\n"
        "02:41:34   fatal: Invalid --project-dir flag. Not a dbt project. Missing dbt_project.yml file",
        "config.missing",
        "escalate",
        None,
    ),
    (
        "dbt/debug-project-not-found",
        "https://github.com/dbt-labs/dbt-core/issues/5185",
        "12:22:25  Running with dbt=1.0.6\ndbt version: 1.0.6\npython version: 3.9.9\n"
        "Using profiles.yml file at /home/aaronfowles/.dbt/profiles.yml\n"
        "Using dbt_project.yml file at /home/aaronfowles/projects/analytics-engineering/dbt_project.yml\n\n"
        "Configuration:\n  profiles.yml file [OK found and valid]\n  dbt_project.yml file [ERROR not found]",
        "config.missing",
        "escalate",
        None,
    ),
    (
        "dbt/required-package-missing",
        "https://github.com/dbt-labs/dbt-core/pull/667",
        "$ dbt test\nEncountered an error:\nCompilation Error in test schema (models/schema.yml)\n"
        '  Error while parsing "not_constant" test on model "test".\n'
        '  The required package "dbt_utils" was not found. Is the package installed?',
        "dependency.missing",
        "patch",
        "models/schema.yml",
    ),
    (
        "jinja/unknown-tag-dbt",
        "https://github.com/dbt-msft/dbt-sqlserver/issues/417",
        "09:11:32.264354 [info ] [MainThread]: Running with dbt=1.4.3\n"
        "09:11:32.564247 [error] [MainThread]: Encountered an error:\nCompilation Error\n"
        "  Encountered unknown tag 'break'. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'.",
        "config.template",
        "patch",
        None,
    ),
    (
        "jinja/unknown-tag-dbt-0.12",
        "https://github.com/dbt-labs/dbt-core/issues/1152",
        "10:56:47 | Concurrency: 1 threads (target='dev')\n10:56:47 |\nEncountered an error:\nRuntime Error\n"
        "  Compilation Error in analysis form_tag (analysis/analysis/form_tag.sql)\n"
        "    Encountered unknown tag 'form'.\n      line 2\n        {% form %}",
        "config.template",
        "patch",
        "analysis/analysis/form_tag.sql",
    ),
    (
        "pip/has-requirement-legacy",
        "https://github.com/tomplus/kubernetes_asyncio/issues/14",
        "requests 2.18.4 has requirement urllib3<1.23,>=1.21.1, but you'll have urllib3 1.23 which is incompatible.",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "pip/requires-with-marker",
        "https://github.com/rucio/rucio/pull/4683",
        "2021-06-17T13:08:29.2061838Z requests 2.24.0 requires urllib3!=1.25.0,!=1.25.1,<1.26,>=1.21.1, but you'll "
        "have urllib3 1.26.5 which is incompatible.\n"
        '2021-06-17T13:08:29.2063064Z botocore 1.15.49 requires urllib3<1.26,>=1.20; python_version != "3.4", '
        "but you'll have urllib3 1.26.5 which is incompatible.",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "poetry/solver-problem",
        "https://github.com/dsaidgovsg/airflow-pipeline/pull/92",
        "#7 15.39 Updating dependencies\n#7 15.39 Resolving dependencies...\n#7 165.2\n#7 165.2   SolverProblemError\n"
        "#7 165.2\n#7 165.2   Because apache-airflow (2.1.0) depends on apache-airflow (2.1.0) which depends on cattrs "
        "(>=1.1,<2.0), apache-airflow (2.1.0) requires cattrs (>=1.1,<2.0).",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "uv/no-solution",
        "https://github.com/apxml/kerb/issues/5",
        "Using CPython 3.12.12\nCreating virtual environment at: .venv\n"
        "  × No solution found when resolving dependencies for split (markers: python_full_version == '3.8.*'):\n"
        "  ╰─▶ Because the requested Python version (>=3.8) does not satisfy Python>=3.9 and "
        "google-generativeai>=0.3.0 depends on Python>=3.9, we can conclude that google-generativeai>=0.3.0\n"
        "      cannot be used.",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "pip/requires-python",
        "https://github.com/ELS-RD/kernl/issues/282",
        "ERROR: Package 'kernl' requires a different Python: 3.8.10 not in '==3.9.*'",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "airflow/provider-needs-airflow",
        "https://github.com/apache/airflow/pull/59751",
        '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
        '  File "/opt/airflow/providers/edge3/src/airflow/providers/edge3/__init__.py", line 37, in <module>\n'
        "    raise RuntimeError(\n"
        "RuntimeError: The package `apache-airflow-providers-edge3:2.0.0` needs Apache Airflow 3.0.0+\n\n"
        "Error: check_environment returned 1. Exiting.",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "airflow/provider-needs-airflow-warning",
        "https://github.com/apache/airflow/issues/57026",
        "[2025-10-22T05:45:07.641+0000] {cli_parser.py:81} WARNING - cannot load CLI commands from auth manager: "
        "The package `apache-airflow-providers-fab:3.0.0` needs Apache Airflow 3.0.2+",
        "dependency.missing",
        "patch",
        None,
    ),
    (
        "importlib/no-package-metadata",
        "https://github.com/vortexau/dnsvalidator/issues/47",
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.12/importlib/metadata/__init__.py", line 397, in from_name\n'
        "    return next(cls.discover(name=name))\n           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\nStopIteration\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/dnsvalidator", line 33, in <module>\n'
        "    sys.exit(load_entry_point('DNSValidator==0.1', 'console_scripts', 'dnsvalidator')())\n"
        '  File "/usr/lib/python3.12/importlib/metadata/__init__.py", line 399, in from_name\n'
        "    raise PackageNotFoundError(name)\n"
        "importlib.metadata.PackageNotFoundError: No package metadata was found for DNSValidator",
        "dependency.missing",
        "patch",
        None,
    ),
    # dbt's error printed on one line, outside its own block: the node's file, or the innermost
    # macro of the Jinja call stack, is the culprit
    (
        "dbt/one-line-compilation-error",
        "https://github.com/cal-itp/data-infra/pull/2157",
        "Compilation Error in model stg_feed_guideline_index (models/staging/stg_feed_guideline_index.sql) - "
        "'no_rt_critical_validation_errors' is undefined. This can happen when calling a macro that does not exist.",
        "config.template",
        "patch",
        "models/staging/stg_feed_guideline_index.sql",
    ),
    (
        "dbt/undefined-in-a-macro-called-by-a-hook",
        "https://github.com/Montreal-Analytics/dbt-snowflake-utils/issues/24",
        "dbt runtime exception\n"
        "Compilation Error in operation dx_dbt_pdb-on-run-end-0 (./dbt_project.yml) 'model_contains_tag_meta' is "
        "undefined > in macro apply_meta_as_tags (macros/apply_meta_as_tags.sql) > called by operation "
        "dx_dbt_pdb-on-run-end-0 (./dbt_project.yml)",
        "config.template",
        "patch",
        "macros/apply_meta_as_tags.sql",
    ),
    (
        "dbt/database-error-wrapped-by-a-runner",
        "https://github.com/basedosdados/pipelines/issues/161",
        "Exception: Error running sync command: Database Error in model dia (models/br_cvm/dia.sql)\n"
        "  Error while reading table: staging.dia, error message: Too many values in row starting at position: 769. "
        "Found 44 column(s) while expected 38.\n"
        "  compiled SQL at target/run/basedosdados/models/br_cvm/dia.sql",
        "data.malformed",
        "escalate",
        "models/br_cvm/dia.sql",
    ),
    (
        "dbt/compiled-code-path-only",
        "https://github.com/mitodl/ol-data-platform/pull/1203",
        '  TrinoUserError(type=USER_ERROR, name=COLUMN_NOT_FOUND, message="line 140:11: Column '
        "'micromasters_completed_orders.line_id' cannot be resolved\", query_id=20240716_150419_00448_3dabn)\n"
        "  compiled Code at target/run/open_learning/models/marts/combined/marts__combined_course_enrollment_detail.sql",
        "schema.missing_column",
        "escalate",
        "models/marts/combined/marts__combined_course_enrollment_detail.sql",
    ),
]


@pytest.mark.parametrize("family,source,text,category,remediation,culprit", POSTED, ids=[p[0] for p in POSTED])
def test_posted_outputs(family, source, text, category, remediation, culprit):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert "source:" in result.rationale
    if culprit is not None:
        assert result.culprit is not None and result.culprit.path == culprit


def _compilation_error(message: str) -> str:
    """dbt's console form of a CompilationError (dbt_common's DbtRuntimeError.__str__), as the
    installed dbt prints it under a model's header."""
    error = importlib.import_module("dbt_common.exceptions").CompilationError(message)
    return "Compilation Error in model orders (models/orders.sql)\n" + "\n".join(
        "  " + line for line in str(error).splitlines()[1:]
    )


@pytest.mark.parametrize(
    "template",
    [
        "{% for x in rows %}{{ x }}",  # Unexpected end of template ... Jinja was looking for
        "{{ config(materialized='table' x) }}",  # expected token 'end of print statement', got 'x'
        "{% frobnicate %}",  # Encountered unknown tag
        "{{ x | no_such_filter }}",  # No filter named 'no_such_filter'.
    ],
)
def test_jinja_syntax_errors_of_the_installed_jinja(template):
    jinja2 = importlib.import_module("jinja2")
    with pytest.raises(jinja2.TemplateSyntaxError) as info:
        jinja2.Environment().from_string(template)
    result = triage_text(_compilation_error(info.value.message or ""))
    assert (result.category, result.remediation.value) == (Category.CONFIG_TEMPLATE, "patch"), result.rationale
    assert result.culprit is not None and result.culprit.path == "models/orders.sql"


def test_jinja_undefined_attribute_of_the_installed_jinja():
    jinja2 = importlib.import_module("jinja2")
    with pytest.raises(jinja2.UndefinedError) as info:
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string("{{ row.amount + 1 }}").render(row={})
    assert str(info.value) == "'dict object' has no attribute 'amount'"
    result = triage_text(_compilation_error(str(info.value)))
    assert result.category == Category.CONFIG_TEMPLATE, result.rationale


def test_dbt_undefined_macro_of_the_installed_dbt():
    macros = importlib.import_module("dbt_common.exceptions.macros")
    text = "Encountered an error:\n" + str(macros.UndefinedMacroError("'at_weekend' is undefined"))
    result = triage_text(text)
    assert (result.category, result.remediation.value) == (Category.CONFIG_TEMPLATE, "patch"), result.rationale


def test_seed_csv_rows_of_the_installed_agate():
    agate = importlib.import_module("agate")
    with pytest.raises(ValueError) as info:
        agate.Table([("a", "b", "c")], ["x", "y"])
    text = f"Runtime Error in seed countries (seeds/countries.csv)\n  {info.value}"
    result = triage_text(text)
    assert result.category == Category.DATA_MALFORMED, result.rationale
    assert result.culprit is not None and result.culprit.path == "seeds/countries.csv"
    with pytest.raises(agate.CastError) as cast:
        agate.Number().cast("twelve")
    result = triage_text(f"Runtime Error in seed prices (seeds/prices.csv)\n  {cast.value}")
    assert result.category == Category.DATA_TYPE_MISMATCH, result.rationale


def test_snapshot_target_of_the_installed_dbt_adapters():
    compilation = importlib.import_module("dbt.adapters.exceptions.compilation")
    error = compilation.SnapshotTargetNotSnapshotTableError(["dbt_scd_id", "dbt_valid_from", "dbt_valid_to"])
    text = "Database Error in snapshot orders_snapshot (snapshots/orders_snapshot.sql)\n" + "\n".join(
        "  " + line for line in str(error).splitlines()[1:]
    )
    result = triage_text(text)
    assert (result.category, result.remediation.value) == (Category.SCHEMA_MISSING_COLUMN, "escalate")


def test_dbt_classes_and_bases_match_the_installed_dbt():
    """Every class this family names exists in the installed dbt-core / dbt-common /
    dbt-adapters (or agate), and every BASES entry lists real bases of it."""
    modules = [
        importlib.import_module(name)
        for name in (
            "dbt.exceptions",
            "dbt_common.exceptions",
            "dbt_common.exceptions.macros",
            "dbt_common.exceptions.jinja",
            "dbt.adapters.exceptions",
            "agate.exceptions",
        )
    ]
    found = {
        name: cls
        for module in modules
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException)
    }
    for name in dbt_messages.CLASSES:
        assert name in found, name
    for name, bases in dbt_messages.BASES.items():
        assert name in found, name
        assert set(bases) <= {b.__name__ for b in found[name].__mro__}, name
    assert exceptions.lineage("DuplicateMacroNameError")[:3] == [
        "DuplicateMacroNameError",
        "CompilationError",
        "DbtRuntimeError",
    ]


# Look-alikes that must not take these families' verdicts.
@pytest.mark.parametrize(
    "text,not_category",
    [
        # Python's own AttributeError (the type is quoted before "object"), not Jinja's
        (
            'Traceback (most recent call last):\n  File "/srv/etl/run.py", line 3, in <module>\n'
            "    print(row.amount)\nAttributeError: 'dict' object has no attribute 'amount'",
            Category.CONFIG_TEMPLATE,
        ),
        ("Warning in test environment: the disk is slow", Category.DATA_QUALITY),
        ("Result is undefined for an empty input", Category.CONFIG_TEMPLATE),
        (
            "Requirement already satisfied: urllib3<3,>=1.21.1 in ./venv/lib/python3.11/site-packages (from requests)",
            Category.DEPENDENCY_MISSING,
        ),
        (
            "Ignoring numpy: markers 'python_version < \"3.8\"' don't match your environment",
            Category.DEPENDENCY_MISSING,
        ),
    ],
)
def test_look_alikes_do_not_match(text, not_category):
    assert triage_text(text).category != not_category


UNIT_TEST = """unit_tests:
  - name: tax_is_ten_percent
    model: orders
    given:
      - input: ref('raw_orders')
        rows:
          - {order_id: 1, amount: 10}
    expect:
      rows:
        - {order_id: 1, amount_with_tax: 11}
"""


@pytest.mark.skipif(not DBT_BIN.exists(), reason="dbt is installed by scripts/setup.sh")
def test_a_failing_dbt_unit_test_is_the_models_logic_not_the_data(tmp_path):
    """A unit test runs the model's SQL on rows the test itself gives
    (https://docs.getdbt.com/docs/build/unit-tests): its failure is the model's logic, to patch,
    not the warehouse's data that a data test's `Failure in test` escalates. From a real
    `dbt build` (dbt-duckdb) of a model that doubles where the test expects 10% tax: the console
    output and run_results.json both say so."""
    models = {
        "raw_orders.sql": "select 1 as order_id, 10 as amount\n",
        "orders.sql": "select order_id, amount * 2 as amount_with_tax from {{ ref('raw_orders') }}\n",
        "unit_tests.yml": UNIT_TEST,
    }
    dbt_project(tmp_path, "units", models)
    proc = _dbt(tmp_path, "build")
    assert proc.returncode != 0 and "Failure in unit_test tax_is_ten_percent" in proc.stdout, proc.stdout[-2000:]
    console = triage_text(proc.stdout)
    assert (console.category, console.remediation.value) == (Category.CODE_ERROR, "patch")
    assert console.culprit is not None and console.culprit.path == "models/unit_tests.yml"

    (node,) = read_dbt_artifacts([str(tmp_path / "target" / "run_results.json")], tmp_path, [])
    assert node_error(node).type == "dbt Failure in unit_test"

    data_test = triage_text(proc.stdout.replace("Failure in unit_test", "Failure in test"))
    assert data_test.category == Category.DATA_QUALITY  # the data test's verdict is unchanged


# A model whose Jinja (config, a loop, ref) moves every line of the SQL dbt sends: the warehouse's
# position must be carried back to the model file.
LOOPED_MODEL = """{{ config(materialized='table') }}
{% set cols = ['amount', 'order_id'] %}
-- every column doubled
select
    {% for c in cols %}
    {{ c }} * 2 as {{ c }}_x,
    {% endfor %}
    amount +
from {{ ref('raw_orders') }}
"""


@pytest.mark.skipif(not DBT_BIN.exists(), reason="dbt is installed by scripts/setup.sh")
def test_a_dbt_model_error_points_at_the_model_line_the_warehouse_names(tmp_path):
    """DuckDB reports `LINE 10: from "w"."main"."raw_orders"` in the DDL dbt ran; the culprit is
    line 9 of the model file (`from {{ ref('raw_orders') }}`), found through target/'s compiled
    SQL, or through run_results.json's when the project's target/ is gone; without any compiled
    SQL no line is guessed."""
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.triage import triage

    project = dbt_project(
        tmp_path / "repo",
        "looped",
        {"raw_orders.sql": "select 1 as order_id, 10 as amount\n", "doubled.sql": LOOPED_MODEL},
    )
    proc = _dbt(project, "run")
    assert 'syntax error at or near "from"' in proc.stdout, proc.stdout[-2000:]
    reported = re.search(r"LINE (\d+):", proc.stdout)
    assert reported is not None and reported.group(1) != "9"  # dbt's DDL and Jinja moved it

    with_target = triage_text(proc.stdout, repo=project)
    assert with_target.culprit is not None
    assert (with_target.culprit.path, with_target.culprit.line) == ("models/doubled.sql", 9)

    artifacts = tmp_path / "artifacts"
    shutil.move(project / "target", artifacts)
    event = FailureEvent(pipeline_id="p", run_id="r", log_text=proc.stdout, artifact_uris=[str(artifacts)])
    from_results = triage(collect_evidence(event, project, PatchitSettings()))
    assert from_results.culprit is not None
    assert (from_results.culprit.path, from_results.culprit.line) == ("models/doubled.sql", 9)

    nothing_compiled = triage_text(proc.stdout, repo=project)
    assert nothing_compiled.culprit is not None
    assert (nothing_compiled.culprit.path, nothing_compiled.culprit.line) == ("models/doubled.sql", None)


@pytest.mark.parametrize(
    "message",
    [
        # Snowflake's compilation error and BigQuery's syntax error give a number, no text
        "001003 (42000): SQL compilation error:\nsyntax error line 6 at position 0 unexpected 'from'.",
        "400 Syntax error: Unexpected keyword FROM at [6:1]",
        # dbt-trino: the Python client's TrinoUserError repr (trino/exceptions.py), Trino's "line n:m: "
        "TrinoUserError(type=USER_ERROR, name=SYNTAX_ERROR, message=\"line 6:1: mismatched input 'from'\", "
        "query_id=20240101_000000_00000_abcde)",
    ],
)
def test_a_numbered_position_is_read_in_the_sql_dbt_ran(message):
    """Without the line's text, the number is read in target/run's copy (the DDL included)."""
    source = "select\n    {{ dbt_utils.star(ref('a')) }},\n    x +\nfrom {{ ref('a') }}\n"
    compiled = 'select\n    "id",\n  "name",\n    x +\nfrom db.a\n'
    executed = "create or replace table db.b as (\n" + compiled + ");\n"
    assert dbt_lines.model_line(message, source, compiled, executed) == 4
    assert dbt_lines.model_line(message, source, compiled) is None  # no copy to read the number in


def test_compiled_copies_are_never_read_outside_the_repository(tmp_path):
    """The model path comes from the log: a dbt project beside the repository is not read."""
    outside = tmp_path / "other"
    (outside / "target" / "compiled" / "p" / "models").mkdir(parents=True)
    (outside / "dbt_project.yml").write_text("name: p\n")
    (outside / "models").mkdir()
    (outside / "models" / "m.sql").write_text("select 1\n")
    (outside / "target" / "compiled" / "p" / "models" / "m.sql").write_text("select 1\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    assert dbt_lines.target_copies(outside, "models/m.sql") == ("select 1\n", "")  # the project's own copy
    assert dbt_lines.target_copies(repo, "../other/models/m.sql") == ("", "")


@pytest.mark.skipif(not DBT_BIN.exists(), reason="dbt is installed by scripts/setup.sh")
def test_failure_in_model_heads_a_model_error_not_a_test_s_rows(tmp_path):
    """dbt 1.8+ sums up a model's error as `Failure in model x (path)` with the error under it
    (real dbt-duckdb run); an output cut right after that heading is still the model's error,
    never a data test's failing rows."""
    project = dbt_project(tmp_path / "repo", "p", {"bad.sql": "select nosuchcol from (select 1 as a) t\n"})
    proc = _dbt(project, "run")
    assert "Failure in model bad (models/bad.sql)" in proc.stdout, proc.stdout[-2000:]
    whole = triage_text(proc.stdout)
    assert whole.category.value == "schema.missing_column" and whole.error.type == "dbt Runtime Error"
    cut = proc.stdout[: proc.stdout.index("Failure in model bad")] + "Failure in model bad (models/bad.sql)\n"
    result = triage_text(cut)
    assert result.error.type == "dbt Runtime Error" and result.category.value != "data.quality"
    assert result.culprit is not None and result.culprit.path == "models/bad.sql"


@pytest.mark.skipif(not DBT_BIN.exists(), reason="dbt is installed by scripts/setup.sh")
def test_a_run_with_several_failed_models_names_the_first_of_dbt_s_summary(tmp_path):
    """dbt's end-of-run summary ("Completed with 2 errors") lists the failed nodes in the order
    they failed (real dbt-duckdb, one thread): the first one stands for the run, as a person
    reading the summary starts with it."""
    project = dbt_project(
        tmp_path / "repo",
        "p",
        {
            "a_first.sql": "select nosuchcol from (select 1 as a) t\n",
            "b_second.sql": "select * from nosuchtable_patchit\n",
        },
    )
    proc = subprocess.run(
        [str(DBT_BIN), "--no-use-colors", "run", "--threads", "1", "--profiles-dir", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Completed with 2 errors" in proc.stdout, proc.stdout[-2000:]
    summary = proc.stdout[proc.stdout.index("Completed with 2 errors") :]
    first = "a_first" if summary.index("a_first") < summary.index("b_second") else "b_second"
    result = triage_text(proc.stdout)
    assert result.culprit is not None and result.culprit.path == f"models/{first}.sql"
    assert result.category.value == ("schema.missing_column" if first == "a_first" else "schema.missing_relation")
