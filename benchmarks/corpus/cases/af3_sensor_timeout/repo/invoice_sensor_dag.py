from datetime import datetime
from pathlib import Path

from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import DAG

with DAG(dag_id="invoice_sensor", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    PythonSensor(
        task_id="wait_for_invoices",
        python_callable=lambda: Path("/srv/drop/invoices/_SUCCESS").exists(),
        poke_interval=1,
        timeout=5,
        mode="poke",
    )
