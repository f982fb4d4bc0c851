from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from orders_pipeline.transform import enrich

with DAG(
    dag_id="orders_enrich",
    schedule="@daily",
    start_date=datetime(2024, 5, 1),
    end_date=datetime(2024, 5, 2),
    catchup=True,
    default_args={"retries": 0},
    tags=["orders"],
):
    PythonOperator(task_id="enrich", python_callable=enrich)
