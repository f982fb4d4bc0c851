import time
from datetime import datetime, timedelta

from airflow.sdk import DAG, task


def export_ready(job_id: str) -> bool:
    return False


with DAG(dag_id="export_wait", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):

    @task(execution_timeout=timedelta(seconds=5))
    def wait_for_export():
        while not export_ready("exp-42"):
            time.sleep(2)

    wait_for_export()
