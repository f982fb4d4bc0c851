"""Triage benchmark: time and peak RSS of collect_evidence + triage on generated logs.

Usage: python benchmarks/triage_bench.py [SIZE_MB ...]   (default: 10 1024)

Each log is generated on disk (Airflow 3 JSON filler lines, then a real-shaped error record
with error_detail at the end) and then triaged in a fresh subprocess, so the peak RSS measured
(ru_maxrss of that child) is the reader's alone, not the generator's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

FILLER = (
    '{"timestamp": "2025-06-01T10:00:00.000000Z", "level": "info", "event": '
    '"processed batch of orders rows=1000 ok", "logger": "airflow.task", "filename": "transform.py", "lineno": 10}\n'
)
ERROR = {
    "timestamp": "2025-06-01T10:59:59.000000Z",
    "level": "error",
    "event": "Task failed with exception",
    "logger": "task",
    "error_detail": [
        {
            "exc_type": "KeyError",
            "exc_value": "'customer_id'",
            "exc_notes": [],
            "syntax_error": None,
            "is_cause": False,
            "is_group": False,
            "exceptions": [],
            "frames": [
                {
                    "filename": "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py",
                    "lineno": 1579,
                    "name": "run",
                },
                {"filename": "/opt/airflow/dags/repo/etl/transform.py", "lineno": 6, "name": "enrich"},
            ],
        }
    ],
}

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from patchit_provider.engine.evidence import collect_evidence
from patchit_provider.engine.models import FailureEvent
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.triage import triage
started = time.perf_counter()
event = FailureEvent(platform="generic", pipeline_id="cli", run_id="cli", log_uri=sys.argv[1])
evidence = collect_evidence(event, Path(sys.argv[2]), PatchitSettings())
result = triage(evidence)
print(json.dumps({"seconds": time.perf_counter() - started, "category": result.category.value,
                  "culprit": result.culprit.path if result.culprit else None,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(path: Path, size_mb: int) -> None:
    block = FILLER * 10_000  # ~1.6 MB
    target = size_mb * 1_000_000
    with path.open("w") as handle:
        written = 0
        while written < target:
            handle.write(block)
            written += len(block)
        handle.write(json.dumps(ERROR) + "\n")


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        (repo / "etl").mkdir(parents=True)
        (repo / "etl" / "transform.py").write_text(
            "def enrich(rows):\n    pass\n\n\n\n    return rows[0]['customer_id']\n"
        )
        baseline = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, patchit_provider.engine.evidence, patchit_provider.engine.triage;"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"baseline RSS after imports: {float(baseline.stdout):.1f} MB")
        for size in sizes:
            log = Path(tmp) / f"log_{size}mb.log"
            generate(log, size)
            proc = subprocess.run([sys.executable, "-c", CHILD, str(log), str(repo)], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(1)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            actual = log.stat().st_size / 1e6
            print(
                f"{actual:8.1f} MB  {result['seconds']:7.2f} s  {actual / result['seconds']:7.1f} MB/s  "
                f"peak RSS {result['peak_rss_mb']:6.1f} MB  -> {result['category']} {result['culprit']}"
            )
            log.unlink()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10, 1024])
