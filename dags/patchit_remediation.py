"""PATCHIT's remediation DAG. (Airflow's safe-mode parse only reads files naming "airflow" and "dag".)"""

from patchit_provider.dags.remediation import build_remediation_dag

dag = build_remediation_dag()
