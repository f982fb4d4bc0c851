#!/usr/bin/env bash
# The README's test command: set up everything on a fresh machine, then run the whole suite
# (unit, a real PostgreSQL for the store, a real Airflow 3.3 through dag.test()) with the guard
# rails of scripts/lint.sh beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh && bash scripts/browser-deps.sh
bash scripts/sandbox-deps.sh  # bubblewrap: validation runs patched code only in its sandbox

# The guard rails (ruff lint and format, mypy strict on the engine, import-linter contracts) run
# beside the suite, at low priority: mypy's minute of CPU fills the time the suite waits on
# Airflow and the browser instead of coming before it. Their verdict is printed after the suite
# and fails this script like a failed test. Everything the run keeps lives in .state/ (ignored).
mkdir -p .state
lint_log=.state/lint.log
nice -n 10 bash scripts/lint.sh >"$lint_log" 2>&1 &
lint_pid=$!

# A real PostgreSQL on 127.0.0.1 for the store's tests (.state/postgres); stopped again on exit.
trap 'kill "$lint_pid" 2>/dev/null || true; bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
pg_env=$(bash scripts/postgres.sh start)
eval "$pg_env"
export PATCHIT_REQUIRE_PG=1

# Two pytest workers (pytest-xdist): most of the suite's wall time is waiting on dbt, Spark, Airflow
# and sandboxed re-runs, so one worker keeps about half of a 2-core machine busy. A test file is
# one work unit, tests/browser as a whole (tests/conftest.py). PATCHIT_TEST_WORKERS=0: no workers.
workers="${PATCHIT_TEST_WORKERS:-2}"
tests=0
.venv/bin/python -m pytest -n "$workers" "$@" || tests=$?
lint=0
wait "$lint_pid" || lint=$?
cat "$lint_log"
if [ "$lint" -ne 0 ]; then
    echo "test.sh: the guard rails failed (scripts/lint.sh, log above)" >&2
fi
[ "$tests" -eq 0 ] && [ "$lint" -eq 0 ]
