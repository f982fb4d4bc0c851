"""A corpus of real-format secrets, each with the part that must never leave PATCHIT."""

from __future__ import annotations

import base64
import secrets

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
