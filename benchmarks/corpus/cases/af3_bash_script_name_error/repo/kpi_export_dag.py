from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="kpi_export", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    BashOperator(
        task_id="export_kpis",
        bash_command="python reports/export_kpis.py --day {{ ds }}",
        cwd=str(Path(__file__).parent),
    )
