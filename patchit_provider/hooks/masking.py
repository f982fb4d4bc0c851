"""Airflow's own secrets masker, fed into PATCHIT's redaction (the engine stays Airflow-free).

Value-based masking is exact: the masker knows the values of the connections and variables a
task touched (in the failed task's own process, where capture runs) and we add those the
remediation tasks can see (`AIRFLOW_CONN_*` / `AIRFLOW_VAR_*`, connections named by id). Both
masker instances are used: the task SDK's (`airflow.sdk._shared`) and core's (`airflow._shared`),
which Airflow keeps separately. The engine is imported lazily: capture imports this module cheaply.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)
_MODULES = ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker")
_installed = False
_lock = threading.Lock()


def maskers() -> list[Any]:
    """The SecretsMasker instances of this process (one per import path that exists)."""
    import importlib

    found = []
    for name in _MODULES:
        try:
            found.append(importlib.import_module(name)._secrets_masker())
        except (ImportError, AttributeError):
            continue
    return found


def masker_redact(text: str) -> str:
    """Text with every value the Airflow maskers know replaced by `***`."""
    for masker in maskers():
        replacer = getattr(masker, "replacer", None)
        if replacer is not None:
            text = replacer.sub("***", text)
    return text


def _sensitive(name: str) -> bool:
    for masker in maskers():
        try:
            return bool(masker.should_hide_value_for_key(name))
        except Exception:  # noqa: BLE001 - an old masker without the method: treat as sensitive
            return True
    return True


def connection_secrets(uri_or_json: str) -> list[str]:
    """The password and sensitive extras of a connection given as Airflow stores it in
    AIRFLOW_CONN_* (a URI or JSON)."""
    from airflow.sdk import Connection

    try:
        conn = (
            Connection.from_json(uri_or_json, conn_id="env")
            if uri_or_json.lstrip().startswith("{")
            else Connection.from_uri(uri_or_json, conn_id="env")
        )
    except Exception:  # noqa: BLE001 - a malformed variable: its raw value is still masked
        return [uri_or_json]
    values = [conn.password] if conn.password else []
    extra = conn.extra_dejson if conn.extra else {}
    values += [str(v) for k, v in _walk(extra) if _sensitive(k)]
    return values


def _walk(obj: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _walk(v, str(k))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk(v, key)
    elif obj is not None:
        yield key, obj


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Secret values this process can see: connection passwords and sensitive extras from
    AIRFLOW_CONN_*, sensitive-named AIRFLOW_VAR_* values (as Airflow's masker decides)."""
    environ = os.environ if environ is None else environ
    values: list[str] = []
    for name, value in environ.items():
        if name.startswith("AIRFLOW_CONN_") and value:
            values += connection_secrets(value)
        elif name.startswith("AIRFLOW_VAR_") and value and _sensitive(name[len("AIRFLOW_VAR_") :]):
            values.append(value)
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            values += [str(v) for _, v in _walk(parsed)]
    return values


def connection_values(conn_ids: Iterable[str]) -> list[str]:
    """Passwords and sensitive extras of the named connections (those a DAG's operators use)."""
    from airflow.sdk import BaseHook

    values: list[str] = []
    for conn_id in conn_ids:
        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception:  # noqa: BLE001 - an unknown connection id holds no secret to mask
            continue
        if conn.password:
            values.append(conn.password)
        values += [str(v) for k, v in _walk(conn.extra_dejson if conn.extra else {}) if _sensitive(k)]
    return values


def mask_values(values: Iterable[Any]) -> None:
    """Mask in both places: PATCHIT's redaction and Airflow's own masker (task logs)."""
    from patchit_provider.engine.redaction import add_secret_values

    values = [str(v) for v in values if v]
    add_secret_values(values)
    try:
        from airflow.sdk._shared.secrets_masker import mask_secret
    except ImportError:
        return
    for value in values:
        mask_secret(value)


def install_airflow_masking(conn_ids: Iterable[str] = ()) -> None:
    """Once per process: Airflow's maskers become an extra redactor; the environment's
    connection and variable secrets (and the named connections') become literal values."""
    from patchit_provider.engine.redaction import add_secret_values, register_extra_redactor

    global _installed
    with _lock:
        if not _installed:
            register_extra_redactor(masker_redact)
            _installed = True
    try:
        add_secret_values(environment_secrets())
        if conn_ids:
            add_secret_values(connection_values(conn_ids))
    except Exception as exc:  # noqa: BLE001 - redaction's patterns still apply; say why values are missing
        log.warning("PATCHIT: could not read connection/variable values to mask: %s", type(exc).__name__)


def masked(value: Any) -> Any:
    """`value` (a contract or text) with what the Airflow maskers know replaced, in the process
    that built it (capture, in the failed task's process)."""
    from patchit_provider.engine.redaction import redact_obj

    install_airflow_masking()
    return redact_obj(value)[0] if value is not None else value
