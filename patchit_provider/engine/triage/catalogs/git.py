"""git's fatal messages -> category, as git, git-sync, dbt deps and GitPython print them.

git names no error by a code: its messages are its catalog, each a translatable template of git's
source (remote-curl.c "repository '%s' not found", "Authentication failed for '%s'"; prompt.c
"could not read %s"; remote.c "couldn't find remote ref %s"; builtin/checkout.c "pathspec '%s'
did not match any file(s) known to git"; setup.c "not a git repository"; pkt-line.c "the remote
end hung up unexpectedly"), with what the transports under it print (OpenSSH's "Permission denied
(publickey)", the hosting services' `remote:` lines) and GitPython's classes (git/exc.py). A
template is read wherever the text carries it: GitPython's `Cmd('git') failed due to: exit
code(128) ... stderr: 'fatal: ...'`, git-sync's `Run(git fetch ...): exit status 128: { stdout:
"", stderr: "fatal: ..." }`, dbt's debug log. Only errors that are git's (its class, `fatal:` /
`remote:` lines, the word git) are read; the first template of this table that matches decides,
so a cause (an auth refusal) beats the generic line git prints after it.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

GIT = "https://github.com/git/git/blob/master"
SSH = "https://github.com/openssh/openssh-portable/blob/master/sshconnect2.c (userauth: 'Permission denied (%s).')"
GITPYTHON = "https://github.com/gitpython-developers/GitPython/blob/main/git/exc.py"
GITHUB = "https://docs.github.com/en/repositories/creating-and-managing-repositories/troubleshooting-cloning-errors"
SOURCE = f"{GIT}; {SSH}; {GITPYTHON}; {GITHUB}"


def _v(category: C, why: str, source: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, source, f"git: {why}", remediation)


_AUTH = "the remote refused the credentials, or there were none to give"
_NO_REPO = "the remote has no repository at the configured URL (or hides it from these credentials)"
_NO_REF = "the branch, tag or commit pinned (packages.yml, a git+ requirement, the sync branch) is not on the remote"
_NO_WORKTREE = "the directory is not a usable git checkout"
_TRANSIENT = "the connection to the remote broke (transient)"

# (name, pattern, verdict), most specific first: a cause line before the generic ones git adds.
TABLE: list[tuple[str, str, Verdict]] = [
    # --- credentials refused or missing: infra.auth (remote-curl.c, prompt.c, ssh, hosts) ---
    (
        "Authentication failed",
        r"Authentication failed for '",
        _v(C.INFRA_AUTH, _AUTH, f"{GIT}/remote-curl.c", confidence=0.9),
    ),
    (
        "could not read credentials",
        r"could not read (?:Username|Password) for '[^'\n]*': ",
        _v(C.INFRA_AUTH, "the remote asked for credentials and none are configured", f"{GIT}/prompt.c", confidence=0.9),
    ),
    (
        "Permission denied (publickey)",
        r"Permission denied \(publickey[\w,-]*\)",
        _v(C.INFRA_AUTH, _AUTH, SSH, confidence=0.9),
    ),
    (
        "remote refused credentials",
        r"remote: (?:Invalid username or password|Support for password authentication was removed|"
        r"HTTP Basic: Access denied|Permission to \S+ denied to )",
        _v(C.INFRA_AUTH, _AUTH, GITHUB, confidence=0.9),
    ),
    (
        "HTTP 401/403",
        r"unable to access '[^'\n]*': The requested URL returned error: 40[13]\b",
        _v(C.INFRA_AUTH, _AUTH, f"{GIT}/remote-curl.c", confidence=0.9),
    ),
    # --- the configured repository does not exist: config.missing ---
    (
        "repository not found",
        r"repository '[^'\n]*' (?:not found|does not exist)",
        _v(C.CONFIG_MISSING, _NO_REPO, f"{GIT}/remote-curl.c"),
    ),
    (
        "Repository not found",
        r"(?:remote|ERROR): Repository not found\.|remote: The project you were looking for could not be found",
        _v(C.CONFIG_MISSING, _NO_REPO, GITHUB),
    ),
    (
        "not a git repository (remote)",
        r"'[^'\n]+' does not appear to be a git repository",
        _v(C.CONFIG_MISSING, _NO_REPO, f"{GIT}/remote.c"),
    ),
    (
        "HTTP 404",
        r"unable to access '[^'\n]*': The requested URL returned error: 404\b",
        _v(C.CONFIG_MISSING, _NO_REPO, f"{GIT}/remote-curl.c"),
    ),
    # --- the pinned ref does not exist: dependency.missing, a pin to correct (remote.c, builtin/clone.c,
    #     builtin/checkout.c, fetch-pack.c); dbt reads its packages.yml revision the same way ---
    (
        "couldn't find remote ref",
        r"[Cc]ouldn't find remote ref ",
        _v(C.DEPENDENCY_MISSING, _NO_REF, f"{GIT}/remote.c", confidence=0.8),
    ),
    (
        "Remote branch not found",
        r"Remote branch \S+ not found in upstream ",
        _v(C.DEPENDENCY_MISSING, _NO_REF, f"{GIT}/builtin/clone.c", confidence=0.8),
    ),
    (
        "pathspec did not match",
        r"pathspec '[^'\n]*' did not match any file\(s\) known to git",
        _v(C.DEPENDENCY_MISSING, _NO_REF, f"{GIT}/builtin/checkout.c", confidence=0.75),
    ),
    (
        "reference is not a tree",
        r"reference is not a tree: |Server does not allow request for unadvertised object ",
        _v(C.DEPENDENCY_MISSING, _NO_REF, f"{GIT}/builtin/checkout.c; {GIT}/fetch-pack.c", confidence=0.75),
    ),
    (
        "unknown revision",
        r"ambiguous argument '[^'\n]*': unknown revision or path not in the working tree",
        _v(C.DEPENDENCY_MISSING, _NO_REF, f"{GIT}/setup.c", confidence=0.7),
    ),
    # --- the working directory is no checkout, or not one git may use: config.missing (setup.c) ---
    (
        "dubious ownership",
        r"[Dd]etected dubious ownership in repository at",
        _v(
            C.CONFIG_MISSING, "the checkout is owned by another user (safe.directory)", f"{GIT}/setup.c", confidence=0.9
        ),
    ),
    (
        "not a git repository",
        r"not a git repository \(or any (?:of the parent directories|parent up to mount point)|"
        r"\bInvalidGitRepositoryError\b",
        _v(C.CONFIG_MISSING, _NO_WORKTREE, f"{GIT}/setup.c; {GITPYTHON}", confidence=0.75),
    ),
    (
        "Host key verification failed",
        r"Host key verification failed\.",
        _v(C.CONFIG_MISSING, "the remote's SSH host key is not in known_hosts", SSH, confidence=0.85),
    ),
    (
        "SSL certificate problem",
        r"unable to access '[^'\n]*': (?:SSL certificate problem|server certificate verification failed)",
        _v(
            C.CONFIG_MISSING, "the remote's TLS certificate is not trusted (CA bundle)", f"{GIT}/http.c", confidence=0.8
        ),
    ),
    # --- git or git-lfs is not installed: the image must change ---
    (
        "git not installed",
        r"\bGitCommandNotFound\b|Cmd\('git'\) not found|Bad git executable|"
        r"Could not find command, ensure it is in the user's PATH: \"git\"|git: '(?:lfs|remote-https?)' is not a git command",
        _v(
            C.DEPENDENCY_MISSING,
            "git (or git-lfs) is not installed where the task runs",
            GITPYTHON,
            Remediation.ESCALATE,
        ),
    ),
    (
        "Out of memory",
        r"Out of memory, malloc failed|mmap failed: Cannot allocate memory",
        _v(C.INFRA_RESOURCE, "git ran out of memory", f"{GIT}/wrapper.c"),
    ),
    # --- the transport broke: infra.network, retry (pkt-line.c, remote-curl.c, index-pack.c, ssh) ---
    (
        "connection broke",
        r"the remote end hung up unexpectedly|unexpected disconnect while reading sideband packet|"
        r"\bRPC failed; |\bearly EOF\b|rate limited by '[^'\n]*', please try again later|"
        r"ssh: connect to host \S+ port \d+: |ssh: Could not resolve hostname ",
        _v(
            C.INFRA_NETWORK,
            _TRANSIENT,
            f"{GIT}/pkt-line.c; {GIT}/remote-curl.c; {GIT}/builtin/index-pack.c",
            confidence=0.8,
        ),
    ),
    (
        "unable to access",
        r"unable to access '[^'\n]*': ",
        _v(
            C.INFRA_NETWORK, "the HTTP transport failed (curl's reason follows)", f"{GIT}/remote-curl.c", confidence=0.6
        ),
    ),
]
_COMPILED = [(name, re.compile(pattern), verdict) for name, pattern, verdict in TABLE]

_GIT = re.compile(
    r"\bgit\b|\bfatal: |\bremote: |\bERROR: Repository not found|GitCommand|Host key verification failed", re.I
)


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The first git template of this table in an error that is git's."""
    text = f"{type_name}: {message[:6000]}"
    if not _GIT.search(text):
        return None
    for name, pattern, verdict in _COMPILED:
        if pattern.search(text):
            return name, verdict
    return None
