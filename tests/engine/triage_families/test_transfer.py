"""File and mail transfer protocols (catalogs/transfer.py): FTP and SMTP reply codes, SFTP status
codes and SSH client failures as their clients printed them in public threads, look-alikes of
other engines that must not be claimed, and the table's categories."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import transfer
from patchit_testing import triage_text

# (source, output as posted, category, remediation, the catalog's name for it)
POSTED = [
    # --- FTP: ftplib, aioftp, FluentFTP, Ruby Net::FTP -----------------------------------------
    (
        "https://github.com/roveo/zakupki/issues/2",
        '  File "/usr/lib/python2.7/ftplib.py", line 224, in getresp\n    raise error_perm, resp\n'
        "ftplib.error_perm: 550 Failed to change directory.",
        Category.UPSTREAM_FAILED,
        "escalate",
        "FTP-550",
    ),
    (
        "https://github.com/kosmosnautti/dltool/issues/1",
        "    raise error_perm(resp)\nftplib.error_perm: 530 Login incorrect.",
        Category.INFRA_AUTH,
        "escalate",
        "FTP-530",
    ),
    (
        "https://github.com/qiyunlab/HGTector/issues/24",
        "ftplib.error_temp: 421 Idle timeout (60 seconds): closing control connection",
        Category.INFRA_NETWORK,
        "retry",
        "FTP-421",
    ),
    (
        "https://github.com/qiyunlab/HGTector/issues/2",
        "ftplib.error_temp: 425 Unable to build data connection: Connection refused",
        Category.INFRA_NETWORK,
        "retry",
        "FTP-425",
    ),
    (
        "https://github.com/aio-libs/aioftp/issues/162",
        "(our printout) ==> ERROR upload failed: StatusCodeError  Waiting for ('2xx',) but got 550 "
        "[' Permission denied.']",
        Category.INFRA_AUTH,
        "escalate",
        "FTP-550-denied",
    ),
    (
        "https://github.com/robinrodricks/FluentFTP/issues/1227",
        "FluentFTP.Exceptions.FtpCommandException: 'Code: 425 Message: Unable to build data connection: "
        "Operation not permitted'",
        Category.INFRA_NETWORK,
        "retry",
        "FTP-425",
    ),
    (
        "https://github.com/scttnlsn/dandelion/issues/90",
        "/Users/nathanaelmoody/.rbenv/versions/1.9.3-p429/lib/ruby/1.9.1/net/ftp.rb:298:in `getresp': 425 Could not "
        "open data connection to port 61820: No route to host (Net::FTPTempError)",
        Category.INFRA_NETWORK,
        "retry",
        "FTP-425",
    ),
    # --- SMTP: smtplib (Airflow's email), JavaMail ---------------------------------------------
    (
        "https://github.com/hacky1997/voice-based-email-for-blind/issues/22",
        '  File "C:\\Program Files (x86)\\Microsoft Visual Studio\\Shared\\Python37_64\\lib\\smtplib.py", line 642, '
        "in auth\n    raise SMTPAuthenticationError(code, resp)\nsmtplib.SMTPAuthenticationError: (535, b'5.7.8 "
        "Username and Password not accepted. Learn more at\\n5.7.8  https://support.google.com/mail/?p=BadCredentials "
        "j10sm5731558pfn.207 - gsmtp')",
        Category.INFRA_AUTH,
        "escalate",
        "5.7.8",
    ),
    (
        "https://github.com/ReviewNB/support/issues/70",
        '  File "/usr/local/lib/python3.6/smtplib.py", line 642, in auth\n    raise SMTPAuthenticationError(code, '
        "resp)\nsmtplib.SMTPAuthenticationError: (530, b'Must issue a STARTTLS command first')",
        Category.CONFIG_MISSING,
        "escalate",
        "SMTP-530",
    ),
    (
        "https://github.com/virtualzone/tubewarder/issues/29",
        "com.sun.mail.smtp.SMTPSendFailedException: 530 5.7.0 Must issue a STARTTLS command first. "
        "pe5sm5768337wjb.15 - gsmtp",
        Category.CONFIG_MISSING,
        "escalate",
        "SMTP-530",
    ),
    (
        "https://github.com/ae-utbm/sith/issues/91",
        "SMTPRecipientsRefused: {'ludovic.farine@utbm.fr': (550, b'5.1.1 <ludovic.farine@utbm.fr>: Recipient "
        "address rejected: User unknown in local recipient table')}",
        Category.CONFIG_MISSING,
        "escalate",
        "5.1.1",
    ),
    (
        "https://github.com/dotkom/onlineweb4/issues/732",
        "SMTPRecipientsRefused: {u'5435435435@45435.4534': (501, '5.1.3 Bad recipient address syntax')}",
        Category.CONFIG_MISSING,
        "escalate",
        "5.1.3",
    ),
    (
        "https://github.com/mikechabot/smtp-email-spoofer-py/issues/18",
        "    raise SMTPRecipientsRefused(senderrs)\nsmtplib.SMTPRecipientsRefused: {'bryanb@psych360.org': (550, "
        "b'relay access denied - please authenticate')}",
        Category.INFRA_AUTH,
        "escalate",
        "SMTP-550-denied",
    ),
    (
        "https://github.com/mdn/developer-portal/issues/538",
        "smtplib.SMTPDataError: (554, b'Message rejected: Email address is not verified. The following identities "
        "failed the check in region US-WEST-2: [REDACTED BY STEVE]@mozilla.com')",
        Category.CONFIG_MISSING,
        "escalate",
        "SMTP-554",
    ),
    (
        "https://github.com/mozilla/bugbot/issues/121",
        '  File "/usr/lib/python2.7/smtplib.py", line 369, in getreply\n    raise SMTPServerDisconnected("Connection '
        'unexpectedly closed")\nsmtplib.SMTPServerDisconnected: Connection unexpectedly closed',
        Category.INFRA_NETWORK,
        "retry",
        "SMTPServerDisconnected",
    ),
    # --- SFTP status codes: Go pkg/sftp, SSH.NET ------------------------------------------------
    (
        "https://github.com/gilbertchen/duplicacy/issues/444",
        'Failed to configure the storage: sftp: "Permission denied" (SSH_FX_PERMISSION_DENIED)',
        Category.INFRA_AUTH,
        "escalate",
        "SSH_FX_PERMISSION_DENIED",
    ),
    (
        "https://github.com/sshnet/SSH.NET/issues/483",
        "Renci.SshNet.Common.SftpPermissionDeniedException: Permission denied.",
        Category.INFRA_AUTH,
        "escalate",
        "SSH_FX_PERMISSION_DENIED",
    ),
    # --- SSH clients: paramiko (Airflow's SSH/SFTP providers), OpenSSH --------------------------
    (
        "https://github.com/Sage-Bionetworks/synapsePythonClient/pull/792",
        "ERROR    paramiko.transport:transport.py:1817 paramiko.ssh_exception.SSHException: Error reading SSH "
        "protocol banner",
        Category.INFRA_NETWORK,
        "retry",
        "SSH-banner",
    ),
    (
        "https://github.com/AlexxIT/SSHCommand/issues/15",
        '  File "/usr/local/lib/python3.10/site-packages/paramiko/client.py", line 380, in connect\n    raise '
        "NoValidConnectionsError(errors)\nparamiko.ssh_exception.NoValidConnectionsError: [Errno None] Unable to "
        "connect to port 22 on 192.168.188.99",
        Category.INFRA_NETWORK,
        "retry",
        "NoValidConnectionsError",
    ),
    (
        "https://github.com/deepmodeling/dpgen/issues/1027",
        "paramiko.ssh_exception.AuthenticationException: Authentication failed.",
        Category.INFRA_AUTH,
        "escalate",
        "AuthenticationException",
    ),
    (
        "https://github.com/Digital-Sapphire/PyUpdater/issues/318",
        "paramiko.ssh_exception.BadAuthenticationType: Bad authentication type; allowed types: ['publickey']",
        Category.INFRA_AUTH,
        "escalate",
        "BadAuthenticationType",
    ),
    (
        "https://github.com/apache/airflow/issues/8490",
        '  File "/usr/lib/python2.7/site-packages/airflow/contrib/operators/ssh_operator.py", line 177, in execute\n'
        '    raise AirflowException("SSH operator error: {0}".format(str(e)))\n'
        "AirflowException: SSH operator error: No authentication methods available",
        Category.CONFIG_MISSING,
        "escalate",
        "SSH-no-auth-methods",
    ),
    (
        "https://github.com/paramiko/paramiko/issues/1829",
        '  File "/usr/lib/python2.7/dist-packages/paramiko/transport.py", line 407, in start_client\n    raise e\n'
        "paramiko.ssh_exception.SSHException: Incompatible ssh peer (no acceptable kex algorithm)",
        Category.CONFIG_MISSING,
        "escalate",
        "IncompatiblePeer",
    ),
    (
        "https://github.com/Hearen/AboutShell/issues/52",
        "Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have "
        "the correct access rights\nand the repository exists.",
        Category.INFRA_AUTH,
        "escalate",
        "OpenSSH-publickey",
    ),
]


@pytest.mark.parametrize(("source", "text", "category", "remediation", "name"), POSTED, ids=[p[0] for p in POSTED])
def test_transfer_codes_decide(source, text, category, remediation, name):
    found = triage_text(text)
    assert (found.category, found.remediation.value) == (category, remediation), (source, found.decided_by)
    assert transfer.find("log", text)[0] == name, source


def test_the_reply_text_refines_an_ambiguous_code():
    """550 is "file unavailable (not found, no access)" and 530 a refused login: the server's text
    tells which, and a 530 over the server's connection limit is transient."""
    assert transfer.find("ftplib.error_perm", "550 /data/in/x.csv: No such file or directory")[0] == "FTP-550"
    assert transfer.find("ftplib.error_perm", "550 Permission denied.")[0] == "FTP-550-denied"
    limit = "530 Sorry, the maximum number of clients (5) for this user are already connected."
    assert transfer.find("ftplib.error_perm", limit)[1].remediation.value == "retry"
    # a specific enhanced status code beats its reply code; 5.7.0 is not specific
    assert transfer.find("smtplib.SMTPRecipientsRefused", "{'a@b.c': (554, b'5.7.1 Relaying denied')}")[0] == "5.7.1"
    assert transfer.find("smtplib.SMTPSenderRefused", "(530, b'5.7.0 Authentication Required', 'a@b.c')")[0] == (
        "SMTP-530"
    )


@pytest.mark.parametrize(
    "text",
    [
        "requests.exceptions.HTTPError: 530 Server Error: Frozen for url: https://api.acme.io/v1/export",
        "psycopg2.errors.InsufficientPrivilege: permission denied for table orders",
        "pymongo.errors.OperationFailure: Authentication failed., full error: {'ok': 0.0, 'errmsg': "
        "'Authentication failed.', 'code': 18, 'codeName': 'AuthenticationFailed'}",
        "snowflake.connector.errors.DatabaseError: 250001 (08001): Failed to connect to DB: acme.snowflakecomputing"
        ".com:443. Incorrect username or password was specified.",
        "ValueError: version 5.7.8 of the schema is not supported (550 rows skipped)",
        "FileNotFoundError: [Errno 2] No such file or directory: '/data/in/orders.csv'",
    ],
)
def test_a_look_alike_of_another_engine_is_not_claimed(text):
    assert transfer.find("", text) is None
    assert "Transfer protocol" not in triage_text(text).decided_by


def test_every_entry_has_a_category_and_a_source():
    assert all(isinstance(v.category, Category) and v.source.startswith("http") for v in transfer.CODES.values())
    names = {name for _regex, name in transfer._SSH_TEXT + transfer._OPENSSH_TEXT}
    names |= set(transfer._ALIASES.values()) | set(transfer._SFTP_NUMBERS.values())
    assert names <= set(transfer.CODES)
    assert transfer.CODES["SSH_FX_NO_SUCH_FILE"].category == Category.UPSTREAM_FAILED
