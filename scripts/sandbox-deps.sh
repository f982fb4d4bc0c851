#!/usr/bin/env bash
# What validation's sandbox needs (patchit_provider/engine/validation/sandbox.py): bubblewrap
# (`bwrap`, Debian package `bubblewrap`) and util-linux's `prlimit` / `setpriv`. Installed with
# apt-get when missing (needs root, as the other deps scripts). Idempotent: returns at once when
# everything is there. Without a working sandbox PATCHIT still runs, but executes nothing of a
# patch: validation falls back to static checks and asks a person to approve.
set -euo pipefail

say() { printf '[sandbox-deps] %s\n' "$*"; }

if ! command -v bwrap >/dev/null 2>&1; then
    say "installing Debian's bubblewrap (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi
for tool in bwrap prlimit setpriv; do
    command -v "$tool" >/dev/null 2>&1 || { say "error: $tool is still missing" >&2; exit 1; }
done
if bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true 2>/dev/null; then
    say "ready: $(bwrap --version)"
else
    say "warning: $(bwrap --version) is installed but cannot create namespaces here (no user namespaces?):" \
        "validation will run static checks only and ask for approval" >&2
fi
