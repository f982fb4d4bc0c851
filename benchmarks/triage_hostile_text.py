"""Hostile log text against triage: the slowest regular expressions, and whole triages of logs
built to make them backtrack.

Usage: python benchmarks/triage_hostile_text.py [--top N]

1. Every compiled pattern reachable from the triage catalogs, the log readers and the redaction
   rules is searched in 20 KB runs of each seed below; the slowest are printed. A pattern whose
   time grows with the square of the run (a free `\\w+` or `\\d+` that every position of a long
   token restarts) shows up at the top.
2. Logs of 80 lines of 8,000 characters of each seed go through evidence collection and triage,
   as the remediation DAG runs them; the seconds of each are printed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACKAGES = (
    "patchit_provider.engine.triage",
    "patchit_provider.engine.logs",
    "patchit_provider.engine.redaction",
)
SEEDS = {
    "digits": "9",
    "word": "a",
    "words": "error ",
    "mixed token": "a1B2",
    "colons": "a1:",
    "quotes": "'",
    "spaces": " ",
    "dotted": "a.b",
    "brackets": "([",
    "equals": "k=v ",
    "slashes": "/x",
    "percent": "%",
}


def _patterns() -> dict[str, re.Pattern[str]]:
    """name -> pattern, for every pattern a module of PACKAGES holds (in a constant, a table or
    a rule object)."""
    found: dict[str, re.Pattern[str]] = {}

    def walk(value: object, name: str, depth: int = 0) -> None:
        if depth > 4:
            return
        if isinstance(value, re.Pattern):
            if isinstance(value.pattern, str):
                found.setdefault(f"{name} {value.pattern[:70]}", value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item, name, depth + 1)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, name, depth + 1)
        elif hasattr(value, "__dataclass_fields__") or type(value).__module__.startswith("patchit_provider"):
            for item in getattr(value, "__dict__", {}).values():
                walk(item, name, depth + 1)

    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names = [package_name] + [
            info.name for info in pkgutil.walk_packages(package.__path__, prefix=package_name + ".")
        ]
        for module_name in names:
            module = importlib.import_module(module_name)
            for attr, value in vars(module).items():
                if not isinstance(value, type(sys)) and not callable(value) or isinstance(value, re.Pattern):
                    walk(value, f"{module_name.rsplit('.', 1)[-1]}.{attr}")
    return found


def slowest_patterns(top: int) -> None:
    patterns = _patterns()
    timings = []
    for seed_name, seed in SEEDS.items():
        text = (seed * (20_000 // len(seed) + 1))[:20_000]
        for name, pattern in patterns.items():
            start = time.perf_counter()
            pattern.search(text)
            timings.append((time.perf_counter() - start, seed_name, name))
    timings.sort(reverse=True)
    print(f"{len(patterns)} patterns x {len(SEEDS)} seeds of 20 KB; the slowest searches:")
    for seconds, seed_name, name in timings[:top]:
        print(f"  {seconds * 1000:8.1f} ms  {seed_name:<12} {name}")


def hostile_logs() -> None:
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.engine.triage import triage

    def run(text: str) -> tuple[float, str]:
        start = time.perf_counter()
        event = FailureEvent(pipeline_id="p", run_id="r", log_text=text)
        result = triage(collect_evidence(event, None, PatchitSettings()))
        return time.perf_counter() - start, result.category.value

    run("warm-up: ValueError: x")  # imports and pattern compilation are not the log's cost
    print("logs of 80 lines x 8,000 characters, evidence + triage:")
    for seed_name, seed in SEEDS.items():
        line = (seed * (8000 // len(seed) + 1))[:8000]
        seconds, category = run("\n".join([line] * 80))
        print(f"  {seed_name:<12} {seconds:6.2f} s  -> {category}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    slowest_patterns(args.top)
    hostile_logs()


if __name__ == "__main__":
    main()
