from datetime import datetime

from jinja2 import StrictUndefined

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="table_export",
    schedule="@once",
    start_date=datetime(2024, 1, 1),
    default_args={"retries": 0},
    template_undefined=StrictUndefined,
    params={"table": "orders"},
):
    BashOperator(
        task_id="export_table",
        bash_command="echo exporting {{ params.table_name }} for {{ ds }}",
    )
