from datetime import datetime

from airflow.sdk import DAG, Variable, task

with DAG(dag_id="partner_feed", schedule="@once", start_date=datetime(2024, 1, 1), default_args={"retries": 0}):

    @task
    def download_feed():
        bucket = Variable.get("partner_feed_bucket")
        return f"s3://{bucket}/feeds/latest.csv"

    download_feed()
