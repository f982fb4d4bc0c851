"""collect_evidence on real logs and repos: mapping, code context, git history, redaction, and
no exception escaping on bad input."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import git
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "logs"))
import realfail  # noqa: E402

from patchit_provider.engine.evidence import collect_evidence  # noqa: E402
from patchit_provider.engine.models import ErrorInfo, FailureEvent, Frame  # noqa: E402
from patchit_provider.engine.settings import PatchitSettings  # noqa: E402

SETTINGS = PatchitSettings()
JOB = """\
import os


def load(rows):
    api = "postgresql://etl:Hunter2-pw@db.internal:5432/sales"
    return [row["customer_id"] for row in rows]


load([{"id": 1}])
"""


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "etl").mkdir(parents=True)
    (root / "etl" / "job.py").write_text(JOB)
    r = git.Repo.init(root)
    with r.config_writer() as cw:
        cw.set_value("user", "name", "Dev").set_value("user", "email", "dev@example.com")
    dev = git.Actor("Dev", "dev@example.com")  # explicit: GIT_AUTHOR_* in the environment would win over config
    r.index.add(["etl/job.py"])
    r.index.commit("add job", author=dev, committer=dev)
    (root / "etl" / "job.py").write_text(JOB.replace("rows]", "rows]  # ids"))
    r.index.add(["etl/job.py"])
    r.index.commit("rename id column", author=dev, committer=dev)
    return root


def event(**kw) -> FailureEvent:
    return FailureEvent(platform="generic", pipeline_id="cli", run_id="cli", **kw)


def test_from_a_real_traceback_file(repo, tmp_path):
    text = realfail.run_python(repo, "etl/job.py", {})
    log = tmp_path / "task.log"
    log.write_text("INFO starting\n" + text.replace(str(repo), "/opt/airflow/dags/repo"))
    ev = collect_evidence(event(log_uri=log.as_uri()), repo, SETTINGS)
    assert ev.error.type == "KeyError"
    assert [f.path for f in ev.mapped_frames] == ["etl/job.py", "etl/job.py", "etl/job.py"]
    assert ev.mapped_frames[-1].line == 6
    snippet = ev.code_context[0]
    assert snippet.path == "etl/job.py" and snippet.focus_line == 6
    assert any('row["customer_id"]' in line for line in snippet.lines)
    assert len(ev.recent_changes) == 2 and "rename id column" in ev.recent_changes[0]
    assert ev.repo.head and len(ev.repo.head) == 40 and ev.repo.branch in ("master", "main")
    assert ev.log_format == "python_traceback"
    assert "Hunter2-pw" not in ev.model_dump_json()
    assert ev.redactions >= 1


def test_live_error_takes_precedence_and_log_gives_excerpt(repo):
    live = ErrorInfo(
        type="NameError",
        message="name 'totl' is not defined",
        traceback="Traceback (most recent call last):\n  File \"/w/etl/job.py\", line 6, in load\n    x\nNameError: name 'totl' is not defined. Did you mean: 'total'?",
    )
    ev = collect_evidence(event(error=live, log_text="INFO a\nERROR something else\nValueError: other"), repo, SETTINGS)
    assert ev.error.type == "NameError"
    assert ev.mapped_frames[0].path == "etl/job.py"  # frames parsed from the live traceback text
    assert "Did you mean" in ev.error.traceback
    assert "ValueError: other" in ev.log_excerpt


def test_stdin_stream(repo):
    text = realfail.run_python(repo, "etl/job.py", {})
    ev = collect_evidence(event(log_uri="-"), repo, SETTINGS, log_stream=io.BytesIO(text.encode()))
    assert ev.error.type == "KeyError" and ev.mapped_frames


@pytest.mark.parametrize(
    "kwargs,note",
    [
        ({"log_uri": "/nonexistent/attempt=1.log"}, "does not exist"),
        ({"log_uri": "s3://bucket/logs/attempt=1.log"}, "not a local file"),
        ({}, "no exception found"),
    ],
)
def test_bad_inputs_become_notes(repo, kwargs, note):
    ev = collect_evidence(event(**kwargs), repo, SETTINGS)
    assert any(note in n for n in ev.notes), ev.notes


def test_non_utf8_and_binary_log(tmp_path):
    log = tmp_path / "bin.log"
    log.write_bytes(
        b"\xff\xfe\x00garbage\x1b[31m\nTraceback (most recent call last):\n  File \"/x/a.py\", line 1, in f\nKeyError: 'caf\xe9'\n"
    )
    ev = collect_evidence(event(log_uri=str(log)), None, SETTINGS)
    assert ev.error.type == "KeyError" and "\ufffd" in ev.error.message
    assert ev.mapped_frames == [] and ev.repo is None


def test_repo_without_commits_and_missing_root(tmp_path):
    git.Repo.init(tmp_path / "empty")
    (tmp_path / "empty" / "a.py").write_text("x = 1\n")
    err = ErrorInfo(type="ValueError", message="x", frames=[Frame(path="/w/a.py", line=1, function="f")])
    ev = collect_evidence(event(error=err), tmp_path / "empty", SETTINGS)
    assert ev.repo.head is None and any("HEAD" in n for n in ev.notes)
    assert ev.recent_changes == []
    ev2 = collect_evidence(event(error=err), tmp_path / "missing", SETTINGS)
    assert ev2.repo is None and any("not a directory" in n for n in ev2.notes)


def test_frame_line_beyond_file_end(repo):
    err = ErrorInfo(type="ValueError", message="x", frames=[Frame(path="/w/etl/job.py", line=500, function="f")])
    ev = collect_evidence(event(error=err), repo, SETTINGS)
    assert ev.code_context == [] and any("no line 500" in n for n in ev.notes)


def test_huge_log_text_is_bounded(repo):
    big = "INFO filler line\n" * 200_000 + "KeyError: 'x'\n"
    ev = collect_evidence(event(log_text=big), repo, SETTINGS)
    assert len(ev.log_excerpt) < 50_000


def test_pipeline_file_when_no_frame_is_in_the_repository(repo):
    """A template rendered by Airflow's own code: the event's code_path (the DAG's fileloc) is the
    repository file shown, with its history; no focus line (the line is not known)."""
    error = ErrorInfo(
        type="UndefinedError",
        message="'dict object' has no attribute 'table_name'",
        frames=[Frame(path="/venv/lib/python3.11/site-packages/airflow/sdk/bases/operator.py", line=1)],
    )
    ev = collect_evidence(event(error=error, code_path="/opt/airflow/dags/repo/etl/job.py"), repo, SETTINGS)
    assert ev.mapped_frames == []
    assert [(s.path, s.start_line, s.focus_line) for s in ev.code_context] == [("etl/job.py", 1, None)]
    assert "rename id column" in ev.recent_changes[0]
    assert any("defines the pipeline" in n for n in ev.notes)
    plain = collect_evidence(event(error=error), repo, SETTINGS)
    assert plain.code_context == [] and plain.recent_changes == []


# --- recent changes of the failing lines, packages, input peeks, dbt artifacts, groups ---------

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

from patchit_provider.engine import dbt_artifacts  # noqa: E402
from patchit_provider.engine.triage import triage  # noqa: E402

DBT_FIXTURE = Path(__file__).parent / "fixtures" / "dbt"
SCENARIO = (
    Path(__file__).parents[2]
    / "benchmarks"
    / "corpus"
    / "scenarios"
    / "main"
    / "dbt_fct_orders_missing_column"
    / "repo"
)


def test_blame_of_the_culprit_lines(repo, tmp_path):
    text = realfail.run_python(repo, "etl/job.py", {})
    ev = collect_evidence(event(log_text=text), repo, SETTINGS)
    assert [b.line for b in ev.blame] == [4, 5, 6, 7, 8]
    focus = next(b for b in ev.blame if b.line == 6)
    assert focus.summary == "rename id column" and focus.author == "Dev" and len(focus.commit) == 12
    assert focus.date[:4].isdigit() and "customer_id" in focus.code
    assert next(b for b in ev.blame if b.line == 4).summary == "add job"
    assert "Hunter2-pw" not in ev.model_dump_json()  # line 5 holds a password: redacted


def test_blame_near_the_end_and_uncommitted_lines(repo):
    (repo / "etl" / "job.py").write_text(JOB + "x = 1\n")  # not committed
    live = ErrorInfo(type="NameError", message="x", frames=[Frame(path=str(repo / "etl" / "job.py"), line=10)])
    ev = collect_evidence(event(error=live), repo, SETTINGS)
    assert [b.line for b in ev.blame] == [8, 9, 10] and ev.blame[-1].author == "(not committed yet)"


CSV_JOB = {
    "etl/load.py": """
    import pandas as pd

    def load():
        return pd.read_csv("data/orders.csv")

    load()
    """,
}


def test_packages_and_header_peek_from_a_real_pandas_error(tmp_path):
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    rows = "order_id,amount,customer\n1,2.5,a\n2,3.5,b,EXTRA\npostgresql://etl:Hunter2-pw@db.internal:5432/sales,1,2\n"
    (root / "data" / "orders.csv").write_text(rows + "9,9.9,z\n" * 200_000)
    text = realfail.run_python(root, "etl/load.py", CSV_JOB)
    assert "ParserError" in text and "site-packages/pandas" in text
    ev = collect_evidence(event(log_text=text), root, SETTINGS)
    assert ev.error.type == "pandas.errors.ParserError"
    import pandas

    assert ev.packages.get("pandas") == pandas.__version__
    assert all(name != "python" for name in ev.packages)
    [peek] = ev.input_peeks
    assert peek.path == "data/orders.csv" and peek.kind == "csv"
    assert peek.columns == ["order_id", "amount", "customer"]
    assert len(peek.header) == 3 and peek.size > 1_000_000
    assert "Hunter2-pw" not in ev.model_dump_json()
    assert triage(ev).category.value == "data.malformed"


def test_no_peek_at_a_missing_file_and_parquet_without_pyarrow(tmp_path):
    root = tmp_path / "repo"
    text = realfail.run_python(root, "etl/load.py", CSV_JOB)  # data/orders.csv does not exist
    assert "FileNotFoundError" in text
    assert collect_evidence(event(log_text=text), root, SETTINGS).input_peeks == []
    (root / "data").mkdir()
    (root / "data" / "orders.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    error = ErrorInfo(type="ValueError", message="could not convert string to float: 'n/a' in data/orders.parquet")
    ev = collect_evidence(event(error=error), root, SETTINGS)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert ev.input_peeks == [] and not any("parquet" in n for n in ev.notes)
    else:
        assert ev.input_peeks[0].kind == "parquet"


def _dbt_repo(tmp_path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(DBT_FIXTURE / "models", root / "dbt" / "models")
    shutil.copy(DBT_FIXTURE / "dbt_project.yml", root / "dbt")
    return root


def test_dbt_artifacts_without_a_log(tmp_path):
    root = _dbt_repo(tmp_path)  # the dbt project in a folder of the repository
    uris = [(DBT_FIXTURE / "run_results.json").as_uri(), str(DBT_FIXTURE / "manifest.json")]
    ev = collect_evidence(event(artifact_uris=uris), root, SETTINGS)
    [node] = ev.dbt_nodes
    assert node.unique_id == "model.shop.fct_orders" and node.status == "error"
    assert node.path == "dbt/models/marts/fct_orders.sql"
    assert node.depends_on == ["model.shop.stg_orders", "model.shop.stg_customers"]
    assert 'from "shop"."main"."stg_customers"' in node.compiled_sql and "customers.segment" in node.compiled_sql
    assert ev.error.type == "dbt Runtime Error" and "Binder Error" in ev.error.message
    assert [f.path for f in ev.mapped_frames] == ["dbt/models/marts/fct_orders.sql"]
    result = triage(ev)
    assert result.category.value == "schema.missing_column"
    assert result.culprit.path == "dbt/models/marts/fct_orders.sql"


def test_dbt_manifest_only_completes_the_logged_node_and_size_cap(tmp_path, monkeypatch):
    root = _dbt_repo(tmp_path)
    log = (
        Path(__file__).parents[2] / "benchmarks" / "corpus" / "cases" / "dbt_fct_orders_missing_column" / "log"
    ).read_text()
    ev = collect_evidence(event(log_text=log, artifact_uris=[str(DBT_FIXTURE / "manifest.json")]), root, SETTINGS)
    assert [n.unique_id for n in ev.dbt_nodes] == ["model.shop.fct_orders"] and ev.dbt_nodes[0].status == "unknown"
    monkeypatch.setattr(dbt_artifacts, "MAX_ARTIFACT_BYTES", 100)
    ev = collect_evidence(event(artifact_uris=[str(DBT_FIXTURE)]), root, SETTINGS)  # a folder is searched
    assert ev.dbt_nodes == [] and sum("byte cap" in n for n in ev.notes) == 2


def test_dbt_real_run_artifacts(tmp_path):
    pytest.importorskip(
        "dbt.adapters.duckdb", reason="dbt-duckdb is not installed (the test extra installs it): no real dbt run"
    )
    dbt = Path(sys.executable).with_name("dbt")
    if not dbt.exists():
        pytest.skip("no dbt executable next to the interpreter")
    root = tmp_path / "shop"
    shutil.copytree(SCENARIO, root)
    env = {**os.environ, "DBT_PROFILES_DIR": str(root), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(
        [str(dbt), "--no-use-colors", "build", "--select", "+fct_orders"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "Binder Error" in proc.stdout
    results = json.loads((root / "target" / "run_results.json").read_text())
    assert any(r["status"] == "error" for r in results["results"])
    ev = collect_evidence(event(log_text=proc.stdout, artifact_uris=[(root / "target").as_uri()]), root, SETTINGS)
    node = next(n for n in ev.dbt_nodes if n.unique_id == "model.shop.fct_orders")
    assert node.path == "models/marts/fct_orders.sql" and "model.shop.stg_customers" in node.depends_on
    assert "customers.segment" in node.compiled_sql
    assert triage(ev).culprit.path == "models/marts/fct_orders.sql"


def test_exception_group_leaf_drives_triage(tmp_path):
    root = tmp_path / "repo"
    text = realfail.run_python(
        root,
        "etl/steps.py",
        {
            "etl/steps.py": """
    def parse(value):
        return int(value)

    errors = []
    for value in ("12", "abc"):
        try:
            parse(value)
        except ValueError as exc:
            errors.append(exc)
    raise ExceptionGroup("parsing failed", errors)
    """
        },
    )
    ev = collect_evidence(event(log_text=text), root, SETTINGS)
    assert ev.error.type == "ValueError" and ev.mapped_frames[-1].function == "parse"
    assert triage(ev).category.value == "data.type_mismatch"
