"""dbt's console formats and error kinds (compilation, runtime, database errors, `Failure in
test`, deps and version requirement errors) and package version incompatibilities reported by pip
and dbt. Each rule cites dbt's docs or dbt-core's source.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.
"""

from __future__ import annotations

from patchit_provider.engine.triage.catalogs.base import TextRule, Verdict

FIRST: list[TextRule] = []
LAST: list[TextRule] = []
CLASSES: dict[str, Verdict | None] = {}
BASES: dict[str, tuple[str, ...]] = {}
