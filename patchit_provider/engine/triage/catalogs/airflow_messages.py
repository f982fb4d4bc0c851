"""Airflow's own messages, 2.x and 3.x, that carry no class or code: the DAG processor's import
errors ("Broken DAG"), the task runner's and supervisor's messages (timeouts, signals, zombie and
heartbeat kills), and what Airflow 3 removed or moved. Each rule cites Airflow's docs or source.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.
"""

from __future__ import annotations

from patchit_provider.engine.triage.catalogs.base import TextRule, Verdict

FIRST: list[TextRule] = []
LAST: list[TextRule] = []
CLASSES: dict[str, Verdict | None] = {}
BASES: dict[str, tuple[str, ...]] = {}
