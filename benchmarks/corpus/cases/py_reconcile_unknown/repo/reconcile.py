import logging
import subprocess
import sys

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("reconcile")

log.info("starting ledger reconciliation")
status = subprocess.run([sys.executable, "-c", "import sys; sys.exit(7)"]).returncode
if status != 0:
    raise RuntimeError(f"reconciliation step returned status {status}")
