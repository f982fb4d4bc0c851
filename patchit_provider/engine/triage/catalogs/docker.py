"""Docker errors -> category: the registry's error codes, the daemon's and the CLI's messages,
docker-py's classes and the exit status of a container the Airflow provider reports.

Sources: the OCI distribution spec's error codes (MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED,
TOOMANYREQUESTS, ...), which the Docker daemon and other Go clients print as the code in lower
case with spaces ("manifest unknown: manifest unknown", distribution's errcode.ErrorCode.Error);
`docker run`'s documented exit status (126 the command cannot be invoked, 127 it is not found; a
status above 128 is a signal, read by codes.signal_verdict); docker-py's docker/errors.py (an
ImageNotFound is a 404 whose explanation names a missing image); the Airflow provider's
`Docker container failed: {'StatusCode': N}` (DockerContainerFailedException). Everything else
(a status of 1, an APIError of HTTP 500, "no space left on device") is left to the container's own
output, the HTTP status and the errno.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs import codes
from patchit_provider.engine.triage.catalogs.base import Verdict

OCI = "https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes"
ERRCODE = "https://github.com/distribution/distribution/blob/main/registry/api/errcode/register.go"
RUN = "https://docs.docker.com/engine/containers/run/#exit-status"
DOCKER_PY = "https://github.com/docker/docker-py/blob/main/docker/errors.py"
MOBY = "https://github.com/moby/moby/blob/master/client/errors.go; https://github.com/moby/moby/blob/master/distribution/errors.go"
PROVIDER = (
    "https://github.com/apache/airflow/blob/main/providers/docker/src/airflow/providers/docker/operators/docker.py"
)
SOURCE = f"{OCI}; {ERRCODE}; {RUN}; {DOCKER_PY}; {MOBY}; {PROVIDER}"


def _v(category: C, why: str, source: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, source, f"Docker {why}", remediation)


_NO_IMAGE = _v(C.CONFIG_MISSING, "the image, repository or tag the task names does not exist", OCI, confidence=0.85)
_AUTH = _v(C.INFRA_AUTH, "the registry refused the credentials (or there were none)", OCI, confidence=0.9)
_THROTTLED = _v(C.INFRA_NETWORK, "the registry is rate limiting or unavailable (transient)", ERRCODE, confidence=0.9)
_TRANSFER = _v(C.INFRA_NETWORK, "a blob upload broke in transit (re-push)", OCI, Remediation.RETRY, 0.75)
_INCOMPLETE = _v(
    C.UPSTREAM_FAILED, "the image's manifest names a layer the registry lacks (a push never finished)", OCI
)
_BAD_NAME = _v(C.CODE_ERROR, "the image reference is malformed", OCI, confidence=0.8)

# The registry's codes (OCI spec, with distribution's UNAVAILABLE): what the task asked for is
# absent (config), refused (auth), throttled or broken in transit (retry), or never finished.
REGISTRY: dict[str, Verdict] = {
    "MANIFEST_UNKNOWN": _NO_IMAGE,
    "NAME_UNKNOWN": _NO_IMAGE,
    "UNAUTHORIZED": _AUTH,
    "DENIED": _AUTH,
    "TOOMANYREQUESTS": _THROTTLED,
    "UNAVAILABLE": _THROTTLED,
    "BLOB_UNKNOWN": _INCOMPLETE,
    "MANIFEST_BLOB_UNKNOWN": _INCOMPLETE,
    "BLOB_UPLOAD_INVALID": _TRANSFER,
    "BLOB_UPLOAD_UNKNOWN": _TRANSFER,
    "DIGEST_INVALID": _TRANSFER,
    "SIZE_INVALID": _TRANSFER,
    "NAME_INVALID": _BAD_NAME,
    "TAG_INVALID": _BAD_NAME,
}

# `docker run`'s own statuses (125, the daemon failed, says nothing more than its message)
EXIT: dict[int, Verdict] = {
    126: _v(C.CODE_ERROR, "exit 126: the container's command cannot be invoked (not executable)", RUN, confidence=0.65),
    127: _v(
        C.DEPENDENCY_MISSING,
        "exit 127: the container's command is not in the image",
        RUN,
        Remediation.ESCALATE,
        0.75,
    ),
}

# The daemon's and the CLI's messages that carry no registry code: (name, pattern, verdict)
MESSAGES: list[tuple[str, re.Pattern[str], Verdict]] = [
    (
        "pull access denied",
        re.compile(r"pull access denied for \S+?, repository does not exist or may require 'docker login'"),
        _v(C.CONFIG_MISSING, "the image does not exist or the registry login is missing", MOBY, confidence=0.85),
    ),
    ("No such image", re.compile(r"\bNo such image: \S"), _NO_IMAGE),
    ("invalid reference format", re.compile(r"invalid reference format"), _BAD_NAME),
    (
        "executable file not found",
        re.compile(r"executable file not found in \$PATH"),
        _v(C.DEPENDENCY_MISSING, "the container's command is not in the image", MOBY, Remediation.ESCALATE, 0.9),
    ),
    (
        "platform mismatch",
        re.compile(
            r"no matching manifest for \S+ in the manifest list entries|exec user process caused:? .*exec format error"
        ),
        _v(C.DEPENDENCY_MISSING, "the image is built for another platform (architecture)", MOBY, Remediation.ESCALATE),
    ),
    (
        "daemon socket permission denied",
        re.compile(r"[Pp]ermission denied while trying to connect to the Docker daemon socket"),
        _v(C.INFRA_AUTH, "the worker's user may not use the Docker daemon's socket", MOBY, confidence=0.9),
    ),
    (
        "daemon socket missing",
        re.compile(
            r"Error while fetching server API version: \('Connection aborted\.', (?:FileNotFoundError|error)\(2,"
        ),
        _v(C.CONFIG_MISSING, "no Docker socket at the configured docker_url (not mounted, or no daemon)", DOCKER_PY),
    ),
    (
        "daemon unreachable",
        re.compile(r"Cannot connect to the Docker daemon at \S+\. Is the docker daemon running\?"),
        _v(C.INFRA_NETWORK, "the Docker daemon is not answering", MOBY, confidence=0.75),
    ),
    (
        "no Docker host",
        re.compile(r"Failed to establish connection to any given Docker hosts"),
        _v(C.INFRA_NETWORK, "no Docker host of the operator answered", PROVIDER, confidence=0.6),
    ),
]

# docker-py classes whose name says enough; NotFound, APIError, ContainerError and BuildError
# only wrap the daemon's message or the container's status, which decide
CLASSES: dict[str, Verdict] = {
    "ImageNotFound": _v(C.CONFIG_MISSING, "ImageNotFound: the image does not exist or cannot be pulled", DOCKER_PY),
    "InvalidRepository": _v(C.CODE_ERROR, "InvalidRepository: the image name is malformed", DOCKER_PY, confidence=0.8),
    "InvalidArgument": _v(C.CODE_ERROR, "InvalidArgument: a call passes an invalid value", DOCKER_PY, confidence=0.75),
    "InvalidVersion": _v(C.CODE_ERROR, "InvalidVersion: the api_version is unsupported", DOCKER_PY, confidence=0.75),
    **{
        name: _v(
            C.CONFIG_MISSING, f"{name}: the client's TLS, config file or context is wrong", DOCKER_PY, confidence=0.8
        )
        for name in ("TLSParameterError", "InvalidConfigFile", "ContextNotFound", "MissingContextParameter")
    },
}

_SPACED = {code.lower().replace("_", " "): code for code in REGISTRY}
# `manifest unknown: ...` or a bare `manifest unknown` after a colon (Go clients), `"code":"MANIFEST_UNKNOWN"` (the JSON body), a bare
# MANIFEST_UNKNOWN (multi-word codes only: UNAUTHORIZED or UNAVAILABLE alone are no registry's)
_CODE = re.compile(
    r"(?:^|(?<=: )|(?<=\n)|(?<=[\"'(]))(?P<spaced>"
    + "|".join(sorted(map(re.escape, _SPACED), key=len, reverse=True))
    + r")(?=: |\s*$|[\"'\n.])"
    r"|\"code\"\s*:\s*\"(?P<json>[A-Z_]+)\"|\b(?P<bare>[A-Z]+_[A-Z_]+)\b"
)
_STATUS = re.compile(
    r"[Dd]ocker container failed: \{[^}]*'StatusCode': (?P<op>\d+)"
    r"|in image '[^'\n]*' returned non-zero exit status (?P<py>\d+)"
)
_DOCKER = re.compile(
    r"docker|daemon|\bregistry\b|\bimages?\b|manifest|containerd|\b(?:pull|push)(?:ing)?\b|"
    r"\.ecr\.|gcr\.io|ghcr\.io|quay\.io|azurecr\.io|pkg\.dev",
    re.I,
)


def _registry(text: str) -> tuple[str, Verdict] | None:
    for match in _CODE.finditer(text):
        code = _SPACED.get(match["spaced"] or "") or match["json"] or match["bare"]
        if code in REGISTRY:
            return code, REGISTRY[code]
    return None


def _exit(text: str) -> tuple[str, Verdict] | None:
    match = _STATUS.search(text)
    if not match:
        return None
    status = int(match["op"] or match["py"])
    if status in EXIT:
        return f"exit status {status}", EXIT[status]
    signal = codes.signal_verdict(f"exit status {status}")  # 137 = 128 + SIGKILL, ...
    return (f"exit status {status} ({signal[0]})", signal[1]) if signal else None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """A Docker registry code, daemon message, docker-py class or container status, in an error
    that is Docker's (its class, the daemon or a registry in the text)."""
    text = f"{type_name}: {message[:4000]}"
    if not _DOCKER.search(text):
        return None
    for name, pattern, verdict in MESSAGES:
        if pattern.search(text):
            return name, verdict
    found = _registry(text) or _exit(text)
    if found:
        return found
    short = type_name.rsplit(".", 1)[-1].strip()
    if short in CLASSES and ("docker" in type_name or "docker" in message.lower()):
        return short, CLASSES[short]
    return None
