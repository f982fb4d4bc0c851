"""Triage on real failures: every snippet below really ran (in one subprocess) and the rules
see the traceback Python printed; third-party messages we cannot run here (pandas, DuckDB,
Postgres server, dbt, Spark, Snowflake) use their documented message shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import git
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "logs"))
from snippets import AIRFLOW_CASES, DRIVER, SNIPPETS  # noqa: E402

from patchit_provider.engine.evidence import collect_evidence  # noqa: E402
from patchit_provider.engine.models import ErrorInfo, Evidence, FailureEvent, Frame  # noqa: E402
from patchit_provider.engine.settings import PatchitSettings  # noqa: E402
from patchit_provider.engine.taxonomy import Category, patch_forbidden  # noqa: E402
from patchit_provider.engine.triage import FINGERPRINT_VERSION, fingerprint, triage  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "logs"


def make_repo(root: Path) -> Path:
    (root / "pipelines").mkdir(parents=True)
    (root / "pipelines" / "__init__.py").write_text("")
    (root / "helpers").mkdir()
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "broken.py").write_text("def parse(:\n    return 1\n")
    for name, code in SNIPPETS.items():
        (root / "pipelines" / f"case_{name}.py").write_text(code)
    repo = git.Repo.init(root)
    repo.index.add([str(p.relative_to(root)) for p in root.rglob("*.py")])
    repo.index.commit("pipelines")
    return root


def run_snippets(root: Path, names) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(root), *names], capture_output=True, text=True, timeout=300, cwd=root
    )
    tracebacks = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(tracebacks.values()), [k for k, v in tracebacks.items() if not v]
    return tracebacks


@pytest.fixture(scope="module")
def repo_root(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def real(repo_root):
    return repo_root, run_snippets(repo_root, [n for n in SNIPPETS if n not in AIRFLOW_CASES])


@pytest.fixture(scope="module")
def real_airflow(repo_root):
    """Snippets raising the task SDK's own exceptions (importing airflow takes seconds)."""
    return repo_root, run_snippets(repo_root, sorted(AIRFLOW_CASES))


def run_triage(text: str, repo: Path | None):
    event = FailureEvent(platform="generic", pipeline_id="cli", run_id="cli", log_text=text)
    evidence = collect_evidence(event, repo, PatchitSettings())
    return triage(evidence), evidence


EXPECTED = {
    "keyerror_column": ("schema.missing_column", "escalate"),
    "variable_missing_af2": ("config.missing", "escalate"),
    "variable_missing_af3": ("config.missing", "escalate"),
    "conn_missing": ("config.missing", "escalate"),
    "env_missing": ("config.missing", "escalate"),
    "module_in_repo": ("code.error", "patch"),
    "module_third_party": ("dependency.missing", "patch"),
    "import_name_third_party": ("dependency.missing", "patch"),
    "nameerror_hint": ("code.error", "patch"),
    "attributeerror_hint": ("code.error", "patch"),
    "attributeerror_plain": ("code.error", "patch"),
    "typeerror": ("code.error", "patch"),
    "syntaxerror_repo": ("code.error", "patch"),
    "json_malformed": ("data.malformed", "escalate"),
    "unicode_malformed": ("data.malformed", "escalate"),
    "int_mismatch": ("data.type_mismatch", "escalate"),
    "date_mismatch": ("data.type_mismatch", "escalate"),
    "assertion_quality": ("data.quality", "escalate"),
    "zero_empty": ("data.empty", "escalate"),
    "max_empty": ("data.empty", "escalate"),
    "file_input_missing": ("upstream.failed", "escalate"),
    "file_config_missing": ("config.missing", "escalate"),
    "permission": ("infra.auth", "escalate"),
    "memory": ("infra.resource", "escalate"),
    "disk_full": ("infra.resource", "escalate"),
    "conn_refused": ("infra.network", "retry"),
    "httpx_connect": ("infra.network", "retry"),
    "requests_connect": ("infra.network", "retry"),
    "http_503": ("infra.network", "retry"),
    "http_429": ("infra.network", "retry"),
    "http_401": ("infra.auth", "escalate"),
    "requests_403": ("infra.auth", "escalate"),
    "task_timeout": ("infra.timeout", "retry"),
    "jinja_undefined": ("config.template", "patch"),
    "jinja_syntax": ("config.template", "patch"),
    "sqlite_no_column": ("schema.missing_column", "escalate"),
    "sqlite_no_table": ("schema.missing_relation", "escalate"),
    "sqlite_unique": ("data.quality", "escalate"),
    "postgres_refused": ("infra.network", "retry"),
    "chained_wrapper": ("data.malformed", "escalate"),
}


def test_every_snippet_has_an_expectation():
    assert set(EXPECTED) == set(SNIPPETS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_failures(request, name):
    root, tracebacks = request.getfixturevalue("real_airflow" if name in AIRFLOW_CASES else "real")
    result, _ = run_triage(tracebacks[name], root)
    assert (result.category.value, result.remediation.value) == EXPECTED[name], (result.rationale, tracebacks[name])
    assert result.culprit is not None and result.culprit.path.startswith(("pipelines/", "helpers/")), result.culprit
    assert result.summary and "\n" not in result.summary
    assert result.next_step and result.rationale and result.evidence_lines
    assert result.fingerprint_version == FINGERPRINT_VERSION and len(result.fingerprint) == 16
    if patch_forbidden(result.category):
        assert result.remediation.value != "patch"


def test_culprit_is_innermost_repo_frame(real):
    root, tracebacks = real
    result, evidence = run_triage(tracebacks["keyerror_column"], root)
    assert result.culprit.path == "pipelines/case_keyerror_column.py" and result.culprit.line == 3
    assert result.error.type == "KeyError" and result.error.message == "'customer_id'"


def test_did_you_mean_raises_confidence(tmp_path):
    """The interpreter's own traceback (stderr of a script, as BashOperator logs show it) has
    the hint; traceback.format_exc() has it only from Python 3.12 on."""
    sys.path.insert(0, str(FIXTURES))
    import realfail

    git.Repo.init(tmp_path)
    hinted_text = realfail.run_python(
        tmp_path, "job.py", {"job.py": "def run():\n    total = 0\n    return totl\nrun()\n"}
    )
    plain_text = realfail.run_python(
        tmp_path, "job2.py", {"job2.py": "def run():\n    return undefined_name_xyz\nrun()\n"}
    )
    assert "Did you mean: 'total'?" in hinted_text
    hinted, _ = run_triage(hinted_text, tmp_path)
    plain, _ = run_triage(plain_text, tmp_path)
    assert hinted.category == plain.category == Category.CODE_ERROR
    assert hinted.confidence > plain.confidence >= 0.8
    assert hinted.culprit.path == "job.py" and hinted.culprit.line == 3


def test_syntax_error_culprit_is_the_broken_file(real):
    root, tracebacks = real
    result, _ = run_triage(tracebacks["syntaxerror_repo"], root)
    assert result.culprit.path == "helpers/broken.py" and result.culprit.line == 1


def test_chain_is_used_when_the_outer_error_is_generic(real):
    root, tracebacks = real
    result, _ = run_triage(tracebacks["chained_wrapper"], root)
    assert result.error.type == "RuntimeError"
    assert "caused by JSONDecodeError" in result.summary
    assert "exception chain" in result.rationale


def test_secret_in_a_real_error_is_redacted(real):
    root, tracebacks = real
    result, evidence = run_triage(tracebacks["postgres_refused"], root)
    assert "pw-Secret-99" not in evidence.model_dump_json() + result.model_dump_json()


SHAPES = [
    (
        "KeyError",
        "\"None of [Index(['customer_idd'], dtype='object')] are in the [columns]\"",
        "schema.missing_column",
        "escalate",
    ),
    (
        "duckdb.duckdb.BinderException",
        'Binder Error: Referenced column "customer_idd" not found in FROM clause!\nCandidate bindings: "customer_id"',
        "schema.missing_column",
        "patch",
    ),
    (
        "psycopg.errors.UndefinedColumn",
        'column "customer_idd" does not exist\nLINE 1: select customer_idd from orders\n               ^\nHINT:  Perhaps you meant to reference the column "orders.customer_id".',
        "schema.missing_column",
        "patch",
    ),
    (
        "snowflake.connector.errors.ProgrammingError",
        "000904 (42000): SQL compilation error: error line 1 at position 7\ninvalid identifier 'CUSTOMER_IDD'",
        "schema.missing_column",
        "escalate",
    ),
    (
        "duckdb.duckdb.CatalogException",
        'Catalog Error: Table with name orderz does not exist!\nDid you mean "orders"?',
        "schema.missing_relation",
        "patch",
    ),
    (
        "psycopg.errors.UndefinedTable",
        'relation "public.orderz" does not exist\nLINE 1: select * from public.orderz',
        "schema.missing_relation",
        "escalate",
    ),
    (
        "pandas.errors.ParserError",
        "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4",
        "data.malformed",
        "escalate",
    ),
    ("pandas.errors.EmptyDataError", "No columns to parse from file", "data.empty", "escalate"),
    ("ValueError", "No objects to concatenate", "data.empty", "escalate"),
    (
        "duckdb.duckdb.ConversionException",
        "Conversion Error: Could not convert string 'abc' to INT32",
        "data.type_mismatch",
        "escalate",
    ),
    (
        "psycopg.errors.InvalidTextRepresentation",
        'invalid input syntax for type integer: "12a"',
        "data.type_mismatch",
        "escalate",
    ),
    (
        "psycopg.errors.UniqueViolation",
        'duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (order_id)=(1) already exists.',
        "data.quality",
        "escalate",
    ),
    ("psycopg.errors.InsufficientPrivilege", "permission denied for table orders", "infra.auth", "escalate"),
    (
        "psycopg.OperationalError",
        'connection failed: FATAL:  password authentication failed for user "etl"',
        "infra.auth",
        "escalate",
    ),
    ("psycopg.errors.QueryCanceled", "canceling statement due to statement timeout", "infra.timeout", "retry"),
    (
        "airflow.sdk.exceptions.AirflowSensorTimeout",
        "Sensor has timed out; run duration of 60.21 seconds exceeds the specified timeout of 60.0.",
        "infra.timeout",
        "retry",
    ),
    (
        "botocore.errorfactory.NoSuchKey",
        "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.",
        "upstream.failed",
        "escalate",
    ),
    ("botocore.exceptions.NoCredentialsError", "Unable to locate credentials", "config.missing", "escalate"),
    (
        "pyspark.errors.exceptions.captured.AnalysisException",
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `sales`.`orderz` cannot be found.",
        "schema.missing_relation",
        "escalate",
    ),
    (
        "pyspark.errors.exceptions.captured.AnalysisException",
        "[PATH_NOT_FOUND] Path does not exist: file:/data/landing/2024-05-01.",
        "upstream.failed",
        "escalate",
    ),
    ("FluxCapacitorError", "the flux capacitor is misaligned", "unknown", "escalate"),
]


@pytest.mark.parametrize("exc_type,message,category,remediation", SHAPES)
def test_documented_message_shapes(exc_type, message, category, remediation):
    evidence = Evidence(event_id="e", error=ErrorInfo(type=exc_type, message=message))
    result = triage(evidence)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


@pytest.mark.parametrize(
    "name,category,remediation,culprit",
    [
        ("airflow3_keyerror.log", "schema.missing_column", "escalate", "dags/orders/transform.py"),
        ("airflow2_bash_filenotfound.log", "upstream.failed", "escalate", "scripts/ingest.py"),
        ("dbt_console_missing_column.log", "schema.missing_column", "patch", None),
        ("dbt_log_missing_node.log", "schema.missing_relation", "escalate", None),
        ("spark_driver_unresolved_column.log", "schema.missing_column", "patch", None),
        ("spark_driver_oom.log", "infra.resource", "escalate", None),
    ],
)
def test_fixture_logs(tmp_path, name, category, remediation, culprit):
    repo = FIXTURES / "repo_orders"
    event = FailureEvent(platform="generic", pipeline_id="cli", run_id="cli", log_uri=str(FIXTURES / name))
    result = triage(collect_evidence(event, repo, PatchitSettings()))
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    if culprit:
        assert result.culprit.path == culprit


def test_dbt_culprit_is_the_model_file(tmp_path):
    (tmp_path / "models" / "staging").mkdir(parents=True)
    (tmp_path / "models" / "staging" / "stg_orders.sql").write_text(
        "select\n    id,\n    {{ var('x') }} as x,\n    customer_idd as customer\nfrom {{ ref('raw_orders') }}\n"
    )
    event = FailureEvent(
        platform="dbt", pipeline_id="cli", run_id="cli", log_uri=str(FIXTURES / "dbt_console_missing_column.log")
    )
    result = triage(collect_evidence(event, tmp_path, PatchitSettings()))
    # the model file, at the line of the identifier DuckDB names (found by parsing the model, Jinja masked)
    assert (result.culprit.path, result.culprit.line) == ("models/staging/stg_orders.sql", 4)


def test_sigkill_without_exception_from_log_lines():
    log = "\n".join(
        [
            '{"timestamp": "2025-06-01T10:00:00Z", "level": "info", "event": "Processing rows", "logger": "task"}',
            '{"timestamp": "2025-06-01T10:05:00Z", "level": "critical", "event": "Process terminated by signal. Likely out of memory error (OOM). For more information, see https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#process-terminated-by-signal.", "signal": -9, "signal_name": "SIGKILL", "logger": "supervisor"}',
        ]
    )
    result, _ = run_triage(log, None)
    assert result.category == Category.INFRA_RESOURCE and result.remediation.value == "escalate"
    assert result.culprit is None


# --- fingerprints ---------------------------------------------------------------------------


def _fp(message: str, frames=None, exc_type="FileNotFoundError", category=Category.UPSTREAM_FAILED):
    return fingerprint(category, exc_type, message, frames or [Frame(path="etl/load.py", line=10, function="load")])


def test_fingerprint_stable_across_runs_dates_tmp_paths_pids_hosts():
    a = _fp("[Errno 2] No such file or directory: '/tmp/tmpa81kq2/landing/orders_2024-05-01.csv'")
    b = _fp("[Errno 2] No such file or directory: '/tmp/tmpz0x9w1/landing/orders_2024-05-02.csv'")
    assert a == b
    assert _fp("Timeout, PID: 4242", exc_type="AirflowTaskTimeout") == _fp(
        "Timeout, PID: 977", exc_type="AirflowTaskTimeout"
    )
    assert _fp("run manual__2024-01-01T00:00:00+00:00 failed at 0x7f3a2c1b2d30") == _fp(
        "run scheduled__2024-02-01T00:00:00+00:00 failed at 0x7f00aa"
    )
    assert _fp('connection to server at "10.0.3.4", port 5432 failed') == _fp(
        'connection to server at "10.0.9.12", port 5433 failed'
    )
    assert _fp("job 6c0a1f2e-8d1b-4b6e-9a57-3f8d0d1c2b11 failed") == _fp(
        "job 0b9c5e38-6a7c-4f0e-9d7e-1f3f2c7c8f11 failed"
    )


def test_fingerprint_ignores_line_numbers_and_hint_but_not_the_cause():
    moved = [Frame(path="etl/load.py", line=99, function="load")]
    assert _fp("'customer_id'") == _fp("'customer_id'", moved)
    assert _fp("'customer_id'") != _fp("'order_id'")
    assert _fp("'customer_id'") != _fp("'customer_id'", [Frame(path="etl/load.py", line=10, function="enrich")])
    assert _fp("'customer_id'") != _fp("'customer_id'", exc_type="KeyError")
    hint = fingerprint(Category.CODE_ERROR, "NameError", "name 'totl' is not defined. Did you mean: 'total'?", [])
    assert hint == fingerprint(Category.CODE_ERROR, "NameError", "name 'totl' is not defined", [])


def test_fingerprint_same_for_text_and_airflow3_json(tmp_path):
    """The same cause read from a JSON task log and from a plain traceback groups together."""
    sys.path.insert(0, str(FIXTURES))
    import realfail

    files = {"etl/job.py": "def load(rows):\n    return rows[0]['customer_id']\nload([{'id': 1}])\n"}
    git.Repo.init(tmp_path)
    text = realfail.run_python(tmp_path, "etl/job.py", files)
    json_log = realfail.airflow3_log(tmp_path, "etl/job.py", files)
    a, _ = run_triage(text, tmp_path)
    b, _ = run_triage(json_log, tmp_path)
    assert a.category == b.category == Category.SCHEMA_MISSING_COLUMN
    assert a.fingerprint == b.fingerprint


def test_same_failure_in_two_checkouts_same_fingerprint(real, tmp_path):
    root, tracebacks = real
    first, _ = run_triage(tracebacks["file_input_missing"], root)
    moved = tracebacks["file_input_missing"].replace(str(root), "/opt/airflow/dags/repo")
    second, _ = run_triage(moved, root)
    assert first.fingerprint == second.fingerprint and second.culprit == first.culprit


def test_airflow2_sigkill_line_without_error_words_is_seen():
    filler = [f"[2024-05-01T02:00:01.000+0000] {{taskinstance.py:1}} INFO - batch {i}" for i in range(500)]
    log = "\n".join(
        [
            *filler,
            "[2024-05-01T02:00:03.750+0000] {local_task_job_runner.py:240} INFO - "
            "Task exited with return code Negsignal.SIGKILL",
        ]
    )
    result, _ = run_triage(log, None)
    assert result.category == Category.INFRA_RESOURCE


# --- rules fixed on the real corpus (benchmarks/corpus/cases): messages copied from the logs ---

CORPUS_MESSAGES = [
    # af2_event_timestamps_format: pandas/strptime says "doesn't", not "does not"
    (
        "ValueError",
        'time data "2024-05-01T10:05:00Z" doesn\'t match format "%Y-%m-%d %H:%M:%S". You might want to try:',
        "data.type_mismatch",
        "escalate",
    ),
    # dbt_fct_orders_missing_column: DuckDB's binder on a VALUES list / table
    (
        "dbt Runtime Error",
        'Binder Error: Values list "customers" does not have a column named "segment"',
        "schema.missing_column",
        "escalate",
    ),
    # spark_cast_invalid_input: the error class beats the word "malformed" in its message
    (
        "pyspark.errors.exceptions.captured.NumberFormatException",
        '[CAST_INVALID_INPUT] The value \'twelve\' of the type "STRING" cannot be cast to "INT" because it is malformed. '
        "Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and "
        "return NULL instead. SQLSTATE: 22018",
        "data.type_mismatch",
        "escalate",
    ),
]


@pytest.mark.parametrize("exc_type,message,category,remediation", CORPUS_MESSAGES)
def test_corpus_message_shapes(exc_type, message, category, remediation):
    result = triage(Evidence(event_id="e", error=ErrorInfo(type=exc_type, message=message)))
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_generic_word_still_classifies_when_nothing_specific_matches():
    result = triage(Evidence(event_id="e", error=ErrorInfo(type="RuntimeError", message="the export is truncated")))
    assert result.category == Category.DATA_MALFORMED


SETTINGS_TB = """Traceback (most recent call last):
  File "/tmp/pipeline-53q4otyr/repo/app/main.py", line 3, in <module>
    settings = load_settings()
               ^^^^^^^^^^^^^^^
  File "/tmp/pipeline-53q4otyr/repo/app/config.py", line 7, in load_settings
    with open(path, encoding="utf-8") as handle:
         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: '{path}'
"""


@pytest.mark.parametrize(
    "path,function,category",
    [
        ("config/prod.json", "load_settings", "config.missing"),  # py_settings_file_missing: folder and loader
        ("prod.json", "load_settings", "config.missing"),  # only the loader says it
        ("settings_prod.json", "run", "config.missing"),  # only the name says it
        ("landing/orders.json", "run", "upstream.failed"),  # an input produced elsewhere
    ],
)
def test_missing_config_file_vs_missing_input(path, function, category):
    text = SETTINGS_TB.format(path=path).replace("in load_settings", f"in {function}")
    result, _ = run_triage(text, None)
    assert result.category.value == category, result.rationale


# --- a missing name is patchable only with a unique *close* replacement ------------------------

SPARK_UNRESOLVED = (
    "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `{missing}` "
    "cannot be resolved. Did you mean one of the following? [{names}]. SQLSTATE: 42703;"
)


@pytest.mark.parametrize(
    "exc_type,message,remediation",
    [
        # dbt_source_table_missing: the only other table is suggested; refunds are not orders
        (
            "dbt Runtime Error",
            'Catalog Error: Table with name raw_refunds does not exist!\nDid you mean "raw_orders"?',
            "escalate",
        ),
        # spark_unresolved_column: one candidate keeps the name without its qualifier
        (
            "pyspark.errors.exceptions.captured.AnalysisException",
            SPARK_UNRESOLVED.format(missing="amount_eur", names="`amount`, `country`, `order_id`, `customer_id`"),
            "patch",
        ),
        # the held-out shape: a shared token is not a replacement
        (
            "pyspark.errors.exceptions.captured.AnalysisException",
            SPARK_UNRESOLVED.format(missing="unit_cost", names="`cost_eur`, `price`, `sku`"),
            "escalate",
        ),
        # py_duckdb_binder_column: only customer_id abbreviates to cust_id
        (
            "_duckdb.BinderException",
            'Binder Error: Referenced column "cust_id" not found in FROM clause!\n'
            'Candidate bindings: "customer_id", "order_id", "amount"',
            "patch",
        ),
        # two close candidates: no unique replacement
        (
            "_duckdb.BinderException",
            'Binder Error: Referenced column "cust_id" not found in FROM clause!\n'
            'Candidate bindings: "customer_id", "cust_ids"',
            "escalate",
        ),
    ],
)
def test_replacement_must_be_unique_and_close(exc_type, message, remediation):
    result = triage(Evidence(event_id="e", error=ErrorInfo(type=exc_type, message=message)))
    assert result.category.value.startswith("schema.")
    assert result.remediation.value == remediation, result.rationale


@pytest.mark.parametrize(
    "missing,candidate,close",
    [
        ("stg_order", "stg_orders", True),
        ("orderz", "orders", True),
        ("cust_id", "customer_id", True),
        ("order_dt", "order_date", True),
        ("amount_eur", "amount", True),
        ("customerid", "customer_id", True),
        ("order_dt", "order_id", False),  # a shared prefix makes whole names look alike
        ("raw_refunds", "raw_orders", False),
        ("unit_cost", "cost_eur", False),
        ("order_id", "id", False),
    ],
)
def test_close_names(missing, candidate, close):
    from patchit_provider.engine.triage.replacement import is_close

    assert is_close(missing, candidate) is close


DBT_MISSING_REF = (
    "Model 'model.shop.fct_orders' (models/marts/fct_orders.sql) depends on a node named "
    "'stg_order' which was not found"
)


def _dbt_repo(root: Path, models: list[str]) -> Path:
    (root / "dbt_project.yml").write_text('name: shop\nmodel-paths: ["models"]\nseed-paths: ["seeds"]\n')
    for rel in ["models/marts/fct_orders.sql", "seeds/raw_orders.csv", *models]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("select 1\n")
    return root


def _dbt_evidence(root: Path | None) -> Evidence:
    error = ErrorInfo(
        type="dbt Compilation Error",
        message=DBT_MISSING_REF,
        frames=[Frame(path="models/marts/fct_orders.sql", function="fct_orders")],
    )
    return Evidence(
        event_id="e",
        error=error,
        repo={"root": str(root)} if root else None,
        mapped_frames=error.frames if root else [],
    )


def test_dbt_missing_ref_with_a_unique_model_typo_is_patchable(tmp_path):
    """dbt_missing_ref_typo: the repository's models name the replacement; triage records it."""
    root = _dbt_repo(tmp_path, ["models/staging/stg_orders.sql", "models/staging/stg_customers.sql"])
    result = triage(_dbt_evidence(root))
    assert (result.category.value, result.remediation.value) == ("schema.missing_relation", "patch")
    assert "`stg_order` -> `stg_orders`" in result.rationale
    assert "replacement: stg_order -> stg_orders (models/staging/stg_orders.sql)" in result.evidence_lines
    assert triage(_dbt_evidence(None)).remediation.value == "escalate"  # no repository, no candidates


def test_dbt_missing_ref_with_two_close_models_escalates(tmp_path):
    root = _dbt_repo(tmp_path, ["models/staging/stg_orders.sql", "models/staging/stg_orderz.sql"])
    assert triage(_dbt_evidence(root)).remediation.value == "escalate"


# --- culprit without an in-repository frame: the pipeline's file ------------------------------


def _af3_log(exc_type: str, message: str) -> str:
    """The shape of af3_template_undefined's log: Airflow names the DAG file, every frame of the
    error is Airflow's own code."""
    ids = '"task_id":"export_table","run_id":"scheduled__2024-01-01T00:00:00+00:00","dag_id":"table_export"'
    frame = '{"filename":"/opt/venv/lib/python3.11/site-packages/airflow/sdk/definitions/_internal/templater.py","lineno":189,"name":"_do_render_template_fields"}'
    return "\n".join(
        [
            '{"timestamp":"2026-11-22T19:32:46.240017Z","level":"info","event":"Filling up the DagBag from '
            '/tmp/airflow-home-zts2fzcm/dags/table_export_dag.py",'
            + ids
            + ',"logger":"airflow.dag_processing.dagbag.BundleDagBag"}',
            '{"timestamp":"2026-11-22T19:32:46.303776Z","level":"info","event":"Worker startup parse complete",'
            '"dag_file":"table_export_dag.py",' + ids + ',"logger":"task"}',
            '{"timestamp":"2026-11-22T19:32:46.331172Z","level":"error","event":"Task failed with exception",'
            + ids
            + ',"logger":"task","error_detail":[{"exc_type":"'
            + exc_type
            + '","exc_value":'
            + json.dumps(message)
            + ',"exc_notes":[],"syntax_error":null,"is_cause":false,"frames":['
            + frame
            + "]}]}",
        ]
    )


@pytest.mark.parametrize(
    "exc_type,message,culprit",
    [
        ("UndefinedError", "'dict object' has no attribute 'table_name'", "table_export_dag.py"),  # fix is in the DAG
        (
            "AirflowSensorTimeout",
            "Sensor has timed out; run duration of 60.21 seconds exceeds the specified timeout of 60.0.",
            None,
        ),
    ],
)
def test_culprit_falls_back_to_the_dag_file_the_log_names(tmp_path, exc_type, message, culprit):
    (tmp_path / "table_export_dag.py").write_text("from airflow.sdk import DAG\n")
    result, evidence = run_triage(_af3_log(exc_type, message), tmp_path)
    assert (result.culprit.path if result.culprit else None) == culprit
    assert result.culprit is None or result.culprit.line is None
    assert [s.path for s in evidence.code_context] == ["table_export_dag.py"]


def test_culprit_falls_back_to_the_events_code_path(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "export.py").write_text("x = 1\n")
    event = FailureEvent(
        pipeline_id="export",
        run_id="r",
        code_path="/opt/airflow/dags/repo/dags/export.py",
        error=ErrorInfo(type="UndefinedError", message="'ds_nodash_x' is undefined"),
    )
    result = triage(collect_evidence(event, tmp_path, PatchitSettings()))
    assert result.category == Category.CONFIG_TEMPLATE
    assert (result.culprit.path, result.culprit.line) == ("dags/export.py", None)
