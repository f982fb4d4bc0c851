"""The SyntaxError-hint fixer on small real repositories, through `patchit remediate --check`.

Each script really fails under this interpreter: the log is CPython's own output, whose hints
are documented in "What's New In Python 3.10 - Better error messages"
(https://docs.python.org/3/whatsnew/3.10.html#better-error-messages). The shapes follow failures
posted in public trackers (external corpus: af_jetleak_expected_indented_block,
https://github.com/GDSSecurity/Jetleak-Testing-Script/issues/3; af_maintenance_dag_py2_except_syntax,
https://github.com/teamclairvoyant/airflow-maintenance-dags/issues/58). The replay is the
script itself: it fails before the patch and must pass in the patched copy.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap

import pytest

from patchit_provider.cli import main
from patchit_provider.engine.patching.syntax import repair

GIT = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]


def make_repo(root, files: dict[str, str]):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pipeline"]):
        subprocess.run([*GIT, *cmd], cwd=root, check=True)
    return root


def run_and_remediate(tmp_path, capsys, files: dict[str, str], entry: str) -> tuple[dict, str]:
    """Run the entry point for real (it must fail), remediate its log with the entry point as
    the check; returns (remediate's JSON, the source before)."""
    repo = make_repo(tmp_path / "repo", files)
    before = subprocess.run([sys.executable, entry], cwd=repo, capture_output=True, text=True, timeout=120)
    assert before.returncode != 0, "the unpatched script must fail"
    log = tmp_path / "attempt=1.log"
    log.write_text(before.stderr)
    check = shlex.join([sys.executable, entry])
    assert main(["remediate", str(log), "--repo", str(repo), "--check", check, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (repo / entry).read_text() == textwrap.dedent(files[entry])  # --repo is never changed
    return result, before.stderr


def assert_validated(result: dict, removed: str, added: str):
    checks = {c["name"]: c for c in result["validation"]["checks"]}
    assert result["outcome"] == "patch_validated", json.dumps(checks, indent=1)[:3000]
    assert checks["check"]["passed"], checks["check"]["output"]
    diff = result["patch"]["diff"]
    assert f"\n-{removed}\n+{added}\n" in diff, diff
    assert diff.count("\n-") - diff.count("\n--- ") == removed.count("\n") + 1  # only that line changed


def test_expected_colon(tmp_path, capsys):
    files = {
        "score.py": """\
        def score(visits):
            points = 0
            if visits > 10  # loyal
                points += 5
            return points


        print(score(12))
        """
    }
    result, log = run_and_remediate(tmp_path, capsys, files, "score.py")
    assert "SyntaxError: expected ':'" in log
    assert result["triage"]["culprit"] == {"path": "score.py", "line": 3}
    assert_validated(result, "    if visits > 10  # loyal", "    if visits > 10:  # loyal")


def test_paren_never_closed_on_a_continuation_line(tmp_path, capsys):
    files = {
        "load.py": """\
        rows = [1, 2, 3]
        total = sum(
            r * 2 for r in rows
        print(total)
        """
    }
    result, log = run_and_remediate(tmp_path, capsys, files, "load.py")
    assert "SyntaxError: '(' was never closed" in log
    assert_validated(result, "    r * 2 for r in rows", "    r * 2 for r in rows)")


def test_bracket_never_closed(tmp_path, capsys):
    files = {"cols.py": 'COLUMNS = ["id", "amount"\nprint(len(COLUMNS))\n'}
    result, log = run_and_remediate(tmp_path, capsys, files, "cols.py")
    assert "SyntaxError: '[' was never closed" in log
    assert_validated(result, 'COLUMNS = ["id", "amount"', 'COLUMNS = ["id", "amount"]')


def test_forgot_a_comma(tmp_path, capsys):
    files = {"cols.py": 'COLUMNS = ["id", "amount" "currency", 3 4]\nprint(COLUMNS)\n'}
    # the two adjacent strings are valid Python (implicit concatenation): only `3 4` is the slip
    result, log = run_and_remediate(tmp_path, capsys, files, "cols.py")
    assert "Perhaps you forgot a comma?" in log
    assert_validated(
        result, 'COLUMNS = ["id", "amount" "currency", 3 4]', 'COLUMNS = ["id", "amount" "currency", 3, 4]'
    )


def test_unterminated_string_literal(tmp_path, capsys):
    files = {"greet.py": 'def greet(name):\n    return "hello, " + name\n\n\nprint(greet("ops))\n'}
    result, log = run_and_remediate(tmp_path, capsys, files, "greet.py")
    assert "SyntaxError: unterminated string literal" in log
    assert_validated(result, 'print(greet("ops))', 'print(greet("ops"))')


def test_unterminated_docstring(tmp_path, capsys):
    files = {"job.py": 'def run():\n    """Load the day.\n    return 42\n\n\nprint(run())\n'}
    result, log = run_and_remediate(tmp_path, capsys, files, "job.py")
    assert "unterminated triple-quoted string literal" in log
    assert_validated(result, '    """Load the day.', '    """Load the day."""')


def test_comparison_instead_of_assignment(tmp_path, capsys):
    files = {"check.py": "status = 'ok'\nif status = 'ok':\n    print('fine')\nelse:\n    raise SystemExit(1)\n"}
    result, log = run_and_remediate(tmp_path, capsys, files, "check.py")
    assert "Maybe you meant '==' or ':=' instead of '='?" in log
    assert_validated(result, "if status = 'ok':", "if status == 'ok':")


def test_expected_an_indented_block_when_unambiguous(tmp_path, capsys):
    # The shape of af_jetleak_expected_indented_block: the body of the `if` lost its indent.
    files = {
        "tester.py": """\
        import sys


        def usage(args):
            if len(args) < 3:
            return "Usage: tester.py [url] [port]"
            return "ok"


        print(usage(sys.argv + ["a", "b"]))
        """
    }
    # `return "ok"` is at the same level, so it could belong to the block too: ambiguous
    result, log = run_and_remediate(tmp_path, capsys, files, "tester.py")
    assert "IndentationError: expected an indented block after 'if' statement" in log
    assert result["outcome"] == "no_patch" and result["patch"] is None


def test_expected_an_indented_block_fixed(tmp_path, capsys):
    files = {
        "tester.py": """\
        import sys


        def with_defaults(args):
            if len(args) < 3:
            args = args + ["localhost", "80"]


        with_defaults(sys.argv)
        print("ok")
        """
    }
    # the next statement is less indented than the orphan line: only that line can be the block
    result, log = run_and_remediate(tmp_path, capsys, files, "tester.py")
    assert "IndentationError: expected an indented block" in log
    assert_validated(result, '    args = args + ["localhost", "80"]', '        args = args + ["localhost", "80"]')


def test_two_slips_are_fixed_in_rounds_in_a_module_the_script_imports(tmp_path, capsys):
    files = {
        "etl/rules.py": "def keep(row)\n    return row['amount'] > 0 and row['country'] in ['DE' 'AT', 'CH' 'FR']\n",
        "etl/__init__.py": "",
        "main.py": "from etl.rules import keep\n\nprint(keep({'amount': 1, 'country': 'DE'}))\n",
    }
    # 'DE' 'AT' is implicit concatenation (valid): only the missing colon is a slip here
    result, _ = run_and_remediate(tmp_path, capsys, files, "main.py")
    assert result["triage"]["culprit"]["path"] == "etl/rules.py"
    assert_validated(result, "def keep(row)", "def keep(row):")


def test_python2_except_has_no_hint_and_gets_no_patch(tmp_path, capsys):
    # af_maintenance_dag_py2_except_syntax: CPython names no repair for `except Exception, e:`
    files = {"clean.py": "try:\n    x = 1\nexcept Exception, e:\n    print(e)\n"}
    result, log = run_and_remediate(tmp_path, capsys, files, "clean.py")
    assert "SyntaxError" in log
    assert result["triage"]["category"] == "code.error"
    assert result["outcome"] == "no_patch" and result["patch"] is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = foo(a,\n        b\ny = 2\n", "x = foo(a,\n        b)\ny = 2\n"),
        ("x = [1 2 3]\n", "x = [1, 2, 3]\n"),
        ("def f(a)\n    return [a b]\n", "def f(a):\n    return [a, b]\n"),
        ("def f():\n    if a:\n    return 1\nx = 2\n", "def f():\n    if a:\n        return 1\nx = 2\n"),
        ("\tif a:\n\tpass\n", None),  # unexpected indent first: no hint we repair
        ("if n = len(rows):\n    print(n)\n", None),  # `n` is new: `==` or `:=` is a real choice
        ("x = 1\n", None),  # parses: nothing to repair
    ],
)
def test_repair_is_the_hint_and_nothing_else(source, expected):
    repaired = repair(source)
    assert (repaired[0] if repaired else None) == expected
