from patchit_provider.dags.remediation import build_remediation_dag

dag = build_remediation_dag()
