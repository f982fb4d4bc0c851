"""What an event from the ingest API may say, beyond its schema, and whose id it gets.

Ingested events come from strangers' systems (a relay for Databricks, Snowflake, Glue ...). They
must not steer PATCHIT into this host or into a DAG's scope:

- `platform: airflow` is refused: an Airflow failure reaches PATCHIT through capture (listener,
  notifier) or a hand-triggered run that names a real task instance, both checked by Airflow.
  Verifying a posted event against the task instance would still attribute the caller's text
  and code paths to that DAG's readers, so it is refused instead.
- `log_uri` / `artifact_uris` only with the configured schemes and hosts; never `file://`, local
  paths, credentials in the URI, or a loopback / private address (unless listed explicitly).
  The engine also never opens an ingested URI locally (`is_ingested`, see evidence.py).
- `code_path` only inside a repository configured in `repo_map`.
- The stored id is `ingest:<caller>:<their id>`: capture's ids are hex, so a caller can neither
  pre-empt a failure capture will record nor collide with another caller.
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import os
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from patchit_provider.engine.models import FailureEvent, Platform
from patchit_provider.engine.repo import discover_repo
from patchit_provider.engine.settings import PatchitSettings

PREFIX = "ingest:"
MAX_CALLER_ID_CHARS = 160  # "patchit__" + "ingest:" + caller (<= 66) + ":" + id stays within 250
_CALLER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_MAX_CALLER_TAG = 64

FieldError = tuple[tuple[str | int, ...], str]


def is_ingested(event: FailureEvent) -> bool:
    """True for an event that came through the ingest API (its id is in the ingest namespace)."""
    return event.event_id.startswith(PREFIX)


def caller_tag(user_name: str) -> str:
    """An injective, run-id-safe spelling of the caller: unsafe bytes as ~XX, long names hashed."""
    tag = "".join(
        ch if ch in _CALLER_CHARS else "".join(f"~{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        for ch in user_name
    )
    if len(tag) > _MAX_CALLER_TAG:  # "~h" never occurs in an escaped spelling (hex digits are upper case)
        tag = "~h" + hashlib.sha256(user_name.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return tag or "~00"


def namespaced(event: FailureEvent, user_name: str) -> FailureEvent:
    """The event as stored: its id (the caller's, or the natural key) in the caller's namespace."""
    return event.model_copy(update={"event_id": f"{PREFIX}{caller_tag(user_name)}:{event.event_id}"})


def refusals(event: FailureEvent, settings: PatchitSettings) -> list[FieldError]:
    """Field errors (location, reason) for an event the ingest API must not accept."""
    errors: list[FieldError] = []
    if event.platform is Platform.AIRFLOW:
        errors.append(
            (
                ("platform",),
                "platform 'airflow' events come only from PATCHIT's capture of a real task "
                "failure (listener, notifier, or a run triggered with a task-instance reference); send "
                "the platform that failed (dbt, spark, databricks, snowflake, glue, generic)",
            )
        )
    if len(event.event_id) > MAX_CALLER_ID_CHARS:
        errors.append((("event_id",), f"event_id is longer than {MAX_CALLER_ID_CHARS} characters"))
    if event.log_uri is not None:
        problem = uri_problem(event.log_uri, settings)
        if problem:
            errors.append((("log_uri",), problem))
    for index, uri in enumerate(event.artifact_uris):
        problem = uri_problem(uri, settings)
        if problem:
            errors.append((("artifact_uris", index), problem))
    if event.code_path is not None:
        problem = code_path_problem(event.code_path, event.pipeline_id, settings.repo_map)
        if problem:
            errors.append((("code_path",), problem))
    return errors


def uri_problem(uri: str, settings: PatchitSettings) -> str | None:
    schemes = [s for s in settings.ingest_uri_schemes if s != "file"]
    try:
        parts = urlsplit(uri.strip())
        host = parts.hostname
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError as exc:
        return f"not a valid URI: {exc}"
    scheme = parts.scheme.lower()
    if scheme == "file":
        return "file:// URIs are never accepted from ingest: PATCHIT does not read files of this host for other systems"
    if len(scheme) <= 1:  # no scheme, or a Windows drive letter
        return f"a local path is not accepted; give a URI with one of the schemes {', '.join(schemes)} ([patchit] ingest_uri_schemes)"
    if scheme not in schemes:
        return f"scheme {scheme!r} is not accepted; [patchit] ingest_uri_schemes allows: {', '.join(schemes) or 'none'}"
    if not host:
        return "the URI names no host (bucket)"
    if has_credentials:
        return "credentials in a URI are not accepted"
    host = host.lower()
    if settings.ingest_uri_hosts:
        if not any(fnmatch.fnmatchcase(host, pattern) for pattern in settings.ingest_uri_hosts):
            return f"host {host!r} is not in [patchit] ingest_uri_hosts"
    elif _local_host(host):
        return f"host {host!r} is this machine or a private network; list it in [patchit] ingest_uri_hosts to allow it"
    return None


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
    )


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def code_path_problem(code_path: str, pipeline_id: str, repo_map: dict[str, str]) -> str | None:
    """None when `code_path` (and the repository the engine would derive from it) lies inside a
    repository of `repo_map`; a relative path is fine when the pipeline itself is mapped."""
    roots = [Path(os.path.realpath(Path(value).expanduser())) for value in repo_map.values()]
    if not roots:
        return "code_path is accepted only inside a repository configured in [patchit] repo_map, and none is configured"
    pure = PurePath(code_path)
    if code_path.startswith("~") or ".." in pure.parts:
        return "code_path must not contain '..' or start with '~'"
    if not pure.is_absolute():
        if discover_repo(None, pipeline_id, repo_map) is None:
            return "a relative code_path needs a pipeline_id that [patchit] repo_map maps to a repository"
        return None
    if not _inside(Path(os.path.realpath(code_path)), roots):
        return "code_path is outside every repository configured in [patchit] repo_map"
    repo = discover_repo(code_path, pipeline_id, repo_map)
    if repo is not None and not _inside(Path(os.path.realpath(repo)), roots):
        return "code_path belongs to a git work tree outside the repositories configured in [patchit] repo_map"
    return None
