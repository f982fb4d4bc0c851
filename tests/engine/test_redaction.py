"""A corpus of real-format secrets: none may survive; ordinary log text must."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from patchit_provider.engine import redaction
from patchit_provider.engine.models import ErrorInfo, Evidence
from patchit_provider.engine.redaction import redact, redact_obj, register_extra_redactor

from secret_corpus import AWS_KEY, CORPUS, GH


@pytest.mark.parametrize("text,secret", CORPUS)
def test_no_secret_survives(text, secret):
    out, count = redact(text)
    assert secret not in out
    assert count >= 1
    assert "***" in out


def test_whole_corpus_in_one_log():
    text = "\n".join(t for t, _ in CORPUS)
    out, count = redact(text)
    assert not [s for _, s in CORPUS if s in out]
    assert count >= len(CORPUS)


HARMLESS = [
    "Traceback (most recent call last):",
    '  File "/opt/airflow/dags/repo/etl/transform_customer_orders_v2.py", line 42, in transform',
    "KeyError: 'customer_id'",
    "NameError: name 'totl' is not defined. Did you mean: 'total'?",
    "commit 3f2c41d07a6e3b55aa90de1123456789abcdef01 (HEAD -> main)",
    "sha256 9f2c41d07a6e3b55aa90de1123456789abcdef0123456789abcdef0123456789",
    "run_id=manual__2024-01-01T00:00:00+00:00 try_number=2",
    "pandas.errors.ParserError: Error tokenizing data. C error: Expected 3 fields in line 5, saw 4",
    "event 123e4567-e89b-12d3-a456-426614174000 received",
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed",
    "token expired for user bob",
    "password authentication failed for user \"etl\"",
    "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py",
    "TestCustomerOrdersTransformation2024 passed",
    "password=None",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_untouched(text):
    assert redact(text) == (text, 0)


def test_redaction_is_idempotent():
    once, _ = redact("\n".join(t for t, _ in CORPUS))
    assert redact(once) == (once, 0)


def test_redact_obj_nested_and_models():
    class Box(BaseModel):
        conf: dict
        items: list

    box = Box(conf={"password": "x", "nested": {"url": "postgresql://u:pw12345@h/db"}}, items=[("token", GH)])
    red, count = redact_obj(box)
    assert isinstance(red, Box) and red is not box
    assert red.conf["password"] == "***"
    assert "pw12345" not in red.conf["nested"]["url"]
    assert GH not in str(red.items)
    assert count == 3
    assert box.conf["password"] == "x"  # a copy: the original is untouched


def test_redact_obj_evidence_round_trip():
    ev = Evidence(event_id="e1", error=ErrorInfo(type="ValueError", message=f"bad key {AWS_KEY}"))
    red, count = redact_obj(ev)
    assert isinstance(red, Evidence) and AWS_KEY not in red.model_dump_json() and count == 1


def test_extra_redactor_hook():
    unregister = register_extra_redactor(lambda s: s.replace("internal-codename", "***"))
    try:
        out, count = redact("deploying internal-codename now")
        assert out == "deploying *** now" and count == 1
    finally:
        unregister()
    assert redact("deploying internal-codename now")[1] == 0


def test_broken_extra_redactor_is_ignored():
    def boom(_: str) -> str:
        raise RuntimeError("masker broke")

    unregister = register_extra_redactor(boom)
    try:
        assert redact("password=abc")[0] == "password=***"
    finally:
        unregister()
    assert boom not in redaction._extra


def test_truncated_key_block_loses_only_its_key_lines():
    text = "key file:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n" \
           "Traceback (most recent call last):\n  File \"/srv/etl/job.py\", line 3, in <module>\nNameError: name 'x' is not defined\n"
    out, _ = redact(text)
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in out
    assert "Traceback (most recent call last):" in out and "NameError: name 'x' is not defined" in out
