#!/usr/bin/env bash
# The demo's Airflow: the four components `airflow standalone` runs, started here because
# standalone cannot leave out the log servers. Airflow 3.3.2's `serve_logs` (scheduler with a
# LocalExecutor, and the triggerer) binds uvicorn to host "" - every interface - on ports 8793 /
# 8794, with no setting for the host (airflow/utils/serve_logs/core.py). The demo runs all on one
# host, so the API server reads task logs from the log folder and no log server is needed:
# scheduler and triggerer run with --skip-serve-logs. The API server binds [api] host
# (127.0.0.1, airflow/demo.env). Started by scripts/demo.sh in its own session; when one
# component exits, the others are stopped too.
set -euo pipefail

airflow db migrate
airflow api-server &
airflow scheduler --skip-serve-logs &
airflow dag-processor &
airflow triggerer --skip-serve-logs &
wait -n
status=$?
echo "[demo] an Airflow component exited (status $status); stopping the others" >&2
kill $(jobs -p) 2>/dev/null || true
wait || true
exit "$status"
