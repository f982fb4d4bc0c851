"""Redaction benchmark: the secret corpus (fresh random values) in every placement, the benign
corpus, and the time to redact a log.

Usage: python benchmarks/redaction_corpus.py [ROUNDS]   (default: 5 rounds of fresh values)

Prints: formats, placements, instances checked, leaks (format/placement), benign look-alikes
and how many were masked, and the time to redact a 256 kB log (an event's largest log_text).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from secret_corpus import FORMATS, PLACEMENTS, airflow3_field, make_benign, make_secrets  # noqa: E402

from patchit_provider.engine.redaction import redact  # noqa: E402


def main(rounds: int) -> None:
    placements = {**PLACEMENTS, "airflow3_record_field": None, "bare": None}
    leaks: dict[tuple[str, str], int] = {}
    checked = 0
    for _ in range(rounds):
        for name, line, secret in make_secrets():
            for place, wrap in placements.items():
                text = line if place == "bare" else airflow3_field(line, secret) if wrap is None else wrap(line)
                checked += 1
                if secret in redact(text)[0]:
                    leaks[(name, place)] = leaks.get((name, place), 0) + 1
    benign = make_benign()
    masked = [text for text in benign if redact(text)[0] != text]

    filler = "[2026-11-22T10:00:00.000+0000] {taskinstance.py:441} INFO - processed batch of orders rows=1000 ok\n"
    corpus = "\n".join(PLACEMENTS["airflow2_text"](line) for _, line, _ in make_secrets())
    log = filler * ((256_000 - len(corpus)) // len(filler)) + corpus
    started = time.perf_counter()
    redact(log + " ")  # a fresh text: no cache hit
    seconds = time.perf_counter() - started

    print(f"formats            {len(FORMATS)}")
    print(f"placements         {len(placements)} ({', '.join(placements)})")
    print(f"instances checked  {checked} ({rounds} rounds of fresh random values)")
    print(
        f"leaks              {sum(leaks.values())}"
        + "".join(f"\n  {n} x {f} in {p}" for (f, p), n in sorted(leaks.items()))
    )
    print(f"benign             {len(benign)} look-alikes, {len(masked)} masked" + "".join(f"\n  {t}" for t in masked))
    print(f"256 kB log         {seconds:.3f} s ({len(log) / 1e6 / seconds:.1f} MB/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
