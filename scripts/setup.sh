#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment `.venv` in the repository root:
# Python 3.11 with PATCHIT installed in editable mode and its test extras.
# Idempotent: when .venv already matches pyproject.toml it returns in well under a second.
#
#   bash scripts/setup.sh            # set up if needed
#   PATCHIT_SETUP_FORCE=1 bash scripts/setup.sh   # reinstall even if up to date
set -euo pipefail

UV_VERSION="0.13.9"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.patchit-setup"

say() { printf '[setup] %s\n' "$*"; }

want_stamp() {
    # Anything that changes what gets installed: the project metadata and uv's version.
    { cat "$ROOT/pyproject.toml"; echo "uv=$UV_VERSION"; } | sha256sum | cut -d' ' -f1
}

installed_ok() {
    [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ] \
        && "$PY" - >/dev/null 2>&1 <<'PYCHECK'
import importlib.util, sys
sys.exit(any(importlib.util.find_spec(m) is None for m in ("patchit_provider", "airflow", "pytest")))
PYCHECK
}

if [ "${PATCHIT_SETUP_FORCE:-0}" != "1" ] && installed_ok; then
    say ".venv is up to date ($("$PY" --version 2>&1))"
    exit 0
fi

# uv, pinned. Prefer one already on PATH at the pinned version; else install it with pip.
UV="$(command -v uv || true)"
if [ -z "$UV" ] || [ "$("$UV" --version 2>/dev/null | awk '{print $2}')" != "$UV_VERSION" ]; then
    PIP_PY="$(command -v python3.11 || command -v python3 || true)"
    [ -n "$PIP_PY" ] || { say "error: no python3 found to install uv with" >&2; exit 1; }
    say "installing uv==$UV_VERSION with $PIP_PY -m pip"
    "$PIP_PY" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    UV="$("$PIP_PY" -c 'import sysconfig, os; print(os.path.join(sysconfig.get_path("scripts"), "uv"))')"
    [ -x "$UV" ] || UV="$(command -v uv)"
fi

if [ ! -x "$PY" ]; then
    say "creating .venv (python 3.11)"
    (cd "$ROOT" && "$UV" venv .venv -p python3.11)
fi

say "installing PATCHIT (editable) with test extras into .venv"
(cd "$ROOT" && "$UV" pip install --quiet -p "$PY" -e '.[test]')

# uv keeps every revision of a source distribution it has built. The registry behind this
# machine answers uv's revalidation of pyspark's sdist as "modified" every time, so each install
# built and kept another 1.4 GB copy until the disk (shared with CI) was full. `prune` drops the
# revisions and archives nothing points at any more; the one just installed stays cached.
"$UV" cache prune --quiet || say "warning: 'uv cache prune' failed; uv's cache at $("$UV" cache dir) keeps old builds" >&2

"$PY" -c 'import patchit_provider, airflow, pytest' \
    || { say "error: .venv was installed but does not import patchit_provider/airflow/pytest" >&2; exit 1; }
want_stamp > "$STAMP"
say ".venv ready: $("$PY" -c 'import airflow, sys; print(f"python {sys.version.split()[0]}, airflow {airflow.__version__}")')"
