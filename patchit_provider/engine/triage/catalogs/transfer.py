"""File and mail transfer protocols (FTP, SFTP/SSH, SMTP) -> category, from the protocols' own catalogs.

Sources: FTP reply codes (RFC 959 section 4.2, RFC 2228, RFC 3659, RFC 7151) as Python's ftplib raises
them (`ftplib.error_perm: 550 ...`, `error_temp: 421 ...`; Ruby's Net::FTPPermError, basic-ftp's
FTPError, FluentFTP's `Code: 425 Message:`, aioftp's `but got 550`); SMTP reply codes (RFC 5321
section 4.2, RFC 4954, RFC 3207, RFC 7504) and enhanced status codes (RFC 3463, RFC 4954) as smtplib
raises them (`SMTPAuthenticationError: (535, b'5.7.8 ...')`, `SMTPRecipientsRefused: {'a@b': (550,
b'5.1.1 ...')}`) -- Airflow's email on failure and EmailOperator use smtplib; SFTP status codes
(draft-ietf-secsh-filexfer-13 section 9.1) by name (`SSH_FX_NO_SUCH_FILE`, Go pkg/sftp, phpseclib) or
as asyncssh/SSH.NET classes; paramiko's exception classes and messages (ssh_exception.py,
transport.py, auth_handler.py, client.py, pkey.py) and OpenSSH's client messages. paramiko's SFTP
errors arrive as errno (`[Errno 2] No such file`) and are left to the errno table; its host-key
messages are client_messages.py's.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

FTP = (
    "https://www.rfc-editor.org/rfc/rfc959#section-4.2; https://www.rfc-editor.org/rfc/rfc3659; "
    "https://docs.python.org/3/library/ftplib.html"
)
SMTP = (
    "https://www.rfc-editor.org/rfc/rfc5321#section-4.2; https://www.rfc-editor.org/rfc/rfc3463; "
    "https://www.rfc-editor.org/rfc/rfc4954#section-6; https://docs.python.org/3/library/smtplib.html"
)
SFTP = (
    "https://datatracker.ietf.org/doc/html/draft-ietf-secsh-filexfer-13#section-9.1; "
    "https://github.com/ronf/asyncssh/blob/develop/asyncssh/sftp.py"
)
SSH = (
    "https://github.com/paramiko/paramiko/blob/main/paramiko/ssh_exception.py; "
    "https://github.com/paramiko/paramiko/blob/main/paramiko/transport.py; https://man.openbsd.org/ssh"
)
SOURCE = f"{FTP}; {SMTP}; {SFTP}; {SSH}"

_RETRY = Remediation.RETRY


def _v(category: C, source: str, why: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, source, why, remediation)


def _family(
    keys: str,
    category: C,
    source: str,
    why: str,
    remediation: Remediation | None = None,
    confidence: float = 0.85,
) -> dict[str, Verdict]:
    return dict.fromkeys(keys.split(), _v(category, source, why, remediation, confidence))


CODES: dict[str, Verdict] = {
    # --- FTP (RFC 959 4.2): 4yz is transient by definition, 5yz permanent ------------------
    **_family(
        "FTP-421 FTP-425 FTP-426 FTP-434 FTP-451",
        C.INFRA_NETWORK,
        FTP,
        "FTP server unavailable or the data connection failed (a transient 4yz reply)",
        remediation=_RETRY,
    ),
    "FTP-450": _v(C.UPSTREAM_FAILED, FTP, "FTP 450: the file is busy or not there yet (transient)", _RETRY, 0.7),
    "FTP-550": _v(C.UPSTREAM_FAILED, FTP, "FTP 550: the file or directory is unavailable (not found)", confidence=0.75),
    "FTP-550-denied": _v(C.INFRA_AUTH, FTP, "FTP 550: the server refuses access to the file"),
    **_family("FTP-430 FTP-530 FTP-532", C.INFRA_AUTH, FTP, "FTP login refused (user, password or account)"),
    "FTP-530-limit": _v(
        C.INFRA_NETWORK,
        FTP + "; http://www.proftpd.org/docs/directives/linked/config_ref_MaxClients.html",
        "FTP 530: the server is at its connection limit (transient)",
        _RETRY,
        0.75,
    ),
    "FTP-553": _v(
        C.INFRA_AUTH, FTP, "FTP 553: the server will not create the file (name or write permission)", confidence=0.6
    ),
    "FTP-534": _v(C.CONFIG_MISSING, FTP, "FTP 534: the server's policy requires FTPS (RFC 2228)", confidence=0.75),
    **_family("FTP-452 FTP-552", C.INFRA_RESOURCE, FTP, "FTP server out of storage or the account's allocation"),
    # 501/503/504: the client sent bad arguments or an impossible sequence; 502: a command the server lacks
    **_family(
        "FTP-501 FTP-502 FTP-503 FTP-504",
        C.CODE_ERROR,
        FTP,
        "FTP server rejects the command or its arguments the code sends",
        confidence=0.6,
    ),
    # --- SMTP (RFC 5321 4.2 / RFC 4954) ----------------------------------------------------
    **_family(
        "SMTP-421 SMTP-450 SMTP-451 SMTP-454",
        C.INFRA_NETWORK,
        SMTP,
        "SMTP server unavailable or deferring (a transient 4yz reply)",
        remediation=_RETRY,
    ),
    "SMTP-452": _v(C.INFRA_RESOURCE, SMTP, "SMTP 452: insufficient system storage or too many recipients", _RETRY),
    "SMTP-552": _v(C.INFRA_RESOURCE, SMTP, "SMTP 552: message exceeds the server's storage or size limit"),
    **_family("SMTP-535 SMTP-534", C.INFRA_AUTH, SMTP, "SMTP server refused the credentials (RFC 4954)"),
    # 530 "Authentication required" / "Must issue a STARTTLS command first", 538 encryption required:
    # the smtp connection lacks credentials or TLS
    **_family(
        "SMTP-530 SMTP-538",
        C.CONFIG_MISSING,
        SMTP,
        "SMTP server requires authentication or STARTTLS the connection does not configure",
    ),
    # 550/551/553/521/556: the address (sender or recipient) the settings give is refused or invalid
    **_family(
        "SMTP-550 SMTP-551 SMTP-553 SMTP-521 SMTP-556",
        C.CONFIG_MISSING,
        SMTP,
        "SMTP server refused a mailbox address of the configuration",
        confidence=0.7,
    ),
    "SMTP-550-denied": _v(C.INFRA_AUTH, SMTP, "SMTP server refused relaying or the sender (policy, RFC 5321 4.2.3)"),
    "SMTP-554": _v(C.CONFIG_MISSING, SMTP, "SMTP 554: transaction refused (sender identity or policy)", confidence=0.6),
    # enhanced status codes (RFC 3463), read before the reply code when specific
    **_family(
        "5.1.1 5.1.2 5.1.3 5.1.7 5.1.8 5.1.10",
        C.CONFIG_MISSING,
        SMTP,
        "SMTP addressing status: a sender or recipient address is wrong",
    ),
    **_family(
        "5.7.1 5.7.8 5.7.9 4.7.12 5.7.14",
        C.INFRA_AUTH,
        SMTP,
        "SMTP security status: authentication or delivery not authorized",
    ),
    "5.7.11": _v(C.CONFIG_MISSING, SMTP, "SMTP 5.7.11: encryption required for the authentication mechanism"),
    **_family("5.2.3 5.3.4 4.3.1 5.3.1", C.INFRA_RESOURCE, SMTP, "SMTP: message too big or mail system full"),
    **_family(
        "4.4.1 4.4.2", C.INFRA_NETWORK, SMTP, "SMTP network status: no answer or bad connection", remediation=_RETRY
    ),
    # smtplib's classes that carry no reply code
    **_family(
        "SMTPServerDisconnected SMTPConnectError",
        C.INFRA_NETWORK,
        SMTP,
        "the SMTP server closed or refused the connection",
        remediation=_RETRY,
        confidence=0.7,
    ),
    "SMTPNotSupportedError": _v(
        C.CONFIG_MISSING, SMTP, "SMTP server lacks the extension (AUTH, STARTTLS) the connection settings use"
    ),
    "SMTP no auth method": _v(C.CONFIG_MISSING, SMTP, "smtplib found no authentication method the server offers"),
    # --- SFTP status codes (filexfer-13 9.1) -----------------------------------------------
    **_family(
        "SSH_FX_NO_SUCH_FILE SSH_FX_NO_SUCH_PATH",
        C.UPSTREAM_FAILED,
        SFTP,
        "SFTP: the remote file or path does not exist",
    ),
    **_family(
        "SSH_FX_PERMISSION_DENIED SSH_FX_WRITE_PROTECT",
        C.INFRA_AUTH,
        SFTP,
        "SFTP: the user may not read or write the remote path",
    ),
    **_family(
        "SSH_FX_NO_CONNECTION SSH_FX_CONNECTION_LOST",
        C.INFRA_NETWORK,
        SFTP,
        "SFTP: the SSH connection is closed or lost",
        remediation=_RETRY,
    ),
    **_family(
        "SSH_FX_NO_SPACE_ON_FILESYSTEM SSH_FX_QUOTA_EXCEEDED",
        C.INFRA_RESOURCE,
        SFTP,
        "SFTP: the remote filesystem is full or the user's quota exceeded",
    ),
    **_family(
        "SSH_FX_OP_UNSUPPORTED SSH_FX_INVALID_FILENAME SSH_FX_NOT_A_DIRECTORY SSH_FX_FILE_IS_A_DIRECTORY "
        "SSH_FX_INVALID_PARAMETER",
        C.CODE_ERROR,
        SFTP,
        "SFTP: the server cannot do the operation on the path the code gives",
        confidence=0.6,
    ),
    "SSH_FX_FILE_CORRUPT": _v(C.DATA_MALFORMED, SFTP, "SFTP: the remote file is corrupt"),
    # --- SSH clients: paramiko classes and messages, OpenSSH's client ------------------------
    **_family(
        "AuthenticationException BadAuthenticationType OpenSSH-publickey",
        C.INFRA_AUTH,
        SSH,
        "the SSH server refused the authentication",
    ),
    "SSH admin prohibited": _v(C.INFRA_AUTH, SSH, "the SSH server forbids the channel (administratively prohibited)"),
    **_family(
        "PasswordRequiredException SSH-no-auth-methods SSH-bad-key OpenSSH-key-file",
        C.CONFIG_MISSING,
        SSH,
        "the SSH connection has no usable credential (no key or password, a key it cannot read, "
        "or a passphrase missing)",
    ),
    **_family(
        "IncompatiblePeer OpenSSH-no-match",
        C.CONFIG_MISSING,
        SSH,
        "client and server share no key-exchange, host-key or cipher algorithm",
        confidence=0.75,
    ),
    "OpenSSH-host-key": _v(
        C.CONFIG_MISSING, SSH, "the SSH server's host key is unknown or changed (known_hosts)", confidence=0.85
    ),
    **_family(
        "SSH-banner NoValidConnectionsError SSH-session-gone SSH-connect-failed OpenSSH-kex-closed ProxyCommandFailure",
        C.INFRA_NETWORK,
        SSH,
        "the SSH server is unreachable or dropped the connection",
        remediation=_RETRY,
        confidence=0.75,
    ),
    "SSH-timeout": _v(C.INFRA_TIMEOUT, SSH, "the SSH server did not answer in time (authentication or channel)"),
    "SSH resource shortage": _v(C.INFRA_RESOURCE, SSH, "the SSH server lacks resources for a channel", _RETRY),
}
# asyncssh raises each status as SFTP<CamelName> (SFTPNoSuchFile); SSH.NET as Sftp...Exception
_ASYNCSSH = {
    "SFTP" + "".join(part.capitalize() for part in key[len("SSH_FX_") :].split("_")): key
    for key in CODES
    if key.startswith("SSH_FX_")
}
_ALIASES = {
    **_ASYNCSSH,
    "SftpPathNotFoundException": "SSH_FX_NO_SUCH_FILE",
    "SftpPermissionDeniedException": "SSH_FX_PERMISSION_DENIED",
}
_SFTP_NUMBERS = {
    2: "SSH_FX_NO_SUCH_FILE",
    3: "SSH_FX_PERMISSION_DENIED",
    6: "SSH_FX_NO_CONNECTION",
    7: "SSH_FX_CONNECTION_LOST",
    8: "SSH_FX_OP_UNSUPPORTED",
    10: "SSH_FX_NO_SUCH_PATH",
    12: "SSH_FX_WRITE_PROTECT",
    14: "SSH_FX_NO_SPACE_ON_FILESYSTEM",
    15: "SSH_FX_QUOTA_EXCEEDED",
}

# --- FTP -------------------------------------------------------------------------------------
_FTP_CLASS = r"(?:ftplib\.)?error_(?:perm|temp|reply)|Net::FTP\w*Error|\bF[Tt][Pp]\w*(?:Error|Exception)"
_AIOFTP = r"Waiting for \([^)]*\) but got "  # aioftp's StatusCodeError: Waiting for ('2xx',) but got 550 [' ...']
_FTP_GATE = re.compile(rf"{_FTP_CLASS}|{_AIOFTP}|\bftplib\b|aioftp|ftputil")
_FTP_REPLY = re.compile(  # ftputil's Permanent/TemporaryError count once the gate saw ftputil
    rf"(?:{_FTP_CLASS}|(?:Permanent|Temporary)Error)\W{{1,6}}(?:Code:\s*)?(?P<a>[45]\d\d)\b(?P<rest>[^\n]{{0,200}})"
    rf"|{_AIOFTP}(?P<b>[45]\d\d)\b(?P<rest_b>[^\n]{{0,200}})"
    r"|\b(?P<c>[45]\d\d) (?P<rest_c>[^\n]{0,200})\(Net::FTP\w*Error\)"  # Ruby
)
# servers refuse a login over their connection limit with 530 (ProFTPD MaxClients, wu-ftpd `limit`):
# a transient refusal, not a credential one
_LIMIT = re.compile(
    r"maximum number of|\bmax \d+ (?:users|clients)|too many (?:users|clients|connections)|try (?:again )?later", re.I
)
_DENIED = re.compile(r"Permission denied|Access (?:is )?denied|not authori[sz]ed|Forbidden", re.I)

# --- SMTP ------------------------------------------------------------------------------------
_SMTP_GATE = re.compile(
    r"smtplib|\bSMTP\w*(?:Error|Exception|Refused|Disconnected)\b|Net::SMTP|javax\.mail|jakarta\.mail"
)
_ENHANCED = r"[245]\.\d{1,3}\.\d{1,3}"
_SMTP_REPLY = re.compile(
    rf"\((?P<a>[45]\d\d),\s*b?['\"](?:(?P<ea>{_ENHANCED})\b)?"  # smtplib: (535, b'5.7.8 ...')
    rf"|(?<![\w.])(?P<b>[45]\d\d)[ -](?P<eb>{_ENHANCED})\b"  # a server line: 530 5.7.0 ...
    rf"|SMTP\w*(?:Error|Exception):? (?P<c>[45]\d\d)\b(?:[ -](?P<ec>{_ENHANCED})\b)?"  # Ruby, JavaMail: 530 Must ...
)
# 550/554 "command rejected for policy reasons" (RFC 5321 4.2.3): relaying or sending refused
_POLICY = re.compile(r"[^\n]{0,120}?(?:relay|authenticat|not authori[sz]ed|denied)", re.I)
_SMTP_TEXTS = {"No suitable authentication method found": "SMTP no auth method"}

# --- SFTP ------------------------------------------------------------------------------------
_SFTP_NAME = re.compile(r"\b(?:SSH_)?FX_[A-Z_]+\b|\bSFTP[A-Z]\w+|\bSftp\w+Exception\b")
_JSCH = re.compile(r"SftpException: (\d{1,2}): ")

# --- SSH: paramiko's classes and texts, OpenSSH's client ---------------------------------------
_SSH_GATE = re.compile(r"paramiko|ssh_exception|SSHException|pysftp|asyncssh|\bssh\b|\bsftp\b", re.I)
_SSH_CLASSES = re.compile(
    r"\b(AuthenticationException|BadAuthenticationType|PasswordRequiredException|NoValidConnectionsError|"
    r"IncompatiblePeer|ProxyCommandFailure)\b"
)
_SSH_TEXTS = [  # (message, name); paramiko's raise sites, then OpenSSH's
    (r"Error reading SSH protocol banner", "SSH-banner"),
    (r"No authentication methods available", "SSH-no-auth-methods"),
    (r"not a valid \w+ private key file|Could not deserialize key data|Private key file is encrypted", "SSH-bad-key"),
    (r"Incompatible ssh (?:peer|server)", "IncompatiblePeer"),
    (r"ChannelException\(2\b", "SSH-connect-failed"),
    (r"ChannelException\(1\b", "SSH admin prohibited"),
    (r"ChannelException\(4\b", "SSH resource shortage"),
    (r"No existing session|SSH session not active|Server connection dropped", "SSH-session-gone"),
    (r"Authentication timeout|Timeout opening channel|timed out waiting for key negotiation", "SSH-timeout"),
    (r"Authentication failed", "AuthenticationException"),
    (r"Unable to connect to port \d+ on", "NoValidConnectionsError"),
]
_OPENSSH = [
    (r"Permission denied \((?:publickey|password|keyboard-interactive|gssapi)[\w,@-]*\)", "OpenSSH-publickey"),
    (r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED", "OpenSSH-host-key"),
    (r"Unable to negotiate with \S+ port \d+: no matching", "OpenSSH-no-match"),
    (r"kex_exchange_identification: |Connection timed out during banner exchange", "OpenSSH-kex-closed"),
    (
        r"UNPROTECTED PRIVATE KEY FILE|Load key \"[^\"]*\": (?:invalid format|error in libcrypto|bad permissions)",
        "OpenSSH-key-file",
    ),
]
_SSH_TEXT = [(re.compile(pattern), name) for pattern, name in _SSH_TEXTS]
_OPENSSH_TEXT = [(re.compile(pattern), name) for pattern, name in _OPENSSH]


def _hit(name: str) -> tuple[str, Verdict]:
    return name, CODES[name]


def _ftp(text: str) -> tuple[str, Verdict] | None:
    if not _FTP_GATE.search(text):
        return None
    for match in _FTP_REPLY.finditer(text):
        code = match["a"] or match["b"] or match["c"]
        rest = match["rest"] or match["rest_b"] or match["rest_c"] or ""
        name = f"FTP-{code}"
        if code == "530" and _LIMIT.search(rest):
            return _hit("FTP-530-limit")
        if code in ("450", "550") and _DENIED.search(rest):
            return _hit("FTP-550-denied")
        if name in CODES:
            return _hit(name)
    return None


def _smtp(text: str) -> tuple[str, Verdict] | None:
    if not _SMTP_GATE.search(text):
        return None
    for match in _SMTP_REPLY.finditer(text):
        enhanced = match["ea"] or match["eb"] or match["ec"]
        if enhanced in CODES:
            return _hit(enhanced)
        name = f"SMTP-{match['a'] or match['b'] or match['c']}"
        if name in ("SMTP-550", "SMTP-554") and _POLICY.match(text, match.end()):
            return _hit("SMTP-550-denied")
        if name in CODES:
            return _hit(name)
    for phrase, name in _SMTP_TEXTS.items():
        if phrase in text:
            return _hit(name)
    for name in ("SMTPNotSupportedError", "SMTPServerDisconnected", "SMTPConnectError"):
        if name in text:
            return _hit(name)
    return None


def _sftp(text: str) -> tuple[str, Verdict] | None:
    for match in _SFTP_NAME.finditer(text):
        word = match.group(0)
        name = _ALIASES.get(word) or ("SSH_" + word if word.startswith("FX_") else word)
        if name in CODES:
            return _hit(name)
    jsch = _JSCH.search(text)
    if jsch and int(jsch.group(1)) in _SFTP_NUMBERS:
        return _hit(_SFTP_NUMBERS[int(jsch.group(1))])
    return None


def _ssh(text: str) -> tuple[str, Verdict] | None:
    for regex, name in _OPENSSH_TEXT:
        if regex.search(text):
            return _hit(name)
    if not _SSH_GATE.search(text):
        return None
    for regex, name in _SSH_TEXT:
        if regex.search(text):
            return _hit(name)
    found = _SSH_CLASSES.search(text)
    return _hit(found.group(1)) if found else None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The reply code, status or client failure of FTP, SMTP, SFTP or SSH this error prints."""
    text = f"{type_name}: {message[:4000]}"
    return _smtp(text) or _ftp(text) or _sftp(text) or _ssh(text)
