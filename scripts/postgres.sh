#!/usr/bin/env bash
# A throwaway PostgreSQL for PATCHIT's store tests: one local cluster, loopback only.
#
#   scripts/postgres.sh start    install Debian's postgresql if needed, init and start the
#                                cluster, create database `patchit`, print the export line
#   scripts/postgres.sh stop     stop the cluster (its files stay; `start` reuses them)
#   scripts/postgres.sh status   exit 0 when it accepts connections
#   scripts/postgres.sh url      print the export line only
#
# Settings: PATCHIT_PG_DIR (default .state/postgres in the repository, git-ignored),
# PATCHIT_PG_PORT (default 55432).
# Usage in CI:  eval "$(scripts/postgres.sh start | grep '^export ')"
# Runs non-interactively (no stdin needed). As root, the server runs as user `postgres`,
# because initdb and postgres refuse to run as root. Trust auth is fine: the server listens
# on 127.0.0.1 only and the cluster is thrown away. If another server already answers on the
# port (a cluster this script started from another PATCHIT_PG_DIR), `start` uses that one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_DIR="${PATCHIT_PG_DIR:-$ROOT/.state/postgres}"
PG_PORT="${PATCHIT_PG_PORT:-55432}"
PG_DB=patchit
PG_USER=patchit
DATA="$PG_DIR/data"
LOG="$PG_DIR/server.log"
SOCK="$PG_DIR/run"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # Prefer Debian's versioned tree (newest first), then whatever is on PATH.
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"; return 0
        fi
    done
    local c
    c="$(command -v pg_ctl 2>/dev/null || true)"
    if [ -n "$c" ]; then
        c="$(dirname "$(readlink -f "$c")")"
        if [ -x "$c/initdb" ] && [ -x "$c/postgres" ] && "$c/pg_ctl" --version >/dev/null 2>&1; then
            echo "$c"; return 0
        fi
    fi
    return 1
}

install_postgres() {
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL server binaries not found and not root: install Debian's 'postgresql'"
        exit 1
    fi
    log "installing Debian's postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null >&2
    apt-get install -y -q --no-install-recommends postgresql </dev/null >&2
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

ensure_owner_user() {
    [ "$(id -u)" = 0 ] || return 0
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    fi
}

url() {
    echo "export PATCHIT_TEST_PG_URL=postgresql+psycopg://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"
}

is_ready() {
    [ -n "${BIN:-}" ] || return 1
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres >/dev/null 2>&1
}

start() {
    BIN="$(find_bindir || true)"
    if [ -z "$BIN" ]; then
        install_postgres
        BIN="$(find_bindir || true)"
        [ -n "$BIN" ] || { log "postgresql installed but initdb/pg_ctl not found"; exit 1; }
    fi
    log "using $("$BIN/pg_ctl" --version) from $BIN"
    ensure_owner_user
    if is_ready && ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "a PostgreSQL server already answers on 127.0.0.1:$PG_PORT (not the cluster in $DATA): using it"
        ensure_db
        url
        return 0
    fi
    mkdir -p "$PG_DIR" "$SOCK"
    # PG_DIR is ours alone (data/, run/, logs): hand it to the server's user, not recursively.
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR" "$SOCK"; fi
    # As root the server runs as `postgres`, which must be able to enter every parent folder
    # (o+x): a checkout under a 0700 home cannot hold the cluster. Say which folder, then stop.
    if ! as_owner test -w "$PG_DIR"; then
        local d="$PG_DIR" blocked=""
        while [ "$d" != "/" ]; do
            d="$(dirname "$d")"
            as_owner test -x "$d" || blocked="$d${blocked:+, $blocked}"
        done
        log "$PG_DIR is not writable by the server's user${blocked:+ (it cannot enter $blocked: chmod o+x)};" \
            "or set PATCHIT_PG_DIR to a folder it can reach"
        exit 1
    fi

    if [ ! -s "$DATA/PG_VERSION" ]; then
        log "initdb $DATA"
        rm -rf "$DATA"
        as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$PG_DIR/initdb.log" 2>&1 \
            || as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C \
            >"$PG_DIR/initdb.log" 2>&1 \
            || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
    fi

    if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "already running"
    else
        log "starting on 127.0.0.1:$PG_PORT (log: $LOG)"
        as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o \
            "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
            </dev/null >&2 || { tail -n 30 "$LOG" >&2; exit 1; }
    fi

    local i
    for i in $(seq 1 60); do
        is_ready && break
        sleep 0.5
    done
    is_ready || { log "server not ready; see $LOG"; tail -n 30 "$LOG" >&2; exit 1; }

    ensure_db
    url
}

# The test role and database, created once (superuser `postgres`, trust auth, loopback).
ensure_db() {
    psql_() { as_owner "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@" </dev/null; }
    if [ "$(psql_ -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
        psql_ -c "CREATE ROLE $PG_USER LOGIN SUPERUSER" >&2
    fi
    if [ "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
        psql_ -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
    fi
}

stop() {
    BIN="$(find_bindir || true)"
    if [ -z "$BIN" ] || [ ! -s "$DATA/PG_VERSION" ]; then
        log "no cluster at $DATA"
        return 0
    fi
    if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -w -t 60 -m fast stop </dev/null >&2
    else
        log "not running"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) BIN="$(find_bindir || true)"; is_ready && { log "running on 127.0.0.1:$PG_PORT"; exit 0; } || { log "not running"; exit 1; } ;;
    url) url ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
