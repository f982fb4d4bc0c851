from datetime import datetime

from airflow.sdk import DAG, task

with DAG(dag_id="snowflake_unload", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):

    @task
    def unload():
        import snowflake.connector

        with snowflake.connector.connect(account="acme", user="etl") as conn:
            conn.cursor().execute("COPY INTO @exports/orders FROM analytics.orders")

    unload()
