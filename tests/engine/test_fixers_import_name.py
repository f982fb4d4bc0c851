"""A misspelt name imported from a repository module, on a small real repository.

The message is CPython's own (`ImportError: cannot import name 'x' from 'pkg.mod' (path)`, the
corpus case py_repo_import_name); Python 3.12+ adds "Did you mean", 3.11 does not, so the
module's own top-level names (read from its file, never imported) must hold exactly one close
name. The replay is the script: it fails before the patch and must pass in the patched copy.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from patchit_provider.cli import main

GIT = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]


def remediate(tmp_path, capsys, helpers: str) -> dict:
    repo = tmp_path / "repo"
    (repo / "cleaning").mkdir(parents=True)
    (repo / "cleaning" / "__init__.py").write_text("")
    (repo / "cleaning" / "text.py").write_text(helpers)
    (repo / "run.py").write_text(
        "from cleaning.text import normalise_whitespace as squash, strip_accents\n\nprint(squash(strip_accents(' a  b ')))\n"
    )
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pipeline"]):
        subprocess.run([*GIT, *cmd], cwd=repo, check=True)
    before = subprocess.run([sys.executable, "run.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert before.returncode != 0 and "cannot import name 'normalise_whitespace' from 'cleaning.text'" in before.stderr
    log = tmp_path / "attempt=1.log"
    log.write_text(before.stderr)
    assert (
        main(["remediate", str(log), "--repo", str(repo), "--check", shlex.join([sys.executable, "run.py"]), "--json"])
        == 0
    )
    return json.loads(capsys.readouterr().out)


def test_import_of_a_misspelt_repository_name_is_renamed(tmp_path, capsys):
    helpers = (
        "import re\n\n\ndef normalize_whitespace(value):\n    return re.sub(r'\\s+', ' ', value).strip()\n\n\n"
        "def strip_accents(value):\n    return value\n"
    )
    result = remediate(tmp_path, capsys, helpers)
    checks = {c["name"]: c for c in result["validation"]["checks"]}
    assert result["outcome"] == "patch_validated", json.dumps(checks, indent=1)[:2000]
    assert checks["check"]["passed"]
    # only the imported name changes: the alias keeps every use as it was
    assert "-from cleaning.text import normalise_whitespace as squash, strip_accents\n" in result["patch"]["diff"]
    assert "+from cleaning.text import normalize_whitespace as squash, strip_accents\n" in result["patch"]["diff"]
    assert result["patch"]["diff"].count("\n+") == 2


def test_two_close_names_no_patch(tmp_path, capsys):
    helpers = (
        "def normalize_whitespace(value):\n    return value\n\n\n"
        "def normalize_whitespaces(value):\n    return value\n\n\ndef strip_accents(value):\n    return value\n"
    )
    result = remediate(tmp_path, capsys, helpers)
    assert result["outcome"] == "no_patch" and result["patch"] is None
