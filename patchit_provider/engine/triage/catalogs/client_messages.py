"""Messages of HTTP, cloud and warehouse clients that carry no code the resolver reads: rate
limits in a 403 body, key-pair and JWT authentication errors, TLS and proxy failures, quota
and permission texts. Each rule cites the client's or service's documentation.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.

Where a client prints a code another catalog already decides (an HTTP status, an AWS error code),
the rules here only read the client's format and take the verdict from that catalog (codes.py).
"""

from __future__ import annotations

import dataclasses
import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs import bigquery, codes, snowflake
from patchit_provider.engine.triage.catalogs.base import TextRule, Verdict, text_rule
from patchit_provider.engine.triage.catalogs.base import class_family as _family
from patchit_provider.engine.triage.catalogs.base import wrappers as _wrappers

AIOHTTP = "https://github.com/aio-libs/aiohttp/blob/master/aiohttp/client_exceptions.py (installed aiohttp)"
HTTPX = "https://www.python-httpx.org/exceptions/ (installed httpx/_exceptions.py)"
URLLIB3 = "https://github.com/urllib3/urllib3/blob/main/src/urllib3/exceptions.py (installed urllib3)"
BIGQUERY = bigquery.SOURCE  # the reasons live in catalogs/bigquery.py
GOOGLE_QUOTA = "https://cloud.google.com/docs/quotas/troubleshoot (RESOURCE_EXHAUSTED: Quota exceeded for quota metric)"
CURL = "https://curl.se/libcurl/c/libcurl-errors.html"
MINIO = "https://github.com/minio/minio-py/blob/master/minio/error.py (S3Error: 'S3 operation failed; code: ...')"
SLACK = "https://api.slack.com/web#errors; https://api.slack.com/docs/rate-limits"
SALESFORCE = "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm; https://github.com/simple-salesforce/simple-salesforce/blob/master/simple_salesforce/exceptions.py"
AZURE_CORE = "https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/core/azure-core/azure/core/exceptions.py"
AZURE_IDENTITY = (
    "https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/identity/azure-identity/azure/identity/_exceptions.py"
)
AZURE_STORAGE = "https://learn.microsoft.com/en-us/rest/api/storageservices/common-rest-api-error-codes; https://learn.microsoft.com/en-us/rest/api/storageservices/blob-service-error-codes"
ENTRA = "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (AADSTS codes)"
OAUTH = "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"
GOOGLE_AUTH = "https://github.com/googleapis/google-auth-library-python/blob/main/google/auth/exceptions.py"
BOTOCORE = "https://github.com/boto/botocore/blob/develop/botocore/exceptions.py"
SNOWFLAKE_CODES = snowflake.CONNECTOR  # the connector's errno table lives in catalogs/snowflake.py
SNOWFLAKE_NETWORK = (
    "https://docs.snowflake.com/en/user-guide/network-policies (a login from an IP the policy does not allow)"
)
DATABRICKS = "https://github.com/databricks/databricks-sql-python/blob/main/src/databricks/sql/exc.py"
ODBC = "https://learn.microsoft.com/en-us/sql/odbc/reference/appendixes/appendix-a-odbc-error-codes"
UNIXODBC = 'https://github.com/lurcher/unixODBC/blob/master/DriverManager/SQLConnect.c ("Can\'t open lib")'
ORACLEDB = "https://github.com/oracle/python-oracledb/blob/main/src/oracledb/errors.py (DPY- error numbers)"
CPYTHON_TUNNEL = "https://github.com/python/cpython/blob/main/Lib/http/client.py (HTTPConnection._tunnel)"
MUSL = "https://git.musl-libc.org/cgit/musl/tree/src/network/gai_strerror.c (EAI_NONAME: 'Name does not resolve')"


def _cited(verdict: Verdict, source: str) -> Verdict:
    """A verdict of codes.py read from a client's own format: both sources are cited."""
    return dataclasses.replace(verdict, source=f"{source}; {verdict.source}")


def _http_rules(prefix: str, source: str) -> list[TextRule]:
    """One rule per status of codes.HTTP for a client that prints the status in a format
    codes.http_status does not read; a 400/403 whose text reports a rate limit comes first."""
    rate = rf"{prefix}(?:400|403)\b[^\n]{{0,300}}?(?:{codes.RATE_LIMIT.pattern})"
    rules = [TextRule(rate, _cited(codes.RATE_VERDICT, source))]
    return rules + [TextRule(rf"{prefix}{status}\b", _cited(v, source)) for status, v in codes.HTTP.items()]


def _aws_code_rules(prefix: str, source: str) -> list[TextRule]:
    """codes.AWS read from another client's format, one rule per category (the codes' own table)."""
    by_category: dict[C, list[str]] = {}
    for code, verdict in codes.AWS.items():
        by_category.setdefault(verdict.category, []).append(code)
    rules = []
    for names in by_category.values():
        first = codes.AWS[names[0]]
        why = f"S3 error code ({', '.join(names[:4])}, ...): {first.why.split(': ', 1)[-1]}"
        pattern = prefix + "(?:" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b"
        rules.append(TextRule(pattern, dataclasses.replace(_cited(first, source), why=why)))
    return rules


# Slack Web API `error` codes (api.slack.com/web#errors): a token problem, or a rate limit (HTTP 429).
_SLACK = r"(?:SlackApiError|Slack API)[^\n]*\n?[^\n]{0,300}?['\"]error['\"]:\s*['\"]"
_SLACK_AUTH = "not_in_channel|invalid_auth|not_authed|account_inactive|token_revoked|token_expired|no_permission|missing_scope|not_allowed_token_type|ekm_access_denied|access_denied|org_login_required"

FIRST: list[TextRule] = [
    # libcurl 60 CURLE_PEER_FAILED_VERIFICATION: the same untrusted certificate as OpenSSL's reason
    # (messages.py's TLS rule), in curl's words
    text_rule(
        r"SSL certificate problem: |curl: \(60\)",
        C.INFRA_AUTH,
        0.9,
        CURL,
        "the server's TLS certificate is not trusted (curl 60: fix the CA bundle or the endpoint)",
    ),
    # Snowflake network policy: the login's IP is refused (server code 390422, printed with SQLSTATE
    # 08001, which alone reads as a connection failure)
    text_rule(
        r"\bIP [\d.:a-f]+ is not allowed to access Snowflake",
        C.INFRA_AUTH,
        0.95,
        SNOWFLAKE_NETWORK,
        "the Snowflake network policy does not allow the client's IP address",
    ),
]

LAST: list[TextRule] = [
    # --- HTTP status in formats codes.http_status does not read ------------------------------
    # aiohttp ClientResponseError.__str__: "{status}, message={message!r}, url={url!r}"
    *_http_rules(r"(?:^|: )(?=\d{3}, message=)", AIOHTTP),
    # curl 22 CURLE_HTTP_RETURNED_ERROR: "The requested URL returned error: 403"
    *_http_rules(r"The requested URL returned error: (?=\d{3})", CURL),
    # CPython http.client HTTPConnection._tunnel: "Tunnel connection failed: 407 Proxy Authentication Required"
    *_http_rules(r"Tunnel connection failed: (?=\d{3})", CPYTHON_TUNNEL),
    # --- rate limits of APIs that print no status -------------------------------------------
    text_rule(
        _SLACK + r"ratelimited['\"]",
        C.INFRA_NETWORK,
        0.9,
        SLACK,
        "Slack answered `ratelimited` (HTTP 429): retry after the Retry-After delay",
    ),
    text_rule(
        r"REQUEST_LIMIT_EXCEEDED",
        C.INFRA_NETWORK,
        0.85,
        SALESFORCE,
        "Salesforce REQUEST_LIMIT_EXCEEDED (HTTP 403): the org's API request limit is used up; retry later",
    ),
    # Google APIs' RESOURCE_EXHAUSTED (HTTP 429) message, printed by clients that drop the status:
    # "Quota exceeded for quota metric|group 'X' and limit 'Y' of service 'Z'"
    text_rule(
        r"Quota exceeded for quota (?:metric|group) '[^']+' and limit '[^']+'",
        C.INFRA_NETWORK,
        0.85,
        GOOGLE_QUOTA,
        "a Google API per-minute or per-100-seconds quota was used up (RESOURCE_EXHAUSTED, 429): retry later",
        Remediation.RETRY,
    ),
    # (BigQuery load jobs' messages, without their reason: catalogs/bigquery.py)
    # --- API tokens refused ------------------------------------------------------------------
    text_rule(
        _SLACK + rf"(?:{_SLACK_AUTH})['\"]",
        C.INFRA_AUTH,
        0.9,
        SLACK,
        "Slack refused the token (invalid, revoked, expired or lacking a scope)",
    ),
    # --- SSH / SFTP: the server's host key is not in known_hosts (paramiko client.py RejectPolicy
    #     "Server %r not found in known_hosts"; pysftp CnOpts "No hostkey for host %s found.") ---
    text_rule(
        r"not found in known_hosts|No hostkey for host \S+ found|Host key for server '?\S+'? does not match",
        C.CONFIG_MISSING,
        0.85,
        "https://github.com/paramiko/paramiko/blob/main/paramiko/client.py (RejectPolicy); "
        "https://pysftp.readthedocs.io/en/release_0.2.9/cookbook.html#pysftp-cnopts",
        "the SSH server's host key is not configured in the job's known_hosts",
        Remediation.ESCALATE,
    ),
    text_rule(
        r"\b(?:INVALID_SESSION_ID|INVALID_LOGIN|INVALID_AUTH_HEADER|INSUFFICIENT_ACCESS(?:_OR_READONLY)?)\b",
        C.INFRA_AUTH,
        0.85,
        SALESFORCE,
        "Salesforce refused the session or login (expired session, wrong credentials or no access)",
    ),
    text_rule(
        r"\bAADSTS\d{5,7}\b",
        C.INFRA_AUTH,
        0.9,
        ENTRA,
        "Microsoft Entra ID refused the sign-in (an AADSTS error: secret, app or tenant)",
    ),
    text_rule(
        r"\b(?:invalid_client|unauthorized_client)\b",
        C.INFRA_AUTH,
        0.85,
        OAUTH,
        "the OAuth server refused the client's credentials (RFC 6749 invalid_client / unauthorized_client)",
    ),
    # --- Azure Storage error codes: "ErrorCode:<code>" (azure-storage) or "(<code>) <message>" (azure-core)
    text_rule(
        r"(?:ErrorCode:\s*|\()(?:AuthenticationFailed|AuthorizationFailure|AuthorizationPermissionMismatch|"
        r"AuthorizationSourceIPMismatch|AuthorizationProtocolMismatch|AuthorizationResourceTypeMismatch|"
        r"AuthorizationServiceMismatch|InsufficientAccountPermissions|AccountIsDisabled|InvalidAuthenticationInfo)\b",
        C.INFRA_AUTH,
        0.9,
        AZURE_STORAGE,
        "Azure Storage refused the credentials or their permissions",
    ),
    text_rule(
        r"(?:ErrorCode:\s*|\()(?:ServerBusy|OperationTimedOut|InternalError)\b",
        C.INFRA_NETWORK,
        0.85,
        AZURE_STORAGE,
        "Azure Storage is busy or failed transiently (HTTP 500/503): retry",
    ),
    text_rule(
        r"(?:ErrorCode:\s*|\()(?:BlobNotFound|ResourceNotFound|PathNotFound)\b",
        C.UPSTREAM_FAILED,
        0.8,
        AZURE_STORAGE,
        "the Azure blob or path does not exist",
    ),
    text_rule(
        r"(?:ErrorCode:\s*|\()(?:ContainerNotFound|ShareNotFound|QueueNotFound|FilesystemNotFound)\b",
        C.CONFIG_MISSING,
        0.7,
        AZURE_STORAGE,
        "the Azure container, share or queue named in the configuration does not exist",
    ),
    text_rule(
        r"(?:ErrorCode:\s*|\()(?:InvalidResourceName|InvalidUri|InvalidBlobOrBlock|InvalidQueryParameterValue|"
        r"InvalidHeaderValue|OutOfRangeInput|InvalidInput|MissingRequiredHeader)\b",
        C.CODE_ERROR,
        0.8,
        AZURE_STORAGE,
        "the request the code builds is invalid (a container or blob name, a parameter): Azure Storage's 400 codes",
    ),
    # --- S3-compatible clients that print the AWS error code in their own format --------------
    *_aws_code_rules(r"S3 operation failed; code: ", MINIO),
    # --- credentials never configured (botocore's, google-auth's, azure-identity's messages) ---
    text_rule(
        r"Unable to locate credentials|Partial credentials found in \S+, missing: |You must specify a region\.|"
        r"The config profile \([^)]*\) could not be found|The specified config file \([^)]*\) could not be found",
        C.CONFIG_MISSING,
        0.85,
        BOTOCORE,
        "AWS credentials, region or profile are not configured",
    ),
    text_rule(
        r"Could not automatically determine credentials",
        C.CONFIG_MISSING,
        0.85,
        GOOGLE_AUTH,
        "no Google credentials are configured (DefaultCredentialsError)",
    ),
    text_rule(
        r"\b\w+Credential authentication unavailable\b",
        C.CONFIG_MISSING,
        0.8,
        AZURE_IDENTITY,
        "no Azure credential is configured (CredentialUnavailableError)",
    ),
    # --- python-oracledb's own DPY- numbers (its ORA- codes are codes.py's) ----------------------
    text_rule(
        r"\bDPY-(?:4011|4033|6000|6004|6005):",
        C.INFRA_NETWORK,
        0.85,
        ORACLEDB,
        "python-oracledb could not connect, or the database or network closed the connection",
    ),
    text_rule(
        r"\bDPY-(?:4000|4001|4026|4027|6001|6003):",
        C.CONFIG_MISSING,
        0.85,
        ORACLEDB,
        "the Oracle connect alias, tnsnames.ora, service name, SID or credentials are not configured",
    ),
    text_rule(r"\bDPY-4024:", C.INFRA_TIMEOUT, 0.85, ORACLEDB, "the Oracle call timeout was exceeded"),
    text_rule(r"\bDPY-6002:", C.INFRA_AUTH, 0.85, ORACLEDB, "the Oracle server's certificate DN does not match"),
    # --- ODBC SQLSTATEs of the driver manager (not in the SQL standard's table) ----------------
    text_rule(
        r"\[HYT0[01]\]|\('HYT0[01]'",
        C.INFRA_TIMEOUT,
        0.85,
        ODBC,
        "ODBC HYT00/HYT01: the login or query timeout expired",
    ),
    # IM002: neither the DSN nor the driver named in the connection string is in the machine's ODBC
    # system information (https://learn.microsoft.com/en-us/sql/odbc/reference/syntax/sqldriverconnect-function);
    # IM003 and unixODBC's "Can't open lib": the driver is registered but its library cannot be loaded.
    # An ODBC driver is an OS install, not a requirement of the repository: a person installs it.
    text_rule(
        r"\[IM00[23]\]|\('IM00[23]'|Data source name not found and no default driver specified|Can't open lib '[^']+'",
        C.DEPENDENCY_MISSING,
        0.85,
        f"{ODBC}; {UNIXODBC}",
        "the ODBC driver (or DSN) the connection names is not installed on this machine",
        Remediation.ESCALATE,
    ),
    # --- DNS and curl texts codes.py does not read --------------------------------------------
    TextRule(r"\bName does not resolve\b", _cited(codes.DNS_UNKNOWN, MUSL)),
    text_rule(
        r"curl: \((?:5|6)\)|Could not resolve (?:host|proxy): ",
        C.INFRA_NETWORK,
        0.85,
        CURL,
        "curl could not resolve the host or proxy name (CURLE_COULDNT_RESOLVE_HOST/PROXY)",
    ),
]


CLASSES: dict[str, Verdict | None] = {
    # --- aiohttp (installed aiohttp/client_exceptions.py) -------------------------------------
    **_family(
        "ClientConnectionError ClientOSError ClientConnectorError ClientConnectorDNSError ClientProxyConnectionError "
        "ServerConnectionError ServerDisconnectedError ClientConnectionResetError ClientPayloadError "
        "ServerTimeoutError ConnectionTimeoutError SocketTimeoutError ClientSSLError ClientConnectorSSLError",
        C.INFRA_NETWORK,
        0.85,
        AIOHTTP,
        "an aiohttp connection failed, timed out or was cut",
    ),
    **_family(
        "ClientConnectorCertificateError ServerFingerprintMismatch",
        C.INFRA_AUTH,
        0.75,
        AIOHTTP,
        "the server's TLS certificate was not trusted",
    ),
    **_family(
        "InvalidUrlClientError NonHttpUrlClientError",
        C.CONFIG_MISSING,
        0.7,
        AIOHTTP,
        "the URL configured for the call is invalid",
    ),
    **_family("ContentTypeError", C.DATA_MALFORMED, 0.6, AIOHTTP, "the response body is not the JSON the code reads"),
    **_wrappers("ClientResponseError ClientHttpProxyError"),  # the status decides
    # --- botocore (beyond exceptions.py's entries) ---------------------------------------------
    **_family(
        "ConfigNotFound ConfigParseError InvalidConfigError UnknownEndpointError InvalidRegionError",
        C.CONFIG_MISSING,
        0.8,
        BOTOCORE,
        "the AWS configuration file, region or endpoint is missing or invalid",
    ),
    **_family("IncompleteReadError", C.INFRA_NETWORK, 0.7, BOTOCORE, "the HTTP response ended early (transient)"),
    **_family("RefreshWithMFAUnsupportedError", C.INFRA_AUTH, 0.8, BOTOCORE, "the AWS credentials need an MFA token"),
    **_family(
        "UnknownServiceError UnknownClientMethodError",
        C.CODE_ERROR,
        0.7,
        BOTOCORE,
        "the code names an AWS service or client method that does not exist",
    ),
    # --- google-auth (exceptions.py: the Invalid*/Malformed classes derive from DefaultCredentialsError)
    **_family(
        "MalformedError InvalidResource InvalidOperation InvalidValue InvalidType",
        C.CONFIG_MISSING,
        0.75,
        GOOGLE_AUTH,
        "the configured Google credentials are malformed",
    ),
    **_family(
        "UserAccessTokenError ReauthFailError ReauthSamlChallengeFailError OAuthError MutualTLSChannelError "
        "ClientCertError",
        C.INFRA_AUTH,
        0.8,
        GOOGLE_AUTH,
        "a Google token or client certificate could not be obtained",
    ),
    **_wrappers("GoogleAuthError"),
    # --- azure-core / azure-identity -------------------------------------------------------------
    **_family(
        "ClientAuthenticationError AuthenticationRequiredError",
        C.INFRA_AUTH,
        0.85,
        f"{AZURE_CORE}; {AZURE_IDENTITY}",
        "Azure refused the credentials",
    ),
    **_family("CredentialUnavailableError", C.CONFIG_MISSING, 0.8, AZURE_IDENTITY, "no Azure credential is configured"),
    **_family(
        "ServiceRequestError ServiceResponseError ServiceRequestTimeoutError ServiceResponseTimeoutError",
        C.INFRA_NETWORK,
        0.8,
        AZURE_CORE,
        "the request to the Azure service failed in transport",
    ),
    **_family(
        "ResourceNotFoundError", C.UPSTREAM_FAILED, 0.6, AZURE_CORE, "HTTP 404: the Azure resource does not exist"
    ),
    **_wrappers("AzureError HttpResponseError"),  # the status or the ErrorCode decides
    # --- simple-salesforce (one class per HTTP status) -------------------------------------------
    **_family(
        "SalesforceExpiredSession SalesforceAuthenticationFailed SalesforceRefusedRequest",
        C.INFRA_AUTH,
        0.85,
        SALESFORCE,
        "Salesforce refused the session or the request (HTTP 401/403)",
    ),
    **_family(
        "SalesforceResourceNotFound", C.UPSTREAM_FAILED, 0.6, SALESFORCE, "HTTP 404: the Salesforce record is absent"
    ),
    **_family(
        "SalesforceMalformedRequest", C.CODE_ERROR, 0.55, SALESFORCE, "HTTP 400: the request the code sends is invalid"
    ),
    **_wrappers("SalesforceError SalesforceGeneralError SlackApiError S3Error"),  # their codes decide
    # --- databricks-sql-connector (exc.py) --------------------------------------------------------
    **_family(
        "MaxRetryDurationError InvalidServerResponseError",
        C.INFRA_NETWORK,
        0.7,
        DATABRICKS,
        "the requests to the Databricks server kept failing until the retry budget ran out",
    ),
    **_wrappers("ServerOperationError"),  # the Spark condition or SQLSTATE in its message decides
    # --- httpx / urllib3 classes exceptions.py does not list (installed packages) --------------
    **_family(
        "StreamError StreamConsumed StreamClosed ResponseNotRead RequestNotRead CookieConflict",
        C.CODE_ERROR,
        0.75,
        HTTPX,
        "httpx was used wrongly (a stream read twice, after closing, or before reading)",
    ),
    **_family(
        "ProxySchemeUnknown ProxySchemeUnsupported",
        C.CONFIG_MISSING,
        0.75,
        URLLIB3,
        "the proxy URL configured for the call has a scheme urllib3 cannot use",
    ),
    **_family("DecodeError", C.DATA_MALFORMED, 0.6, URLLIB3, "a response body cannot be decoded"),
}

BASES: dict[str, tuple[str, ...]] = {
    # aiohttp (installed aiohttp/client_exceptions.py)
    "ClientConnectionError": ("ClientError",),
    "ClientOSError": ("ClientConnectionError", "OSError"),
    "ClientConnectorError": ("ClientOSError",),
    "ClientConnectorDNSError": ("ClientConnectorError",),
    "ClientProxyConnectionError": ("ClientConnectorError",),
    "ClientSSLError": ("ClientConnectorError",),
    "ClientConnectorSSLError": ("ClientSSLError", "SSLError"),
    "ClientConnectorCertificateError": ("ClientSSLError", "SSLCertVerificationError"),
    "ServerConnectionError": ("ClientConnectionError",),
    "ServerTimeoutError": ("ServerConnectionError", "TimeoutError"),
    "ServerDisconnectedError": ("ServerConnectionError",),
    "ClientResponseError": ("ClientError",),
    "ContentTypeError": ("ClientResponseError",),
    "ClientHttpProxyError": ("ClientResponseError",),
    "WSServerHandshakeError": ("ClientResponseError",),
    "ClientPayloadError": ("ClientError",),
    "UnixClientConnectorError": ("ClientConnectorError",),
    # google-auth
    "RefreshError": ("GoogleAuthError",),
    "DefaultCredentialsError": ("GoogleAuthError",),
    "ReauthFailError": ("RefreshError",),
    "MalformedError": ("DefaultCredentialsError", "ValueError"),
    # azure-core / azure-identity
    "ServiceRequestError": ("AzureError",),
    "ServiceResponseError": ("AzureError",),
    "HttpResponseError": ("AzureError",),
    "ClientAuthenticationError": ("HttpResponseError",),
    "ResourceNotFoundError": ("HttpResponseError",),
    "ResourceExistsError": ("HttpResponseError",),
    "CredentialUnavailableError": ("ClientAuthenticationError",),
    # simple-salesforce
    "SalesforceExpiredSession": ("SalesforceError",),
    "SalesforceRefusedRequest": ("SalesforceError",),
    "SalesforceResourceNotFound": ("SalesforceError",),
    "SalesforceMalformedRequest": ("SalesforceError",),
    "SalesforceGeneralError": ("SalesforceError",),
    "SalesforceAuthenticationFailed": ("SalesforceError",),
    # databricks-sql-connector
    "ServerOperationError": ("DatabaseError",),
    "MaxRetryDurationError": ("RequestError",),
    # botocore
    "NoRegionError": ("BaseEndpointResolverError",),
    "BaseEndpointResolverError": ("BotoCoreError",),
    "UnknownServiceError": ("DataNotFoundError",),
}
