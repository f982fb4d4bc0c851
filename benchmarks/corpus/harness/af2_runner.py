"""Run one task callable the way an Airflow 2 worker does, logging in Airflow 2's text format.

    af2_runner.py --dag DAG --task TASK --callable module:function --date YYYY-MM-DD [--operator PythonOperator]

The callable runs for real; its exception is logged with `log.exception` exactly as Airflow 2's
TaskInstance does, between the usual start and end lines.
"""

import argparse
import importlib
import logging
import os
import socket
import sys
from datetime import datetime, timezone

parser = argparse.ArgumentParser()
parser.add_argument("--dag", required=True)
parser.add_argument("--task", required=True)
parser.add_argument("--callable", required=True)
parser.add_argument("--date", required=True)
parser.add_argument("--operator", default="PythonOperator")
args = parser.parse_args()


class Formatter(logging.Formatter):
    def formatTime(self, record, datefmt=None):  # noqa: N802
        return datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%d, %H:%M:%S UTC")


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(Formatter("[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"))
logging.basicConfig(level=logging.INFO, handlers=[handler])
log = logging.getLogger("airflow.task")

run_id = f"scheduled__{args.date}T00:00:00+00:00"
ti = f"<TaskInstance: {args.dag}.{args.task} {run_id} [running]>"
log.info("Dependencies all met for dep_context=non-requeueable deps ti=%s", ti.replace("running", "queued"))
log.info("Starting attempt 1 of 1")
log.info("Executing <Task(%s): %s> on %s 00:00:00+00:00", args.operator, args.task, args.date)
log.info("Started process %d to run task", os.getpid())
log.info("Running %s on host %s", ti, socket.gethostname())
log.info("Exporting env vars: AIRFLOW_CTX_DAG_OWNER='data-eng' AIRFLOW_CTX_DAG_ID='%s' AIRFLOW_CTX_TASK_ID='%s' "
         "AIRFLOW_CTX_EXECUTION_DATE='%sT00:00:00+00:00' AIRFLOW_CTX_TRY_NUMBER='1' AIRFLOW_CTX_DAG_RUN_ID='%s'",
         args.dag, args.task, args.date, run_id)
start = datetime.now(timezone.utc)
module, _, name = args.callable.partition(":")
try:
    result = getattr(importlib.import_module(module), name)(ds=args.date)
except Exception as exc:
    log.exception("Task failed with exception")
    end = datetime.now(timezone.utc)
    log.info("Marking task as FAILED. dag_id=%s, task_id=%s, execution_date=%s, start_date=%s, end_date=%s",
             args.dag, args.task, args.date.replace("-", "") + "T000000", start.strftime("%Y%m%dT%H%M%S"),
             end.strftime("%Y%m%dT%H%M%S"))
    log.error("Failed to execute job %d for task %s (%s; %d)", os.getpid() % 1000, args.task,
              exc, os.getpid())
    log.info("Task exited with return code 1")
    sys.exit(1)
log.info("Done. Returned value was: %s", result)
