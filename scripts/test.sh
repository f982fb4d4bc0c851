#!/usr/bin/env bash
# The README's test command: set up everything on a fresh machine, then run the whole suite
# (unit, a real PostgreSQL for the store, a real Airflow 3.3 through dag.test()), after the
# guard rails of scripts/lint.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh && bash scripts/browser-deps.sh
bash scripts/sandbox-deps.sh  # bubblewrap: validation runs patched code only in its sandbox

# The guard rails first: ruff (lint, format), mypy strict on the engine, import-linter contracts.
bash scripts/lint.sh

# A real PostgreSQL on 127.0.0.1 for the store's tests; stopped again on exit.
pg_env=$(bash scripts/postgres.sh start)
eval "$pg_env"
export PATCHIT_REQUIRE_PG=1
trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT

.venv/bin/python -m pytest "$@"
