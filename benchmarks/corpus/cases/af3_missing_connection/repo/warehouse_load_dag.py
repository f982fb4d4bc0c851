from datetime import datetime

from airflow.sdk import DAG, BaseHook, task

with DAG(dag_id="warehouse_load", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):

    @task
    def load_facts():
        conn = BaseHook.get_connection("warehouse_postgres")
        return f"{conn.host}:{conn.port}/{conn.schema}"

    load_facts()
