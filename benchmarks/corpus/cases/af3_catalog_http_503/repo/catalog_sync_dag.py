from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from catalog_sync.client import pull_catalog

with DAG(dag_id="catalog_sync", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    PythonOperator(task_id="pull_catalog", python_callable=pull_catalog)
