"""How far the external corpus's labels can be read from the log: second labellers against the
corpus labels and against triage, on seeded samples of 100 cases.

Usage: python benchmarks/label_agreement.py

The second labels live in benchmarks/external/agreement/ (one JSON line per case: case id,
category, remediation, and for the log-only readers whether the log alone made them confident):
- `thread_dev.jsonl`: a second labeller given each dev case's log and the one line of what its
  thread concluded (the corpus label's own basis), the taxonomy and the labelling conventions,
  never the first label;
- `logonly_dev.jsonl`, `logonly_heldout.jsonl`: a reader given only the log (the evidence triage
  gets), the taxonomy and the conventions.
The readers were language-model helper sessions working blind (no corpus label, no triage answer,
no repository access); README.md of that folder says how the samples were drawn. Held-out figures
are printed as aggregates only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from triage_accuracy import triage_json  # noqa: E402

EXTERNAL = ROOT / "benchmarks" / "external"
AGREEMENT = EXTERNAL / "agreement"
KEYS = ("category", "remediation")


def _load(name: str) -> dict[str, dict]:
    path = AGREEMENT / name
    return {row["case"]: row for row in map(json.loads, path.read_text().splitlines()) if row} if path.exists() else {}


def _share(pairs: list[tuple[str, str]]) -> str:
    agree = sum(a == b for a, b in pairs)
    return f"{agree:3d}/{len(pairs):<3d} {100 * agree / len(pairs):5.1f}%" if pairs else "   n/a"


def _part(part: str, readers: dict[str, dict[str, dict]]) -> None:
    cases = sorted(set().union(*(set(r) for r in readers.values())))
    if not cases:
        return
    labels = {c: json.loads((EXTERNAL / part / c / "label.json").read_text()) for c in cases}
    triage = {c: triage_json(EXTERNAL / part / c / "log", None)[0] for c in cases}
    print(f"== {part}: {len(cases)} cases")
    for key in KEYS:
        print(f"  {key}")
        for name, rows in readers.items():
            print(f"    {name:<28} vs {'corpus label':<26}{_share([(rows[c][key], labels[c][key]) for c in rows])}")
        print(
            f"    {'triage':<28} vs {'corpus label':<26}{_share([(triage[c].get(key, ''), labels[c][key]) for c in cases])}"
        )
        for name, rows in readers.items():
            print(f"    {'triage':<28} vs {name:<26}{_share([(triage[c].get(key, ''), rows[c][key]) for c in rows])}")
        logonly = readers.get("log-only reader", {})
        for clear in ("yes", "no"):
            subset = [c for c, row in logonly.items() if row.get("clear") == clear]
            if subset:
                print(
                    f"    log clear to the reader: {clear:<3}  reader {_share([(logonly[c][key], labels[c][key]) for c in subset])}"
                    f"   triage {_share([(triage[c].get(key, ''), labels[c][key]) for c in subset])}"
                )


def main() -> None:
    _part("dev", {"thread-informed labeller": _load("thread_dev.jsonl"), "log-only reader": _load("logonly_dev.jsonl")})
    _part("heldout", {"log-only reader": _load("logonly_heldout.jsonl")})


if __name__ == "__main__":
    main()
