"""PATCHIT's own rules: the formats detect-secrets has no plugin for, and where secrets sit in
command lines, URLs and assignments of data-pipeline logs.

Each rule is (pattern, group): the text of `group` (0: the whole match) becomes `***`; the
rest of the match (user names, hosts, keys) stays readable.
"""

from __future__ import annotations

import re

Rule = tuple[re.Pattern[str], int]

# ANSI escapes, raw or JSON/Python-escaped (Airflow 3 JSON logs store ESC as \u001b).
ANSI = re.compile(r"(?:\x1b|\\u001b|\\x1b|\\033|\\e)(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\))")

_TOKEN = r"[A-Za-z0-9_\-]"
# between a flag and its value: a space, or the `', '` of an argv list in a CalledProcessError
_ARG = r"(?:\s+|['\"],\s*['\"]|\s*['\"])['\"]?"

# Whole-token formats (prefix-identified): the whole match is the secret.
FORMATS: list[Rule] = [
    (re.compile(p), 0)
    for p in (
        r"\bya29\.[0-9A-Za-z_\-]{20,}",  # Google OAuth access token
        r"\b1//0[0-9A-Za-z_\-]{30,}",  # Google OAuth refresh token
        r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])",  # Google API key
        r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
        r"\bdapi[0-9a-f]{32}(?:-\d+)?\b",  # Databricks
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b",  # GitHub
        r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
        r"\bglpat-[A-Za-z0-9_\-]{20,}",  # GitLab
        r"\bgl(?:dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-[A-Za-z0-9_\-]{20,}",
        r"\bxox[abposre]-[A-Za-z0-9-]{10,}",  # Slack
        r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{20,}",
        r"\bsk-(?:proj-|ant-(?:api\d\d-|admin\d\d-)?|svcacct-|None-)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic
        r"\b[rs]k_(?:live|test)_[0-9a-zA-Z]{20,}",  # Stripe
        r"\bwhsec_[0-9a-zA-Z+/=]{24,}",
        r"\bpk_live_[0-9a-zA-Z]{20,}",
        r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{20,}",  # SendGrid
        r"\bkey-[0-9a-f]{32}\b",  # Mailgun
        r"\b[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}\b",  # Mailgun (new keys)
        r"\bSK[0-9a-f]{32}\b",  # Twilio API key
        r"\bnpm_[A-Za-z0-9]{36}\b",
        r"\bpypi-[A-Za-z0-9_\-]{50,}",
        r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b",  # Shopify
        r"\bATATT3[A-Za-z0-9_\-=]{30,}",  # Atlassian
        r"\bNRAK-[A-Z0-9]{27}\b",  # New Relic
        r"\bdop_v1_[a-f0-9]{64}\b",  # DigitalOcean
        r"\bdp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_\-]{20,}",  # Doppler
        r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}",  # HashiCorp Vault
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}",  # Terraform Cloud
        r"\blin_(?:api|oauth)_[A-Za-z0-9]{30,}",  # Linear
        r"\bsecret_[A-Za-z0-9]{43}\b",  # Notion
        r"\bntn_[A-Za-z0-9]{40,}",
        r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b",  # Airtable
        r"\bglsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}\b",  # Grafana
        r"\bglc_[A-Za-z0-9+/]{32,}={0,2}",
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",  # Postman
        r"\bsq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}",  # Square
        r"\bEAAA[A-Za-z0-9_\-]{60,}",
        r"\bAKC[a-zA-Z0-9]{60,}",  # Artifactory
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b",  # AWS key id
        r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}",  # JWT
        r"\bAccountKey=[A-Za-z0-9+/=]{40,}",  # Azure storage
        r"\bSharedAccessKey=[A-Za-z0-9+/=]{20,}",
        r"\b[0-9]{8,10}:AA[0-9A-Za-z_\-]{33}\b",  # Telegram bot
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]+",  # Discord webhook
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+",
        r"https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/\S+",  # Teams webhook
        r"https://events\.pagerduty\.com/integration/[a-f0-9]{32}",
    )
]

# Private key blocks. A block cut short (a truncated log) loses its key lines, not the rest.
KEY_BLOCKS: list[Rule] = [
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", re.S
        ),
        0,
    ),
    # the same inside a JSON string or a repr (a service-account file, a traceback's locals): "\n"
    # escapes instead of newlines; a block cut short ends at the first piece that is no key line
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:(?:\\n|[ \t])+[A-Za-z0-9+/=]{8,})+"
            r"(?:(?:\\n|[ \t])*-----END [A-Z0-9 ]*PRIVATE KEY-----)?"
        ),
        0,
    ),
    # a block cut short, its lines bare or each behind a log record's prefix (a task's output
    # logged line by line: "[ts] {subprocess.py:93} INFO - <key line>")
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\r?\n(?:[ \t]*(?:[A-Za-z0-9+/=:-]{8,}|[A-Za-z-]+: .*)|"
            r"[^\n]*?[ \t][A-Za-z0-9+/=]{16,})[ \t]*(?=\r?\n|\Z))*"
        ),
        0,
    ),
]

# Secrets inside command lines, URLs and call arguments: only the group is masked.
CONTEXT: list[Rule] = [
    # scheme://user:password@host and scheme://:password@host -> keep user and host
    (re.compile(r"(?i)\b[a-z][a-z0-9+.\-]{1,30}://[^\s:/@'\"<>]*:(?!\*\*\*@)([^\s'\"<>]+)@(?=[\w.\[\-])"), 1),
    # a token as the URL's user (Azure DevOps PAT, Sentry DSN key): https://<token>@host
    (re.compile(r"(?i)\bhttps?://([A-Za-z0-9_\-]{20,})@(?=[\w.\-])"), 1),
    # Authorization headers of any scheme
    (
        re.compile(
            r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|splunk|ssws|digest|apikey|api-key|key|sharedaccesssignature|dsn|otp)\s+(?!\*\*\*)([^\s\"',]+)"
        ),
        1,
    ),
    (re.compile(r"(?i)\bbearer\s+(?!\*\*\*)([A-Za-z0-9._~+/=\-]{8,})"), 1),
    (
        re.compile(
            r"(?i)\b(?:x-api-key|x-auth-token|x-splunk-token|api-key|x-vault-token|private-token|x-goog-api-key|dd-api-key|x-functions-key|ocp-apim-subscription-key)[\"']?\s*[:=]\s*[\"']?(?!\*\*\*)([^\s\"',]+)"
        ),
        1,
    ),
    # query parameters: ?token=...&sig=...
    (
        re.compile(
            r"(?i)[?&;](?:access_token|refresh_token|id_token|token|api_key|apikey|api-key|key|password|pwd|passwd|secret|client_secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|sv_sig|code|auth|authtoken|session|sessionid)=(?!\*\*\*)([^&\s\"'#]+)"
        ),
        1,
    ),
    # curl -u user:password, --user user:password
    (re.compile(r"(?<![\w\-])(?:-u|--user|--proxy-user)" + _ARG + r"[^:\s'\"]*:([^\s'\"]+)"), 1),
    # sqlplus user/password@db (and the other Oracle tools)
    (
        re.compile(
            r"\b(?i:sqlplus|sqlldr|expdp|impdp|exp|imp|rman|dgmgrl)(?:"
            + _ARG
            + r"-\w+)*"
            + _ARG
            + r"[^/\s'\"@]+/([^@\s'\"]+)"
        ),
        1,
    ),
    # sqlcmd / bcp / osql -P password
    (re.compile(r"\b(?i:sqlcmd|bcp|osql|isql)\b[^\n]*?[\s'\"]-P(?:" + _ARG + r")?([^\s'\"]+)"), 1),
    # mysql / mysqldump -p<password> (also as a list item in a CalledProcessError)
    (re.compile(r"\b(?i:mysql\w*|mariadb\w*)\b[^\n]*?(?<![\w\-])-p(?!\*\*\*)([^\s'\",\]]{3,})"), 1),
    # docker login -p / --password, generic --password/--token flags
    (re.compile(r"(?i)\bdocker" + _ARG + r"login\b[^\n]*?[\s'\"]-p" + _ARG + r"([^\s'\"]+)"), 1),
    (
        re.compile(
            r"(?i)(?<![\w-])(?:--(?:password|passwd|pass|token|secret|api-key|apikey|client-secret|access-token|auth-token|secret-key|access-key))(?:=|"
            + _ARG
            + r")(?![\-*])['\"]?([^\s'\",\]]+)"
        ),
        1,
    ),
    # auth=('user', 'password'), HTTPBasicAuth('user', 'password'), (user, password) tuples in locals
    (
        re.compile(
            r"(?i)\b(?:auth|basic_auth|http_auth|credentials|creds|login)\s*[=:]\s*[\(\[]\s*(['\"])[^'\"]*\1\s*,\s*(['\"])([^'\"]+)\2"
        ),
        3,
    ),
    (
        re.compile(
            r"\b(?:HTTPBasicAuth|HTTPDigestAuth|BasicAuth|HTTPProxyAuth)\(\s*(?:username=)?(['\"])[^'\"]*\1\s*,\s*(?:password=)?(['\"])([^'\"]+)\2"
        ),
        3,
    ),
    # .netrc: machine host login user password secret
    (re.compile(r"(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+(\S+)"), 1),
    # Oracle/JDBC/ODBC connection strings: Password=...; PWD=...;
    (re.compile(r"(?i)(?:^|[;\s\"'])(?:password|pwd|passwd|user password)\s*=\s*(?!\*\*\*)([^;\s\"']+)"), 1),
]

# key = value / key: value / "key": "value" / key='value' / key => value
_STRONG = (
    r"passw(?:or)?d|passwd|pwd|pass|secret|token|api[_\-.]?key|apikey|access[_\-.]?key|private[_\-.]?key|"
    r"client[_\-.]?secret|credentials?|creds|auth[_\-.]?key|auth[_\-.]?token|session[_\-.]?key|passphrase|"
    r"signature|sig|secret[_\-.]?key|signing[_\-.]?key|encryption[_\-.]?key|master[_\-.]?key|fernet[_\-.]?key|"
    r"hmac[_\-.]?key|license[_\-.]?key|routing[_\-.]?key|integration[_\-.]?key|service[_\-.]?key|"
    r"account[_\-.]?key|app[_\-.]?key|consumer[_\-.]?key|key[_\-.]?data|bind[_\-.]?pw|dsn|sas|connection[_\-.]?string|conn[_\-.]?str|"
    r"contrase[nñ]a|kennwort|mot[_\-.]?de[_\-.]?passe"
)
SECRET_KEY = rf"[\w.\-]*?(?:{_STRONG})(?![a-z])[\w.\-]*"
_LONG = r"passw(?:or)?d|passphrase|secret|tokens?|apikey|credentials?|contrase[nñ]a|kennwort"
SECRET_KEY_RE = re.compile(rf"(?i)^(?:(?:[\w.\-]*[_.\-])?(?:{_STRONG})|[a-z0-9]*(?:{_LONG}))(?:[_.\-][\w.\-]*|s)?$")
# Keys ending in `key` that are not known secret names (primary_key, sort_key): masked only when
# the value looks like key material.
WEAK_KEY_RE = re.compile(r"(?i)^[\w.\-]*key$")
# Any `key <sep> value`; whether the key names a secret is decided in Python (cached), which
# keeps this a linear scan instead of a keyword alternation tried at every position.
ASSIGNMENT = re.compile(
    r"(?P<key>(?<![\w\-.])[A-Za-z_][\w.\-]*)"
    r"(?P<sep>\\?[\"'\]]{0,2}[ \t]*(?:=|:=|:|=>|->)[ \t]*(?:\[[ \t]*)?)"
    r"(?:(?P<q>\\?[\"'`])(?P<qv>[^\"'`\n\\]*)(?P=q)|(?P<v>[^\s\"'`,;&}\])<>]+))"
)
# Lines worth the full rule set, searched in the lower-cased text (a case-insensitive alternation
# is ten times slower in `re`); the rest of a long log (timestamps, counters, prose) is skipped.
SUSPICIOUS = re.compile(
    r"[a-z0-9+/_=\-]{16,}|pass|pwd|pw|secret|token|key|auth|cred|sig|login|sas|dsn|private|bearer|basic|"
    r"cookie|session|sqlplus|sqlcmd|://|@|-p|-u"
)
