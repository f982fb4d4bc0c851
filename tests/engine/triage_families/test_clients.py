"""HTTP, cloud and warehouse clients (catalogs/client_messages.py): messages as posted in public
threads or as the client's own source formats them, real exceptions of the installed clients,
and look-alike texts that must not match."""

from __future__ import annotations

import http.server
import importlib
import socket
import traceback

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import client_messages, exceptions, messages
from patchit_testing import local_http_server, triage_text


# (source, output as posted or as the client formats it, category, remediation)
POSTED = [
    # --- posted in public threads -------------------------------------------------------------
    (
        "https://github.com/canimus/cuallee/issues/371",
        "snowflake.connector.errors.ProgrammingError: 251005: User is empty",
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/sodadata/soda-core/pull/2109",
        'ERROR    soda.scan:log.py:101 [20:04:27] Could not connect to data source "snowflake": 251005: 251005: User is empty',
        "config.missing",
        "escalate",
    ),
    (
        "https://github.com/Azure/azure-sdk-for-js/issues/29078",
        "AuthenticationRequiredError: invalid_client: 7000215 - [2024-03-26 07:28:20Z]: AADSTS7000215: Invalid client "
        "secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, "
        "for a secret added to app '***'.",
        "infra.auth",
        "escalate",
    ),
    (
        "https://github.com/dotnet/sign/issues/849",
        "Original exception: AADSTS7000222: The provided client secret keys for app 'ccc25fb8-d83b-4225-b4b7-5f31bfb007be' "
        "are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret",
        "infra.auth",
        "escalate",
    ),
    # --- formatted by the client's own source (the URL is where the format is defined) ---------
    (
        client_messages.MINIO,
        "minio.error.S3Error: S3 operation failed; code: SlowDown, message: Please reduce your request rate., "
        "resource: /bucket/key, request_id: 17906EB26AE2C91D, host_id: h",
        "infra.network",
        "retry",
    ),
    (
        client_messages.MINIO,
        "minio.error.S3Error: S3 operation failed; code: InvalidAccessKeyId, message: The Access Key Id you provided "
        "does not exist in our records., resource: /b, request_id: 1, host_id: h",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.SLACK,
        "slack_sdk.errors.SlackApiError: The request to the Slack API failed. (url: https://www.slack.com/api/chat.postMessage)\n"
        "The server responded with: {'ok': False, 'error': 'ratelimited'}",
        "infra.network",
        "retry",
    ),
    (
        client_messages.SLACK,
        "slack_sdk.errors.SlackApiError: The request to the Slack API failed. (url: https://www.slack.com/api/chat.postMessage)\n"
        "The server responded with: {'ok': False, 'error': 'token_revoked'}",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.SALESFORCE,
        "simple_salesforce.exceptions.SalesforceRefusedRequest: Request refused for https://x.my.salesforce.com/services/"
        "data/v59.0/query/. Response content: [{'message': 'TotalRequests Limit exceeded.', 'errorCode': 'REQUEST_LIMIT_EXCEEDED'}]",
        "infra.network",
        "retry",
    ),
    (
        client_messages.SALESFORCE,
        "simple_salesforce.exceptions.SalesforceExpiredSession: Expired session for https://x.my.salesforce.com/services/"
        "data/v59.0/query/. Response content: [{'message': 'Session expired or invalid', 'errorCode': 'INVALID_SESSION_ID'}]",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.AZURE_STORAGE,
        "azure.core.exceptions.HttpResponseError: The server is currently unable to receive requests. Please retry your request.\n"
        "RequestId:5c4c1f3e-001e-0022-7a4b-3b0c7c000000\nTime:2024-05-01T10:00:00.0000000Z\nErrorCode:ServerBusy",
        "infra.network",
        "retry",
    ),
    (
        client_messages.AZURE_STORAGE,
        "azure.core.exceptions.HttpResponseError: This request is not authorized to perform this operation using this "
        "permission.\nRequestId:1\nTime:2024-05-01T10:00:00.0000000Z\nErrorCode:AuthorizationPermissionMismatch",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.AZURE_IDENTITY,
        "azure.identity._exceptions.CredentialUnavailableError: EnvironmentCredential authentication unavailable. "
        "Environment variables are not fully configured.",
        "config.missing",
        "escalate",
    ),
    (
        client_messages.BOTOCORE,  # NoCredentialsError.fmt, printed by a script without the class
        'Unable to locate credentials. You can configure credentials by running "aws configure".',
        "config.missing",
        "escalate",
    ),
    (
        client_messages.BOTOCORE,  # PartialCredentialsError.fmt
        "botocore.exceptions.PartialCredentialsError: Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY",
        "config.missing",
        "escalate",
    ),
    (
        client_messages.GOOGLE_AUTH,  # MalformedError derives from DefaultCredentialsError
        "google.auth.exceptions.MalformedError: Service account info was not in the expected format, missing fields "
        "token_uri, client_email.",
        "config.missing",
        "escalate",
    ),
    (
        client_messages.SNOWFLAKE_CODES,  # ER_NO_PASSWORD
        "snowflake.connector.errors.ProgrammingError: 251006: Password is empty",
        "config.missing",
        "escalate",
    ),
    (
        client_messages.SNOWFLAKE_NETWORK,  # 390422 comes with SQLSTATE 08001, which alone reads as a network failure
        "snowflake.connector.errors.DatabaseError: 390422 (08001): Failed to connect to DB: xy12345.snowflakecomputing.com:443. "
        "IP 203.0.113.7 is not allowed to access Snowflake.  Contact your local security administrator.",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.ODBC,
        "pyodbc.OperationalError: ('HYT00', '[HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired (0) "
        "(SQLDriverConnect)')",
        "infra.timeout",
        "retry",
    ),
    (
        client_messages.ODBC,
        "pyodbc.InterfaceError: ('IM002', '[IM002] [Microsoft][ODBC Driver Manager] Data source name not found and no "
        "default driver specified (0) (SQLDriverConnect)')",
        "dependency.missing",
        "escalate",
    ),
    (
        client_messages.UNIXODBC,
        "pyodbc.Error: ('01000', \"[01000] [unixODBC][Driver Manager]Can't open lib 'ODBC Driver 18 for SQL Server' : "
        'file not found (0) (SQLDriverConnect)")',
        "dependency.missing",
        "escalate",
    ),
    (
        client_messages.ORACLEDB,  # ERR_CONNECTION_CLOSED raises DatabaseError, which alone says nothing
        "oracledb.exceptions.DatabaseError: DPY-4011: the database or network closed the connection",
        "infra.network",
        "retry",
    ),
    (
        client_messages.ORACLEDB,  # ERR_TNS_ENTRY_NOT_FOUND
        'oracledb.exceptions.DatabaseError: DPY-4000: unable to find "PRODDB" in /opt/oracle/network/admin/tnsnames.ora',
        "config.missing",
        "escalate",
    ),
    (
        client_messages.BIGQUERY,  # jobBackendError: "retrying may solve the problem"; the 400 alone reads as a bad request
        "google.api_core.exceptions.BadRequest: 400 GET https://bigquery.googleapis.com/bigquery/v2/projects/p/queries/j: "
        "Error encountered during execution. Retrying may solve the problem.\n"
        "errors: [{'reason': 'jobBackendError', 'message': 'Error encountered during execution.'}]",
        "infra.network",
        "retry",
    ),
    (
        client_messages.BIGQUERY,
        "google.api_core.exceptions.BadRequest: 400 Query exceeded limit for bytes billed: 1000000. 20971520 or higher required.\n"
        "[{'reason': 'billingTierLimitExceeded', 'message': 'Query exceeded limit for bytes billed'}]",
        "infra.resource",
        "escalate",
    ),
    (
        "https://github.com/lmc-eu/luft/issues/3",
        "[ERROR] common:load_csv - 400 Error while reading data, error message: CSV table encountered too many errors, "
        "giving up. Rows: 1; errors: 1. Please look into the errors[] collection for more details.\n"
        "[ERROR] common:load_csv - [{'reason': 'invalid', 'message': 'Error while reading data, error message: CSV table "
        "references column position 72, but line starting at position:1261 contains only 6 columns.'}]",
        "data.malformed",
        "escalate",
    ),
    (
        "https://github.com/isis-santos-costa/kaggle-datasets-in-bigquery",
        "Message: Could not parse '2018-01-18 0:00:00' as DATE for field review_creation_date (position 5)",
        "data.type_mismatch",
        "escalate",
    ),
    (
        client_messages.SNOWFLAKE_CODES,  # ER_OCSP_RESPONSE_CERT_STATUS_REVOKED
        "snowflake.connector.errors.OperationalError: 254007: The certificate has been revoked.",
        "infra.auth",
        "escalate",
    ),
    (
        client_messages.HTTPX,  # StreamError: the developer accessed the stream in an invalid way
        'Traceback (most recent call last):\n  File "/app/pull.py", line 3, in <module>\n    r.json()\n'
        "httpx.ResponseNotRead: Attempted to access streaming response content, without having called `read()`.",
        "code.error",
        "patch",
    ),
    (
        client_messages.CURL,
        "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        "infra.auth",
        "escalate",
    ),
    (client_messages.CURL, "curl: (6) Could not resolve host: api.example.com", "infra.network", "retry"),
    (
        client_messages.CURL,
        "curl: (22) The requested URL returned error: 503",
        "infra.network",
        "retry",
    ),
    (
        client_messages.MUSL,  # Alpine images: musl's text for EAI_NONAME
        "socket.gaierror: [Errno -2] Name does not resolve",
        "infra.network",
        "escalate",
    ),
]


@pytest.mark.parametrize("source,text,category,remediation", POSTED, ids=[p[1][:40] for p in POSTED])
def test_client_messages(source, text, category, remediation):
    assert source.startswith(("https://", "installed"))
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale
    assert "words" not in result.decided_by  # a catalog fact, not the taxonomy's vocabulary


# Look-alikes: the code or the client's prefix is what the rules read, not the word alone.
@pytest.mark.parametrize(
    "text",
    [
        "KeyError: 'invalid_client_id'",  # a name that contains an OAuth error code
        "ValueError: invalid literal for int() with base 10: '251005: pending'",  # not the connector's errno
        "RuntimeError: cache stats: 'error': 'invalid_auth' count reset",  # not a Slack answer
        "minio.error.S3Error: S3 operation failed; code: ThrottlingPolicyX, message: x",  # not an AWS code
        "AssertionError: expected 503, message='ok' in the fixture",  # not aiohttp's format
        "ValueError: the AADSTS settings page lists no codes",  # no AADSTS number
        "ErrorCode:ServerBusyWaitMs=20",  # not an Azure Storage code
    ],
)
def test_look_alikes_do_not_match(text):
    hit = messages.match(text)
    assert hit is None or hit[0] not in client_messages.FIRST + client_messages.LAST, hit


# --- real exceptions of the installed clients ---------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/loop":  # a redirect to itself, as a misconfigured proxy or site sends
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/gateway":  # a proxy's HTML error page where the API answers JSON
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        status = {"/missing": 404, "/busy": 429, "/down": 503, "/login": 401}[self.path]
        self.send_response(status)
        self.end_headers()

    def do_CONNECT(self):  # noqa: N802  (a proxy that wants credentials)
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    with local_http_server(_Handler) as address:
        yield address


def _raised(coro_or_call) -> str:
    try:
        coro_or_call()
    except Exception as exc:  # noqa: BLE001
        return "".join(traceback.format_exception(exc))
    raise AssertionError("no exception")


@pytest.mark.parametrize(
    "path,category,remediation",
    [
        ("/missing", "upstream.failed", "escalate"),
        ("/busy", "infra.network", "retry"),
        ("/down", "infra.network", "retry"),
        ("/login", "infra.auth", "escalate"),
    ],
)
def test_real_aiohttp_client_response_error(server, path, category, remediation):
    import asyncio

    aiohttp = importlib.import_module("aiohttp")

    async def get():
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            async with session.get(f"http://{server}{path}"):
                pass

    text = _raised(lambda: asyncio.run(get()))
    assert "ClientResponseError" in text
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), result.rationale


def test_real_aiohttp_connection_refused():
    import asyncio

    aiohttp = importlib.import_module("aiohttp")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def get():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/"):
                pass

    result = triage_text(_raised(lambda: asyncio.run(get())))
    assert (result.category.value, result.remediation.value) == ("infra.network", "retry")


def test_real_proxy_tunnel_407_is_auth(server):
    """CPython's http.client says "Tunnel connection failed: 407 ..."; requests wraps it in ProxyError
    (a transport class), but the proxy refused the credentials."""
    requests = importlib.import_module("requests")
    proxies = {"https": f"http://{server}"}
    text = _raised(lambda: requests.get("https://example.invalid/", proxies=proxies, timeout=5))
    assert "Tunnel connection failed: 407" in text
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("infra.auth", "escalate"), result.rationale


def test_aiohttp_bases_are_the_installed_class_tree():
    module = importlib.import_module("aiohttp.client_exceptions")
    checked = 0
    for name, bases in client_messages.BASES.items():
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            assert set(bases) <= {b.__name__ for b in cls.__mro__}, name
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "source,module",
    [
        (client_messages.AIOHTTP, "aiohttp.client_exceptions"),
        (client_messages.HTTPX, "httpx"),
        (client_messages.URLLIB3, "urllib3.exceptions"),
    ],
)
def test_installed_client_classes_are_real_and_merged(source, module):
    """Each class entry citing an installed client names one of its exception classes, and
    exceptions.py's table carries it."""
    mod = importlib.import_module(module)
    cited = [n for n, v in client_messages.CLASSES.items() if v is not None and v.source == source]
    assert cited
    for name in cited:
        cls = getattr(mod, name, None)
        assert isinstance(cls, type) and issubclass(cls, BaseException), name
        assert exceptions.CLASSES.get(name) == client_messages.CLASSES[name], name


def test_a_google_quota_message_without_its_status_is_a_rate_limit():
    # Google's documented RESOURCE_EXHAUSTED text (cloud.google.com/docs/quotas/troubleshoot)
    text = (
        "googleapiclient.errors.HttpError: Quota exceeded for quota metric 'Read requests' and limit "
        "'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:1'."
    )
    result = triage_text(text)
    assert (result.category, result.remediation.value) == (Category.INFRA_NETWORK, "retry")
    assert triage_text("ValueError: quota exceeded by the customer's plan").category != Category.INFRA_NETWORK


def test_a_real_redirect_loop_is_not_retried(server):
    """requests and httpx give up after max_redirects; the loop is the server's answer, so a
    re-run meets it again: escalate, with the transport category."""
    requests = importlib.import_module("requests")
    httpx = importlib.import_module("httpx")
    for text in (
        _raised(lambda: requests.get(f"http://{server}/loop", timeout=5)),
        _raised(lambda: httpx.get(f"http://{server}/loop", follow_redirects=True, timeout=5)),
    ):
        assert "TooManyRedirects" in text
        result = triage_text(text)
        assert (result.category.value, result.remediation.value) == ("infra.network", "escalate"), result.rationale


def test_a_real_exhausted_sqlalchemy_pool_is_its_setting_not_the_network(tmp_path):
    """SQLAlchemy's QueuePool timeout (https://docs.sqlalchemy.org/en/20/errors.html#error-3o7r):
    the pool's size for the load, or connections the code keeps; a re-run meets the same pool."""
    sqlalchemy = importlib.import_module("sqlalchemy")
    engine = sqlalchemy.create_engine(
        f"sqlite:///{tmp_path / 'x.db'}",
        poolclass=sqlalchemy.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.1,
    )
    held = engine.connect()
    try:
        text = _raised(engine.connect)
    finally:
        held.close()
        engine.dispose()
    assert "QueuePool limit of size 1 overflow 0 reached" in text
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == ("config.missing", "escalate"), result.rationale


def test_a_response_that_is_not_json_at_all_is_the_service_s_answer_not_the_data(server, tmp_path):
    """r.json() on a proxy's 502 page fails at char 0: the service failed (requests' quickstart:
    a failed .json() says nothing of the response's success). The same decoder error on a file
    the pipeline reads stays malformed data."""
    import json

    requests = importlib.import_module("requests")
    httpx = importlib.import_module("httpx")
    for text in (
        _raised(lambda: requests.get(f"http://{server}/gateway", timeout=5).json()),
        _raised(lambda: httpx.get(f"http://{server}/gateway", timeout=5).json()),
    ):
        assert "Expecting value: line 1 column 1 (char 0)" in text
        result = triage_text(text)
        assert (result.category.value, result.remediation.value) == ("infra.network", "retry"), result.rationale

    empty = tmp_path / "export.json"
    empty.write_text("")
    text = _raised(lambda: json.loads(empty.read_text()))
    assert triage_text(text).category.value == "data.malformed"
