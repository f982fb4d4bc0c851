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
JOB = '''\
import os


def load(rows):
    api = "postgresql://etl:Hunter2-pw@db.internal:5432/sales"
    return [row["customer_id"] for row in rows]


load([{"id": 1}])
'''


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "etl").mkdir(parents=True)
    (root / "etl" / "job.py").write_text(JOB)
    r = git.Repo.init(root)
    with r.config_writer() as cw:
        cw.set_value("user", "name", "Dev").set_value("user", "email", "dev@example.com")
    r.index.add(["etl/job.py"])
    r.index.commit("add job")
    (root / "etl" / "job.py").write_text(JOB.replace("rows]", "rows]  # ids"))
    r.index.add(["etl/job.py"])
    r.index.commit("rename id column")
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
        traceback='Traceback (most recent call last):\n  File "/w/etl/job.py", line 6, in load\n    x\nNameError: name \'totl\' is not defined. Did you mean: \'total\'?',
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
    log.write_bytes(b"\xff\xfe\x00garbage\x1b[31m\nTraceback (most recent call last):\n  File \"/x/a.py\", line 1, in f\nKeyError: 'caf\xe9'\n")
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
    error = ErrorInfo(type="UndefinedError", message="'dict object' has no attribute 'table_name'",
                      frames=[Frame(path="/venv/lib/python3.11/site-packages/airflow/sdk/bases/operator.py", line=1)])
    ev = collect_evidence(event(error=error, code_path="/opt/airflow/dags/repo/etl/job.py"), repo, SETTINGS)
    assert ev.mapped_frames == []
    assert [(s.path, s.start_line, s.focus_line) for s in ev.code_context] == [("etl/job.py", 1, None)]
    assert "rename id column" in ev.recent_changes[0]
    assert any("defines the pipeline" in n for n in ev.notes)
    plain = collect_evidence(event(error=error), repo, SETTINGS)
    assert plain.code_context == [] and plain.recent_changes == []
