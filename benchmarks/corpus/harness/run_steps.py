"""Run a pipeline's setup steps, then its failing command, keeping what the command printed.

    run_steps.py STEPS_JSON OUT_LOG   (from the repository's root)

Setup output is not part of the case. The command's standard output and error go to one file,
interleaved as a scheduler or CI runner would capture them; with "log_file" the case's log is
that file instead (dbt writes logs/dbt.log). A non-zero exit is the point: it is not an error.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

steps = json.loads(Path(sys.argv[1]).read_text())
out = Path(sys.argv[2])
for cmd in steps["setup"]:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f"setup step failed: {cmd}\n{done.stdout.decode(errors='replace')[-3000:]}")
with out.open("wb") as handle:
    code = subprocess.run(steps["command"], stdout=handle, stderr=subprocess.STDOUT).returncode
if code == 0:
    sys.exit(f"the command succeeded, a failure was expected: {steps['command']}\n{out.read_text(errors='replace')[-2000:]}")
if steps.get("log_file"):
    shutil.copyfile(steps["log_file"], out)
