"""A corpus of real-format secrets: none may survive; ordinary log text must."""

from __future__ import annotations

import base64
import secrets

import pytest
from pydantic import BaseModel

from patchit_provider.engine import redaction
from patchit_provider.engine.models import ErrorInfo, Evidence
from patchit_provider.engine.redaction import redact, redact_obj, register_extra_redactor

AWS_KEY = "AKIA" + "Q3EGRTWZ7XK2PLM4"
GH = "ghp_" + "x7Kd92LmQpZr4TvW8nYb3HcJ6sFa1GeUoP0i"
GH_PAT = "github_pat_11ABCDEFG0" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3jK5mN7pQ9sT1vX3zA5cE7gH9jK1mN3pQ5sT7"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
RANDOM = secrets.token_urlsafe(32)
B64 = base64.b64encode(secrets.token_bytes(30)).decode()

CORPUS = [
    (f"aws_access_key_id = {AWS_KEY}", AWS_KEY),
    (f"export AWS_SECRET_ACCESS_KEY={B64}", B64),
    (f"git push https://{GH}@github.com/org/repo.git", GH),
    (f"token: {GH_PAT}", GH_PAT),
    (f"slack client init {SLACK}", SLACK),
    (f"Authorization: Bearer {JWT}", JWT),
    (f"jwt={JWT}", JWT),
    ("postgresql://etl_user:Sup3r$ecret!@db.prod.internal:5432/sales", "Sup3r$ecret!"),
    ("mysql+pymysql://root:hunter2@10.0.0.5/app", "hunter2"),
    ("AIRFLOW_CONN_ORDERS_DB='postgres://u:p%40ss%2Fw0rd@host:5432/db'", "p%40ss%2Fw0rd"),
    ("password=correct-horse-battery", "correct-horse-battery"),
    ('{"api_key": "live_51Hx9a8b7c6d5e4f3g2h1"}', "live_51Hx9a8b7c6d5e4f3g2h1"),
    ("client_secret: 'my client secret with spaces'", "my client secret with spaces"),
    ("conn = connect(user='bob', password='pa55w0rd')", "pa55w0rd"),
    ("DB_PASSWORD: s3cr3tValue", "s3cr3tValue"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA=="),
    ("https://bucket.s3.amazonaws.com/file.csv?X-Amz-Signature=abcdef0123456789&X-Amz-Credential=AKIDEXAMPLE", "abcdef0123456789"),
    (f"unexplained blob {RANDOM} in output", RANDOM),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"),
    ("key file:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n(truncated)", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
]


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
