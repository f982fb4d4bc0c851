from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="search_index", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):
    BashOperator(
        task_id="build_index",
        bash_command="ulimit -v 600000 && python indexing/build_index.py",
        cwd=str(Path(__file__).parent),
    )
