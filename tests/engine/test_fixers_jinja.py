"""Jinja's TemplateSyntaxError hints repaired in templates, on a small real repository.

The messages are Jinja's own (jinja2's parser raises them here, as it does inside dbt: the
corpus case dbt_jinja_syntax_error, `unexpected '}'` for `{{ ref('raw_customers') }`). The
replay is the script that renders the template: it fails before and must pass after.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from patchit_provider.cli import main
from patchit_provider.engine.patching.jinja_syntax import repair_template, template_error

GIT = ["git", "-c", "user.email=t@patchit.invalid", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null"]
RENDER = (
    "import jinja2\n\n"
    "env = jinja2.Environment(loader=jinja2.FileSystemLoader('sql'))\n"
    "print(env.get_template('report.sql.j2').render(schema='analytics', day='2024-05-01'))\n"
)


@pytest.mark.parametrize(
    ("template", "fixed"),
    [
        (
            "select *\nfrom {{ schema }.orders\nwhere day = '{{ day }}'\n",
            "select *\nfrom {{ schema }}.orders\nwhere day = '{{ day }}'\n",
        ),
        ("select {{ schema | upper( }}\n", "select {{ schema | upper() }}\n"),
        ("{% if day %}where day = '{{ day }}'{% endfi %}\n", "{% if day %}where day = '{{ day }}'{% endif %}\n"),
    ],
)
def test_template_syntax_error_repaired_and_rendered(tmp_path, capsys, template, fixed):
    repo = tmp_path / "repo"
    (repo / "sql").mkdir(parents=True)
    (repo / "render.py").write_text(RENDER)
    (repo / "sql" / "report.sql.j2").write_text(template)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pipeline"]):
        subprocess.run([*GIT, *cmd], cwd=repo, check=True)
    before = subprocess.run([sys.executable, "render.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert before.returncode != 0 and "TemplateSyntaxError" in before.stderr
    log = tmp_path / "attempt=1.log"
    log.write_text(before.stderr)
    assert (
        main(
            ["remediate", str(log), "--repo", str(repo), "--check", shlex.join([sys.executable, "render.py"]), "--json"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in (result["validation"] or {}).get("checks", [])}
    assert result["outcome"] == "patch_validated", json.dumps({"triage": result["triage"], "checks": checks}, indent=1)[
        :3000
    ]
    assert checks["check"]["passed"]
    subprocess.run([*GIT, "apply", "-"], input=result["patch"]["diff"], text=True, cwd=repo, check=True)
    assert (repo / "sql" / "report.sql.j2").read_text() == fixed


@pytest.mark.parametrize(
    "template",
    [
        "select {{ x ",  # where the print statement ends is not named
        "{% if a %}x",  # where the block ends is not named
        "{% if a %}x{% fin %}",  # 'fin' is close to no expected tag
        "select {{ x }}",  # parses
    ],
)
def test_no_unique_repair_no_edit(template):
    assert repair_template(template) is None
    if template == "select {{ x }}":
        assert template_error(template) is None
