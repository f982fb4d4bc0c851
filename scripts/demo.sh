#!/usr/bin/env bash
# PATCHIT demo: a real Airflow (airflow standalone, 127.0.0.1 only) with a small orders/sales
# pipeline repository whose runs fail in several ways; PATCHIT captures each failure, triages it
# and, where a safe fix exists, publishes a validated patch on a branch of that repository.
#
#   bash scripts/demo.sh          set up everything, start Airflow, run the scenarios, show results
#   bash scripts/demo.sh apply    merge PATCHIT's patchit/* branches into the pipeline repository
#                                 and re-run the runs they fix (Airflow must be running)
#   bash scripts/demo.sh stop     stop the demo Airflow (every process it started)
#   bash scripts/demo.sh status   is it running?
#   bash scripts/demo.sh reset    stop it and delete .demo/ (the next run starts from scratch)
#   bash scripts/demo.sh serve    set up and start Airflow only (no scenarios); used by tests/browser
#
# Users (simple auth manager, passwords in .demo/airflow_home/simple_auth_manager_passwords.json):
# admin / admin, and patchit-ingest / ingest, role "user": it may trigger DAG runs, which is the
# permission the ingest API (POST /patchit/events/ingest) asks of its callers.
#
# Everything lives under .demo/ in the repository root. DEMO_DIR (default .demo), DEMO_PORT
# (default 28080) and DEMO_TIMEOUT (seconds to wait for runs and remediations, default 480) can
# be overridden; the browser tests use their own DEMO_DIR and DEMO_PORT beside a running demo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO="${DEMO_DIR:-$ROOT/.demo}"
DEMO_PORT="${DEMO_PORT:-28080}"
DEMO_TIMEOUT="${DEMO_TIMEOUT:-480}"
PIDFILE="$DEMO/standalone.pid"
LOG="$DEMO/standalone.log"
PIPELINES="$DEMO/dags/pipelines"

say() { printf '[demo] %s\n' "$*"; }
die() { printf '[demo] ERROR: %s\n' "$*" >&2; exit 1; }

running_pid() {
    # The pid (= process group id) of our standalone, if it is alive.
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

session_pids() {
    # Live (non-zombie) processes of the session standalone was started in: the process group,
    # plus task processes that Airflow moves to process groups of their own.
    ps -e -o pid=,sid=,stat= | awk -v sid="$1" '$2 == sid && $3 !~ /^Z/ {print $1}'
}

stop() {
    local pid left
    pid="$( [ -f "$PIDFILE" ] && cat "$PIDFILE" || true)"
    if [ -z "$pid" ] || [ -z "$(session_pids "$pid")" ]; then
        say "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    say "stopping airflow standalone (process group and session $pid) ..."
    kill -TERM -- "-$pid" 2>/dev/null || true
    # shellcheck disable=SC2046
    kill -TERM $(session_pids "$pid") 2>/dev/null || true
    for _ in $(seq 1 20); do
        [ -z "$(session_pids "$pid")" ] && break
        sleep 0.5
    done
    left="$(session_pids "$pid" | tr '\n' ' ')"
    if [ -n "$left" ]; then
        say "still running after 10s, sending SIGKILL to: $left"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
        sleep 1
    fi
    left="$(session_pids "$pid" | tr '\n' ' ')"
    [ -z "$left" ] || die "could not stop processes: $left"
    rm -f "$PIDFILE"
    say "stopped: no process of session $pid is left"
}

prepare() {
    mkdir -p "$DEMO/airflow_home" "$DEMO/dags" "$DEMO/warehouse"
    # The pipeline repository: a copy of the template, made its own git repository once.
    if [ ! -d "$PIPELINES/.git" ]; then
        say "creating the pipeline repository $PIPELINES (git, one commit by Data Team)"
        rm -rf "$PIPELINES"
        mkdir -p "$PIPELINES"
        tar -C "$ROOT/airflow/pipeline_repo" --exclude=__pycache__ --exclude=.pytest_cache -cf - . \
            | tar -C "$PIPELINES" -xf -
        git -C "$PIPELINES" init -q -b main
        git -C "$PIPELINES" add -A
        GIT_AUTHOR_DATE="2024-06-03T09:00:00Z" GIT_COMMITTER_DATE="2024-06-03T09:00:00Z" \
            git -C "$PIPELINES" -c user.name="Data Team" -c user.email="data-team@example.com" \
            commit -q -m "Orders ETL and sales report"
    fi
    if [ "$(git -C "$PIPELINES" rev-list --count main)" -gt 1 ]; then
        say "note: patches were merged into the pipeline repository (demo.sh apply), so the runs they"
        say "      fixed now succeed; bash scripts/demo.sh reset starts the demo from scratch"
    fi
    # PATCHIT's remediation DAG, exposed in the DAGs folder (refreshed on every start).
    if [ -f "$ROOT/dags/patchit_remediation.py" ]; then
        cp "$ROOT/dags/patchit_remediation.py" "$DEMO/dags/patchit_remediation.py"
    else
        say "WARNING: dags/patchit_remediation.py does not exist yet: no remediation DAG in the demo"
    fi
    # The simple auth manager's password file: admin / admin, and the ingest user.
    printf '{"%s": "%s", "%s": "%s"}\n' "$DEMO_USER" "$DEMO_PASSWORD" "$DEMO_INGEST_USER" "$DEMO_INGEST_PASSWORD" \
        > "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
}

start_airflow() {
    if pid="$(running_pid)"; then
        say "airflow standalone is already running (process group $pid); reusing it"
        return 0
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$DEMO_PORT") 2>/dev/null; then
        die "port $DEMO_PORT on 127.0.0.1 is already in use (set DEMO_PORT=... to use another)"
    fi
    say "starting airflow standalone on http://127.0.0.1:$DEMO_PORT (log: ${LOG#"$ROOT"/})"
    : > "$LOG"
    # setsid: its own session and process group, so that `stop` can end every child it starts.
    # airflow/components.sh: standalone's components, without the log servers that would listen
    # on every interface.
    setsid bash -c 'echo $$ > "$1"; exec bash "$2"' _ "$PIDFILE" "$ROOT/airflow/components.sh" >>"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
    [ -s "$PIDFILE" ] || die "airflow standalone did not start"
    if ! python "$ROOT/airflow/demo_driver.py" wait-ready --timeout 240 --pid "$(cat "$PIDFILE")"; then
        say "last lines of ${LOG#"$ROOT"/}:"
        tail -n 60 "$LOG" >&2 || true
        stop || true
        die "Airflow did not come up (full log: $LOG)"
    fi
}

show_branches() {
    echo "Branches PATCHIT published in the pipeline repository (${PIPELINES#"$ROOT"/}):"
    local branches
    branches="$(git -C "$PIPELINES" branch --list 'patchit/*' --format='%(refname:short)')"
    if [ -z "$branches" ]; then
        echo "  (none)"
        return 0
    fi
    for branch in $branches; do
        echo
        echo "  $branch: $(git -C "$PIPELINES" log -1 --format='%s (%an)' "$branch")"
        echo "  \$ git -C ${PIPELINES#"$ROOT"/} diff main..$branch"
        git -C "$PIPELINES" --no-pager diff "main..$branch" | sed 's/^/    /'
    done
}

apply_patches() {
    running_pid >/dev/null || die "the demo is not running: start it with bash scripts/demo.sh"
    local branches branch
    branches="$(git -C "$PIPELINES" branch --list 'patchit/*' --format='%(refname:short)')"
    [ -n "$branches" ] || die "PATCHIT has published no patchit/* branch in ${PIPELINES#"$ROOT"/}"
    for branch in $branches; do
        if git -C "$PIPELINES" merge-base --is-ancestor "$branch" main; then
            say "$branch is already merged"
            continue
        fi
        say "merging $branch into main of ${PIPELINES#"$ROOT"/}"
        git -C "$PIPELINES" -c user.name="Data Team" -c user.email="data-team@example.com" \
            merge -q --no-edit "$branch"
    done
    python "$ROOT/airflow/demo_driver.py" rerun-patched --timeout "$DEMO_TIMEOUT"
}

show_where_to_look() {
    cat <<EOF

Where to look:
  Airflow UI      http://127.0.0.1:$DEMO_PORT   (user: $DEMO_USER, password: $DEMO_PASSWORD)
                  DAGs orders_etl (the failed runs) and patchit_remediation (one run per failure)
                  PATCHIT: Browse -> PATCHIT, or http://127.0.0.1:$DEMO_PORT/patchit/
  Ingest API      user $DEMO_INGEST_USER, password $DEMO_INGEST_PASSWORD (role user: may trigger DAG runs)
  Incidents       AIRFLOW_HOME=${AIRFLOW_HOME#"$ROOT"/} .venv/bin/patchit incidents   (and: patchit show <id>)
  Pipeline repo   ${PIPELINES#"$ROOT"/}   (git log --all; the patch is on its patchit/* branch)
  Airflow log     ${LOG#"$ROOT"/}
  Apply the patch and re-run the failed run:  bash scripts/demo.sh apply
Stop it with:     bash scripts/demo.sh stop     (start over: bash scripts/demo.sh reset)
EOF
}

load_env() {
    # shellcheck source=../airflow/demo.env
    source "$ROOT/airflow/demo.env"
    export PATH="$ROOT/.venv/bin:$PATH"
    # A second user for the ingest API (README: "Failures from other platforms"): role "user" may
    # trigger DAG runs (patchit_remediation's), which ingest requires, and no more.
    export DEMO_INGEST_USER=patchit-ingest DEMO_INGEST_PASSWORD=ingest
    case ",$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS," in
        *",$DEMO_INGEST_USER:"*) ;;
        *) export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS,$DEMO_INGEST_USER:user" ;;
    esac
}

main() {
    local cmd="${1:-start}"
    case "$cmd" in
        stop)
            stop
            ;;
        apply)
            load_env
            apply_patches
            ;;
        status)
            if pid="$(running_pid)"; then say "running (process group $pid), http://127.0.0.1:$DEMO_PORT"; else say "not running"; fi
            ;;
        reset)
            stop
            rm -rf "$DEMO"
            say "removed ${DEMO#"$ROOT"/}"
            ;;
        serve)
            command -v git >/dev/null || die "git is required"
            command -v setsid >/dev/null || die "setsid (util-linux) is required"
            bash "$ROOT/scripts/setup.sh" && bash "$ROOT/scripts/sandbox-deps.sh"
            load_env
            prepare
            start_airflow
            ;;
        start)
            command -v git >/dev/null || die "git is required"
            command -v setsid >/dev/null || die "setsid (util-linux) is required"
            bash "$ROOT/scripts/setup.sh" && bash "$ROOT/scripts/sandbox-deps.sh"
            load_env
            prepare
            start_airflow
            local rc=0
            python "$ROOT/airflow/demo_driver.py" run --timeout "$DEMO_TIMEOUT" || rc=$?
            if [ "$rc" -ne 0 ]; then
                say "the demo driver failed (exit $rc); last lines of ${LOG#"$ROOT"/}:"
                tail -n 30 "$LOG" >&2 || true
            fi
            show_branches
            show_where_to_look
            return "$rc"
            ;;
        *)
            die "unknown command '$cmd' (use: start | serve | apply | stop | status | reset)"
            ;;
    esac
}

main "$@"
