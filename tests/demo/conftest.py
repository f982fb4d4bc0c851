import atexit
import os
import shutil
import tempfile

# Airflow reads its configuration at import: give these tests their own home before that.
if "AIRFLOW_HOME" not in os.environ:  # a home of its own, removed at exit (none made when one is set)
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="patchit-demo-test-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
