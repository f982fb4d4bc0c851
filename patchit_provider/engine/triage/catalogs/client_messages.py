"""Messages of HTTP, cloud and warehouse clients that carry no code the resolver reads: rate
limits in a 403 body, key-pair and JWT authentication errors, TLS and proxy failures, quota
and permission texts. Each rule cites the client's or service's documentation.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.
"""

from __future__ import annotations

from patchit_provider.engine.triage.catalogs.base import TextRule, Verdict

FIRST: list[TextRule] = []
LAST: list[TextRule] = []
CLASSES: dict[str, Verdict | None] = {}
BASES: dict[str, tuple[str, ...]] = {}
