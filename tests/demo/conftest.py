import os
import tempfile

# Airflow reads its configuration at import: give these tests their own home before that.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="patchit-demo-test-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
