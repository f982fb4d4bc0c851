from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="nightly_maintenance", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    BashOperator(task_id="vacuum", bash_command='echo "vacuuming staging tables"; sleep 1; exit 3')
