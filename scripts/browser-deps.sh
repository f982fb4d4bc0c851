#!/usr/bin/env bash
# What the browser tests (tests/browser, marker `browser`) need besides .venv:
#   - Debian's Chromium at /usr/bin/chromium (apt-get; needs root, as on this project's machines);
#   - the Python playwright package, pinned, in .venv. Its own browser download
#     (`playwright install`) is never used: the tests launch /usr/bin/chromium through
#     executable_path.
# Idempotent: returns at once when both are there.
set -euo pipefail

PLAYWRIGHT_VERSION="1.65.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"

say() { printf '[browser-deps] %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { say "error: /usr/bin/chromium is still missing" >&2; exit 1; }

have="$("$PY" -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null || true)"
if [ "$have" != "$PLAYWRIGHT_VERSION" ]; then
    say "installing playwright==$PLAYWRIGHT_VERSION into .venv (no browser download)"
    UV="$(command -v uv || true)"
    if [ -n "$UV" ]; then
        "$UV" pip install --quiet -p "$PY" "playwright==$PLAYWRIGHT_VERSION"
    else
        "$PY" -m pip install --quiet "playwright==$PLAYWRIGHT_VERSION"
    fi
fi
say "ready: $(/usr/bin/chromium --version 2>/dev/null | head -1), playwright $PLAYWRIGHT_VERSION"
