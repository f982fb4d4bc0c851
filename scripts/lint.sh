#!/usr/bin/env bash
# The guard rails, run by scripts/test.sh before the suite (so by .ci/run): ruff lint and format,
# mypy strict on the engine, import-linter's contracts. Every one runs; any failure fails the script.
# Tools and their settings: pyproject.toml ([tool.ruff], [tool.mypy], [tool.importlinter]).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }

failed=()
step() {
    local name=$1
    shift
    echo "== $name: $*"
    "$@" || failed+=("$name")
}

step "ruff check" "$PY" -m ruff check .
step "ruff format" "$PY" -m ruff format --check --output-format concise .
step "mypy (strict on patchit_provider/engine)" "$PY" -m mypy
step "import-linter" "$(dirname "$PY")/lint-imports"

if ((${#failed[@]})); then
    printf 'lint FAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
echo "lint ok: ruff, mypy, import-linter"
