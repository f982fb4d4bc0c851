"""Secret and benign corpora for redaction: every secret is freshly random at test time.

`FORMATS`: >= 100 real secret formats, each a function giving (line as it appears in the wild,
the part that must never leave PATCHIT). `PLACEMENTS` put a line where PATCHIT meets it: an
Airflow 2 text log, an Airflow 3 JSON record (as the event and as record fields), dbt output,
a traceback with locals, a `CalledProcessError`, a repository file, a URI. `BENIGN`: >= 50
look-alikes that must stay readable. `CORPUS` (text, secret) keeps the older tests' shape.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
import string
import uuid
from typing import Callable

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"


def rnd(alphabet: str, n: int) -> str:
    """Random text that is mixed enough to be a real token (at least two digits and letters)."""
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(n))
        if n < 8:
            return value
        letters = sum(c.isalpha() for c in value)
        digits = sum(c.isdigit() for c in value)
        if (digits >= 2 or not set(alphabet) & set(DIGITS)) and (
            letters >= 2 or not set(alphabet) & set(LOWER + UPPER)
        ):
            return value


def pw(n: int = 14) -> str:
    """A password as people pick them: letters, digits and a symbol no quoting rule cares about."""
    return rnd(ALNUM, n - 2) + secrets.choice("!%^*+~") + rnd(DIGITS, 1)


def b64(n_bytes: int) -> str:
    return base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def _pem(kind: str) -> tuple[str, str]:
    body = [b64(48) for _ in range(4)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(body) + f"\n-----END {kind}-----", body[1]


Format = Callable[[], tuple[str, str]]


def _f(line: str, secret: str) -> tuple[str, str]:
    return line, secret


def _jwt() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = (
        base64.urlsafe_b64encode(json.dumps({"sub": rnd(DIGITS, 10), "n": rnd(ALNUM, 8)}).encode()).decode().rstrip("=")
    )
    return f"{head}.{body}.{rnd(URLSAFE, 43)}"


FORMATS: dict[str, Format] = {}


def fmt(name: str):
    def register(fn: Format) -> Format:
        FORMATS[name] = fn
        return fn

    return register


# --- cloud providers ---------------------------------------------------------------------------
fmt("aws_access_key_id")(lambda: (lambda s: _f(f"aws_access_key_id = {s}", s))("AKIA" + rnd(UPPER + DIGITS, 16)))
fmt("aws_secret_access_key")(lambda: (lambda s: _f(f"export AWS_SECRET_ACCESS_KEY={s}", s))(rnd(B64, 40)))
fmt("aws_session_token")(lambda: (lambda s: _f(f"AWS_SESSION_TOKEN={s}", s))(rnd(B64, 120)))
fmt("aws_sts_asia")(lambda: (lambda s: _f(f"assumed role credentials {s}", s))("ASIA" + rnd(UPPER + DIGITS, 16)))
fmt("aws_presigned_signature")(
    lambda: (lambda s: _f(f"GET https://b.s3.amazonaws.com/k.csv?X-Amz-Expires=900&X-Amz-Signature={s}", s))(
        rnd(HEX, 64)
    )
)
fmt("google_api_key")(lambda: (lambda s: _f(f"maps client key {s}", s))("AIza" + rnd(URLSAFE, 35)))
fmt("google_oauth_ya29")(lambda: (lambda s: _f(f"using credentials {s} for bigquery", s))("ya29." + rnd(URLSAFE, 120)))
fmt("google_refresh_token")(lambda: (lambda s: _f(f"refresh {s}", s))("1//0" + rnd(URLSAFE, 60)))
fmt("gcp_service_account_key")(
    lambda: (lambda pem: _f(json.dumps({"type": "service_account", "private_key": pem[0]}), pem[1]))(
        _pem("PRIVATE KEY")
    )
)
fmt("gcs_signed_url")(
    lambda: (
        lambda s: _f(
            f"downloading https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={s}", s
        )
    )(rnd(HEX, 128))
)
fmt("azure_storage_account_key")(
    lambda: (
        lambda s: _f(
            f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net", s
        )
    )(b64(66))
)
fmt("azure_sas_token")(
    lambda: (lambda s: _f(f"https://acme.blob.core.windows.net/c/f.parquet?sv=2022-11-02&ss=b&sig={s}", s))(
        rnd(ALNUM, 43) + "%3D"
    )
)
fmt("azure_client_secret")(
    lambda: (lambda s: _f(f"AZURE_CLIENT_SECRET={s}", s))(rnd(ALNUM, 6) + "~" + rnd(ALNUM + "._", 33))
)
fmt("azure_servicebus_key")(
    lambda: (
        lambda s: _f(f"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}", s)
    )(b64(32))
)
fmt("azure_devops_pat_url")(
    lambda: (lambda s: _f(f"git clone https://{s}@dev.azure.com/acme/etl/_git/pipelines", s))(rnd(LOWER + DIGITS, 52))
)
fmt("azure_devops_pat_userinfo")(
    lambda: (lambda s: _f(f"remote: https://acme:{s}@dev.azure.com/acme/etl/_git/dags", s))(rnd(LOWER + DIGITS, 52))
)
fmt("databricks_token")(
    lambda: (lambda s: _f(f"DATABRICKS_HOST=https://adb-1.azuredatabricks.net client token {s}", s))(
        "dapi" + rnd(HEX, 32)
    )
)
fmt("snowflake_url_password")(lambda: (lambda s: _f(f"snowflake://etl:{s}@acme-xy12345/analytics/public", s))(pw()))
fmt("digitalocean_token")(lambda: (lambda s: _f(f"doctl auth init -t {s}", s))("dop_v1_" + rnd(HEX, 64)))
fmt("heroku_api_key")(lambda: (lambda s: _f(f"HEROKU_API_KEY={s}", s))(str(uuid.uuid4())))
fmt("ibm_cloud_iam")(lambda: (lambda s: _f(f'ibm_cloud_iam_key = "{s}"', s))(rnd(URLSAFE, 44)))
# --- source forges and CI ----------------------------------------------------------------------
for _p in ("ghp", "gho", "ghu", "ghs", "ghr"):
    fmt(f"github_{_p}")(
        (
            lambda p: (
                lambda: (lambda s: _f(f"git push https://{s}@github.com/acme/etl.git", s))(f"{p}_" + rnd(ALNUM, 36))
            )
        )(_p)
    )
fmt("github_fine_grained_pat")(
    lambda: (lambda s: _f(f"token: {s}", s))("github_pat_11" + rnd(UPPER + DIGITS, 20) + "_" + rnd(ALNUM, 59))
)
fmt("gitlab_pat")(lambda: (lambda s: _f(f"CI_JOB_TOKEN={s}", s))("glpat-" + rnd(URLSAFE, 20)))
fmt("gitlab_runner_token")(lambda: (lambda s: _f(f"registration {s}", s))("glrt-" + rnd(URLSAFE, 20)))
fmt("gitlab_deploy_token")(lambda: (lambda s: _f(f"using deploy token {s}", s))("gldt-" + rnd(URLSAFE, 20)))
fmt("bitbucket_app_password_url")(
    lambda: (lambda s: _f(f"git fetch https://ci-bot:{s}@bitbucket.org/acme/etl.git", s))(rnd(ALNUM, 20))
)
fmt("npm_token")(lambda: (lambda s: _f(f"//registry.npmjs.org/:_authToken={s}", s))("npm_" + rnd(ALNUM, 36)))
fmt("pypi_token")(lambda: (lambda s: _f(f"twine upload -p {s}", s))("pypi-AgEIcHlwaS5vcmc" + rnd(URLSAFE, 80)))
fmt("pypirc_password")(lambda: (lambda s: _f(f"password = {s}", s))(pw()))
fmt("pip_index_url")(lambda: (lambda s: _f(f"PIP_INDEX_URL=https://build:{s}@pypi.acme.internal/simple", s))(pw()))
fmt("artifactory_api_key")(lambda: (lambda s: _f(f"X-JFrog-Art-Api: {s}", s))("AKCp8" + rnd(ALNUM, 68)))
fmt("docker_login_password")(lambda: (lambda s: _f(f"docker login registry.acme.io -u ci -p {s}", s))(pw()))
fmt("vault_token")(lambda: (lambda s: _f(f"VAULT_TOKEN={s}", s))("hvs." + rnd(URLSAFE, 90)))
fmt("terraform_cloud_token")(
    lambda: (lambda s: _f(f'credentials "app.terraform.io" {{ token = "{s}" }}', s))(
        rnd(ALNUM, 14) + ".atlasv1." + rnd(URLSAFE, 67)
    )
)
fmt("doppler_token")(lambda: (lambda s: _f(f"doppler secrets download --token {s}", s))("dp.st.prd." + rnd(ALNUM, 40)))
# --- SaaS APIs ---------------------------------------------------------------------------------
fmt("slack_bot_token")(
    lambda: (lambda s: _f(f"slack client init {s}", s))(f"xoxb-{rnd(DIGITS, 12)}-{rnd(DIGITS, 13)}-{rnd(ALNUM, 24)}")
)
fmt("slack_user_token")(
    lambda: (lambda s: _f(f"SLACK_TOKEN={s}", s))(
        f"xoxp-{rnd(DIGITS, 12)}-{rnd(DIGITS, 12)}-{rnd(DIGITS, 13)}-{rnd(HEX, 32)}"
    )
)
fmt("slack_app_token")(
    lambda: (lambda s: _f(f"socket mode {s}", s))(f"xapp-1-A{rnd(UPPER + DIGITS, 10)}-{rnd(DIGITS, 13)}-{rnd(HEX, 64)}")
)
fmt("slack_webhook")(
    lambda: (
        lambda s: _f(
            f"POST https://hooks.slack.com/services/T{rnd(UPPER + DIGITS, 8)}/B{rnd(UPPER + DIGITS, 8)}/{s} failed", s
        )
    )(rnd(ALNUM, 24))
)
fmt("discord_webhook")(
    lambda: (lambda s: _f(f"alert sink https://discord.com/api/webhooks/{rnd(DIGITS, 18)}/{s}", s))(rnd(URLSAFE, 68))
)
fmt("discord_bot_token")(
    lambda: (lambda s: _f(f"bot login {s}", s))("M" + rnd(ALNUM, 23) + "." + rnd(URLSAFE, 6) + "." + rnd(URLSAFE, 27))
)
fmt("teams_webhook")(
    lambda: (lambda s: _f(f"teams url https://acme.webhook.office.com/webhookb2/{s}", s))(
        str(uuid.uuid4()) + "@" + str(uuid.uuid4()) + "/IncomingWebhook/" + rnd(HEX, 32)
    )
)
fmt("telegram_bot_token")(lambda: (lambda s: _f(f"notify via {s}", s))(rnd(DIGITS, 10) + ":AA" + rnd(URLSAFE, 33)))
fmt("stripe_secret_key")(lambda: (lambda s: _f(f"stripe.api_key set to {s}", s))("sk_live_" + rnd(ALNUM, 24)))
fmt("stripe_restricted_key")(lambda: (lambda s: _f(f"using {s}", s))("rk_live_" + rnd(ALNUM, 24)))
fmt("stripe_test_key")(lambda: (lambda s: _f(f"STRIPE_KEY {s}", s))("sk_test_" + rnd(ALNUM, 24)))
fmt("stripe_webhook_secret")(lambda: (lambda s: _f(f"signing with {s}", s))("whsec_" + rnd(ALNUM, 32)))
fmt("openai_project_key")(lambda: (lambda s: _f(f"OpenAI(api_key={s!r})", s))("sk-proj-" + rnd(URLSAFE, 48)))
fmt("openai_legacy_key")(
    lambda: (lambda s: _f(f"openai key {s}", s))("sk-" + rnd(ALNUM, 20) + "T3BlbkFJ" + rnd(ALNUM, 20))
)
fmt("anthropic_key")(lambda: (lambda s: _f(f"x-api-key: {s}", s))("sk-ant-api03-" + rnd(URLSAFE, 93) + "AA"))
fmt("huggingface_token")(lambda: (lambda s: _f(f"huggingface_hub.login({s!r})", s))("hf_" + rnd(LOWER + UPPER, 34)))
fmt("twilio_api_key")(lambda: (lambda s: _f(f"twilio api key {s}", s))("SK" + rnd(HEX, 32)))
fmt("twilio_auth_token")(lambda: (lambda s: _f(f"TWILIO_AUTH_TOKEN={s}", s))(rnd(HEX, 32)))
fmt("twilio_client_args")(
    lambda: (lambda s: _f(f"client = Client('AC{rnd(HEX, 32)}', auth_token='{s}')", s))(rnd(HEX, 32))
)
fmt("sendgrid_key")(lambda: (lambda s: _f(f"sendgrid: {s}", s))("SG." + rnd(URLSAFE, 22) + "." + rnd(URLSAFE, 43)))
fmt("mailgun_key")(lambda: (lambda s: _f(f"requests.post(url, auth=('api', '{s}'))", s))("key-" + rnd(HEX, 32)))
fmt("mailgun_new_key")(lambda: (lambda s: _f(f"MAILGUN {s}", s))(f"{rnd(HEX, 32)}-{rnd(HEX, 8)}-{rnd(HEX, 8)}"))
fmt("mailchimp_key")(lambda: (lambda s: _f(f"mailchimp {s}", s))(rnd(HEX, 32) + "-us" + rnd(DIGITS, 2)))
fmt("splunk_hec_header")(
    lambda: (lambda s: _f(f"curl -H 'Authorization: Splunk {s}' https://splunk:8088/services/collector", s))(
        str(uuid.uuid4())
    )
)
fmt("splunk_hec_env")(lambda: (lambda s: _f(f"SPLUNK_HEC_TOKEN={s}", s))(str(uuid.uuid4())))
fmt("datadog_api_key")(lambda: (lambda s: _f(f"DD_API_KEY={s}", s))(rnd(HEX, 32)))
fmt("datadog_header")(lambda: (lambda s: _f(f"DD-API-KEY: {s}", s))(rnd(HEX, 32)))
fmt("newrelic_key")(lambda: (lambda s: _f(f"newrelic {s}", s))("NRAK-" + rnd(UPPER + DIGITS, 27)))
fmt("sentry_dsn")(
    lambda: (lambda s: _f(f"SENTRY_DSN=https://{s}@o{rnd(DIGITS, 6)}.ingest.sentry.io/{rnd(DIGITS, 7)}", s))(
        rnd(HEX, 32)
    )
)
fmt("pagerduty_routing_key")(lambda: (lambda s: _f(f"routing_key: {s}", s))(rnd(HEX, 32)))
fmt("okta_ssws")(lambda: (lambda s: _f(f"Authorization: SSWS {s}", s))("00" + rnd(URLSAFE, 40)))
fmt("atlassian_token")(lambda: (lambda s: _f(f"jira token {s}", s))("ATATT3xFfGF0" + rnd(URLSAFE, 180)))
fmt("shopify_token")(lambda: (lambda s: _f(f"shop admin {s}", s))("shpat_" + rnd(HEX, 32)))
fmt("linear_key")(lambda: (lambda s: _f(f"LINEAR {s}", s))("lin_api_" + rnd(ALNUM, 40)))
fmt("notion_secret")(lambda: (lambda s: _f(f"notion integration {s}", s))("secret_" + rnd(ALNUM, 43)))
fmt("airtable_pat")(lambda: (lambda s: _f(f"airtable {s}", s))("pat" + rnd(ALNUM, 14) + "." + rnd(HEX, 64)))
fmt("grafana_sa_token")(lambda: (lambda s: _f(f"grafana {s}", s))("glsa_" + rnd(ALNUM, 32) + "_" + rnd(HEX, 8)))
fmt("postman_key")(lambda: (lambda s: _f(f"postman {s}", s))("PMAK-" + rnd(HEX, 24) + "-" + rnd(HEX, 34)))
fmt("square_secret")(lambda: (lambda s: _f(f"square {s}", s))("sq0csp-" + rnd(URLSAFE, 43)))
fmt("cloudflare_api_token")(lambda: (lambda s: _f(f"CLOUDFLARE_API_TOKEN={s}", s))(rnd(URLSAFE, 40)))
# --- databases and connection strings ----------------------------------------------------------
fmt("postgres_url")(lambda: (lambda s: _f(f"postgresql://etl_user:{s}@db.prod.internal:5432/sales", s))(pw()))
fmt("mysql_url")(lambda: (lambda s: _f(f"mysql+pymysql://root:{s}@10.0.0.5/app", s))(pw()))
fmt("mongodb_srv")(lambda: (lambda s: _f(f"MONGO_URI=mongodb+srv://app:{s}@cluster0.ab1cd.mongodb.net/db", s))(pw()))
fmt("redis_password_only")(lambda: (lambda s: _f(f"redis://:{s}@cache.internal:6379/0", s))(pw()))
fmt("amqp_url")(lambda: (lambda s: _f(f"broker_url = amqp://celery:{s}@rabbit:5672//", s))(pw()))
fmt("airflow_conn_uri")(lambda: (lambda s: _f(f"AIRFLOW_CONN_ORDERS_DB='postgres://u:{s}@host:5432/db'", s))(pw()))
fmt("airflow_conn_json")(
    lambda: (
        lambda s: _f(
            "AIRFLOW_CONN_WAREHOUSE='" + json.dumps({"conn_type": "postgres", "login": "etl", "password": s}) + "'", s
        )
    )(pw())
)
fmt("airflow_var_secret")(lambda: (lambda s: _f(f"AIRFLOW_VAR_PARTNER_API_KEY={s}", s))(rnd(ALNUM, 32)))
fmt("jdbc_sqlserver")(
    lambda: (lambda s: _f(f"jdbc:sqlserver://db:1433;databaseName=sales;user=sa;password={s};", s))(pw())
)
fmt("odbc_pwd")(lambda: (lambda s: _f(f"DRIVER={{ODBC Driver 18}};SERVER=db;UID=etl;PWD={s};", s))(pw()))
fmt("oracle_sqlplus")(lambda: (lambda s: _f(f"sqlplus scott/{s}@ORCLPDB1 @load.sql", s))(pw()))
fmt("sqlcmd_P")(lambda: (lambda s: _f(f"sqlcmd -S db.internal -U sa -P {s} -i load.sql", s))(pw()))
fmt("mysql_p_flag")(lambda: (lambda s: _f(f"mysqldump -h db -uroot -p{s} sales", s))(pw()))
fmt("pgpassword")(lambda: (lambda s: _f(f"PGPASSWORD={s} psql -h db -U etl", s))(pw()))
fmt("db_pass_env")(lambda: (lambda s: _f(f"DB_PASS={s}", s))(pw()))
fmt("db_password_yaml")(lambda: (lambda s: _f(f"DB_PASSWORD: {s}", s))(pw()))
fmt("dbt_profiles_pass")(lambda: (lambda s: _f(f"      pass: {s}", s))(pw()))
fmt("dbt_profiles_password")(lambda: (lambda s: _f(f'      password: "{s}"', s))(pw()))
fmt("dbt_private_key_passphrase")(lambda: (lambda s: _f(f"      private_key_passphrase: {s}", s))(pw()))
fmt("kafka_sasl_password")(lambda: (lambda s: _f(f"sasl.password={s}", s))(pw()))
fmt("spark_s3a_secret")(lambda: (lambda s: _f(f"--conf spark.hadoop.fs.s3a.secret.key={s}", s))(rnd(B64, 40)))
fmt("spark_azure_account_key")(
    lambda: (lambda s: _f(f"spark.conf.set('fs.azure.account.key.acme.dfs.core.windows.net', '{s}')", s))(b64(64))
)
fmt("ldap_bind_pw")(lambda: (lambda s: _f(f"ldap bind_pw={s}", s))(pw()))
fmt("smtp_password")(lambda: (lambda s: _f(f"smtp_password = {s}", s))(pw()))
fmt("netrc")(lambda: (lambda s: _f(f"machine api.acme.io login etl password {s}", s))(pw()))
# --- commands and code ---------------------------------------------------------------------------
fmt("curl_u")(lambda: (lambda s: _f(f"curl -sf -u admin:{s} https://api.acme.io/v1/export", s))(pw()))
fmt("curl_bearer")(
    lambda: (lambda s: _f(f"curl -H 'Authorization: Bearer {s}' https://api.acme.io", s))(rnd(URLSAFE, 40))
)
fmt("basic_auth_header")(
    lambda: (lambda s: _f(f"Authorization: Basic {s}", s))(base64.b64encode(f"etl:{pw()}".encode()).decode())
)
fmt("requests_auth_tuple")(lambda: (lambda s: _f(f"auth = ('svc_etl', '{s}')", s))(pw()))
fmt("http_basic_auth_call")(lambda: (lambda s: _f(f"HTTPBasicAuth('svc', '{s}')", s))(pw()))
fmt("password_kwarg")(lambda: (lambda s: _f(f"conn = connect(user='bob', password='{s}')", s))(pw()))
fmt("password_flag")(lambda: (lambda s: _f(f"dbt run --password {s}", s))(pw()))
fmt("token_flag")(lambda: (lambda s: _f(f"cli --token={s} sync", s))(rnd(ALNUM, 30)))
fmt("query_access_token")(lambda: (lambda s: _f(f"GET /api/export?access_token={s}&page=2", s))(rnd(ALNUM, 40)))
fmt("query_api_key")(lambda: (lambda s: _f(f"https://api.weather.io/v1?q=Paris&api_key={s}", s))(rnd(HEX, 32)))
fmt("jwt")(lambda: (lambda s: _f(f"jwt={s}", s))(_jwt()))
fmt("bearer_jwt")(lambda: (lambda s: _f(f"Authorization: Bearer {s}", s))(_jwt()))
fmt("x_api_key_header")(lambda: (lambda s: _f(f"headers={{'X-API-Key': '{s}'}}", s))(rnd(ALNUM, 32)))
fmt("django_secret_key")(lambda: (lambda s: _f(f"SECRET_KEY = '{s}'", s))(rnd(ALNUM + "!@#%^&*(-_=+)", 50)))
fmt("fernet_key")(
    lambda: (lambda s: _f(f"AIRFLOW__CORE__FERNET_KEY={s}", s))(
        base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
)
fmt("webserver_secret_key")(lambda: (lambda s: _f(f"AIRFLOW__API__SECRET_KEY={s}", s))(rnd(HEX, 32)))
fmt("hex_encryption_key")(lambda: (lambda s: _f(f"encryption_key = {s}", s))(rnd(HEX, 64)))
fmt("hex_api_secret")(lambda: (lambda s: _f(f"api_secret: {s}", s))(rnd(HEX, 40)))
fmt("hmac_key")(lambda: (lambda s: _f(f"HMAC_KEY={s}", s))(rnd(HEX, 64)))
fmt("client_secret_json")(
    lambda: (lambda s: _f(json.dumps({"client_id": "etl-app", "client_secret": s}), s))(rnd(URLSAFE, 40))
)
fmt("api_key_json")(lambda: (lambda s: _f(json.dumps({"api_key": s}), s))("live_" + rnd(ALNUM, 24)))
fmt("camel_case_password")(lambda: (lambda s: _f(f'{{"dbPassword": "{s}"}}', s))(pw()))
fmt("k8s_client_key_data")(lambda: (lambda s: _f(f"    client-key-data: {s}", s))(b64(120)))
fmt("unexplained_blob")(lambda: (lambda s: _f(f"unexplained blob {s} in output", s))(secrets.token_urlsafe(32)))
fmt("ansi_wrapped_key")(
    lambda: (lambda s: _f(f"\x1b[31mERROR\x1b[0m key \x1b[1m{s}\x1b[0m rejected", s))("ghp_" + rnd(ALNUM, 36))
)
fmt("ansi_wrapped_password")(lambda: (lambda s: _f(f"\x1b[33mpassword\x1b[0m={s}", s))(pw()))
# --- key blocks ----------------------------------------------------------------------------------
fmt("rsa_private_key")(lambda: _pem("RSA PRIVATE KEY"))
fmt("openssh_private_key")(lambda: _pem("OPENSSH PRIVATE KEY"))
fmt("ec_private_key")(lambda: _pem("EC PRIVATE KEY"))
fmt("pkcs8_encrypted_key")(lambda: _pem("ENCRYPTED PRIVATE KEY"))
fmt("pgp_private_key")(lambda: _pem("PGP PRIVATE KEY BLOCK"))
fmt("truncated_private_key")(
    lambda: (lambda body: _f("key file:\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "\n(truncated)", body))(
        b64(48)
    )
)


def make_secrets() -> list[tuple[str, str, str]]:
    """One fresh (format, line, secret) per format."""
    return [(name, *make()) for name, make in FORMATS.items()]


# --- placements --------------------------------------------------------------------------------


def airflow2(line: str) -> str:
    return "\n".join(
        f"[2026-11-22T10:00:00.000+0000] {{taskinstance.py:441}} INFO - {part}" for part in line.split("\n")
    )


def airflow3_event(line: str) -> str:
    return json.dumps({"timestamp": "2026-11-22T10:00:00.000000Z", "level": "info", "event": line, "logger": "task"})


def airflow3_field(line: str, secret: str) -> str:
    """The secret as a structlog record field (its own key), next to the line as the event."""
    return json.dumps(
        {
            "timestamp": "2026-11-22T10:00:01Z",
            "level": "warning",
            "event": "connection settings",
            "logger": "airflow.task.hooks",
            "password": secret,
            "detail": line,
        }
    )


def dbt_output(line: str) -> str:
    return f"10:00:01  Database Error in model orders (models/orders.sql)\n10:00:01    {line}"


def traceback_locals(line: str) -> str:
    return (
        'Traceback (most recent call last):\n  File "/srv/etl/load.py", line 12, in load\n'
        f"    settings = {line!r}\n    locals: {{'cfg': {line!r}, 'retries': 3}}\nRuntimeError: load failed"
    )


_COMMANDS = {"curl", "sqlplus", "sqlcmd", "mysqldump", "docker", "dbt", "doppler", "twine", "doctl", "git", "cli"}


def called_process_error(line: str) -> str:
    """A failed command as Python reports it: an argv list for commands, else the shell string."""
    flat = line.replace("\n", " ")
    try:
        argv = shlex.split(flat)
    except ValueError:
        argv = []
    if argv and argv[0] in _COMMANDS:
        return f"subprocess.CalledProcessError: Command '{argv!r}' returned non-zero exit status 2."
    return f"subprocess.CalledProcessError: Command '{flat}' returned non-zero exit status 2."


def uri(secret: str) -> str:
    return f"https://logs.acme.io/task.log?token={secret}"


PLACEMENTS: dict[str, Callable[[str], str]] = {
    "airflow2_text": airflow2,
    "airflow3_json_event": airflow3_event,
    "dbt_output": dbt_output,
    "traceback_locals": traceback_locals,
    "called_process_error": called_process_error,
}

# --- benign look-alikes ------------------------------------------------------------------------


def make_benign() -> list[str]:
    """>= 50 values that look like secrets and are not: each must come out unchanged."""
    sha = secrets.token_hex(20)
    return [
        f"commit {sha} (HEAD -> main)",
        f"sha256:{secrets.token_hex(32)}",
        f"fingerprint {secrets.token_hex(8)}",
        f"branch patchit/{secrets.token_hex(8)}",
        f"incident inc-{secrets.token_hex(6)} grouped",
        f"event_id={secrets.token_hex(12)}",
        f'"invocation_id": "{uuid.uuid4()}"',
        f"invocation_id: {uuid.uuid4()}",
        "run_id=manual__2026-11-22T10:00:00+00:00 try_number=2",
        f"request {uuid.uuid4()} completed",
        "max_tokens=4096",
        "token_count: 42",
        '"max_tokens": 4096, "temperature": 0',
        "prompt_tokens=1834 completion_tokens=211 total_tokens=2045",
        "KeyError: 'password_reset_at'",
        "SELECT password_reset_at, token_expires_at FROM users",
        "column secret_question_id not found",
        'password authentication failed for user "etl"',
        "token expired for user bob",
        "password=None",
        "api_key = os.environ['PARTNER_API_KEY']",
        "password: \"{{ env_var('DBT_PASSWORD') }}\"",
        "secret_name: prod/etl/warehouse",
        "token_type: bearer",
        "primary_key: customer_id",
        "partition_key=event_date",
        "sort_key: created_at_2024",
        "password_file: /run/secrets/db_password",
        "AIRFLOW_CONN_ORDERS_DB is not set",
        "Done. PASS=12 WARN=0 ERROR=1 SKIP=0 TOTAL=13",
        "12 of 13 PASS not_null_orders_customer_id ..... [PASS in 0.05s]",
        "aGVsbG8gd29ybGQsIHRoaXMgaXMgYSB0ZXN0IHN0cmluZw== decoded fine",
        "base64 payload eyJzdGF0dXMiOiAib2sifQ== received",
        "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py",
        "dags/etl/transform_customer_orders_v2.py",
        "apache-airflow==3.3.2 apache-airflow-task-sdk==1.3.2",
        "pandas 3.1.1, numpy 2.3.4, pyarrow 22.0.0",
        "python3.11.14+debian",
        "TestCustomerOrdersTransformation2024 passed",
        "customer_orders_daily_2024_11_22_partition_0001",
        "ip 10.20.30.40 port 5432",
        "s3://acme-datalake/raw/orders/2026/11/22/part-00001.parquet",
        "arn:aws:iam::123456789012:role/airflow-worker",
        f"trace_id={secrets.token_hex(16)} span_id={secrets.token_hex(8)}",
        f'etag "{secrets.token_hex(16)}"',
        f"md5 {secrets.token_hex(16)}",
        "job_id 7f3e9c2a-41d8-4e1b-9a7c-0f1e2d3c4b5a finished",
        "spark application_1732270000000_0042 finished",
        "dbt_cloud run 70403103934121 job 412",
        "version 2026.11.22-rc1+build.5",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "NameError: name 'totl' is not defined. Did you mean: 'total'?",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed",
        "https://github.com/acme/etl/pull/412/files",
        "http://127.0.0.1:8080/api/v2/dags/orders/dagRuns",
        "key_id: 4",
        "api_key_name: partner-prod",
        "mysql -h db -P 3306 -u etl sales",
        "the secret sauce is consistency",
        "passed 12 tests, compass heading north",
    ]


# --- the older tests' shape ----------------------------------------------------------------------
_fresh = make_secrets()
AWS_KEY = next(s for n, _, s in _fresh if n == "aws_access_key_id")
GH = next(s for n, _, s in _fresh if n == "github_ghp")
CORPUS = [(line, secret) for _, line, secret in _fresh]
# Test ids by format, not by the random value: every xdist worker collects the same ids.
CORPUS_IDS = [name for name, _, _ in _fresh]
