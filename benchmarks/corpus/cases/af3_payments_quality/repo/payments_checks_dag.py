from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from payments_checks.checks import check_payments

with DAG(dag_id="payments_checks", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    PythonOperator(task_id="check_payments", python_callable=check_payments)
