"""Orders ETL: extract, transform and load steps used by the DAGs in dags/."""
