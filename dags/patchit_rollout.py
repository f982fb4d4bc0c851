"""PATCHIT's recovery rollout DAG. (Airflow's safe-mode parse only reads files naming "airflow" and "dag".)"""

from patchit_provider.dags.rollout import build_rollout_dag

dag = build_rollout_dag()
