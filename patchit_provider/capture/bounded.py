"""run_within(): capture's one way to give work a hard time bound inside someone else's task.

The work runs in a daemon thread joined for `budget` seconds, so a slow store, API or triage can
never hold the watched task longer than the bound; what is still running when the task process
exits ends with it (a store write rolls back). Exceptions are returned, never raised.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Bounded:
    finished: bool  # False: still running when the budget ran out
    value: Any = None
    error: BaseException | None = None


def run_within(work: Callable[[], Any], budget: float, name: str) -> Bounded:
    """`work()` joined for `budget` seconds in a daemon thread named `name`."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - even SystemExit: handed back, the caller reports it
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(max(budget, 0.0))
    if thread.is_alive():
        return Bounded(finished=False)
    return Bounded(finished=True, value=outcome.get("value"), error=outcome.get("error"))
