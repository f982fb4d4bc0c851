"""The README is the user's configuration reference: it must name every option, with its default."""

import re
from pathlib import Path

from patchit_provider.engine.settings import config_section

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_option_is_documented_with_its_default():
    for name, option in config_section()["patchit"]["options"].items():
        row = next((line for line in README.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README does not document [patchit] {name}"
        shown = option["default"] or "(empty)"
        assert f"`{shown}`" in row or shown in row, f"README shows the wrong default for {name}: {row}"


def test_readme_names_the_two_setup_commands():
    assert "bash scripts/demo.sh" in README and "bash scripts/test.sh" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


# -- the first hour: README examples against what scripts/demo.sh really does -------------------------

ROOT = Path(__file__).resolve().parents[1]
DEMO_SH = (ROOT / "scripts" / "demo.sh").read_text()


def _demo_env(tmp_path: Path) -> dict[str, str]:
    """The environment the demo's Airflow runs with: demo.sh's own load_env, run in bash."""
    import subprocess

    load_env = re.search(r"^load_env\(\) \{\n.*?^\}\n", DEMO_SH, re.S | re.M)
    assert load_env, "scripts/demo.sh defines load_env"
    port = re.search(r'DEMO_PORT="\$\{DEMO_PORT:-(\d+)\}"', DEMO_SH)
    assert port, "scripts/demo.sh has a default DEMO_PORT"
    script = f'set -eu\nROOT="$1"; DEMO="$2"; DEMO_PORT={port.group(1)}\n{load_env.group(0)}\nload_env\nenv -0\n'
    proc = subprocess.run(
        ["bash", "-c", script, "_", str(ROOT), str(tmp_path / ".demo")],
        capture_output=True,
        timeout=30,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    env = dict(item.split("=", 1) for item in proc.stdout.decode().split("\0") if "=" in item)
    env["DEMO_PORT"] = port.group(1)
    return env


def _demo_verbs() -> set[str]:
    body = DEMO_SH[DEMO_SH.index("main() {") :]
    cases = body[body.index('case "$cmd" in') : body.index("esac")]
    return set(re.findall(r"^ {8}([a-z]+)\)$", cases, re.M))


def _bash_commands() -> list[str]:
    """Every command of the README's bash blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for command in re.sub(r"\\\n\s*", " ", block).splitlines():
            if command.strip() and not command.lstrip().startswith("#"):
                commands.append(command.strip())
    return commands


def test_readme_names_every_demo_verb():
    verbs = _demo_verbs()
    assert {"start", "stop", "apply", "reset", "status", "serve"} <= verbs, verbs
    usage = re.search(r"use: ([a-z |]+)\)", DEMO_SH).group(1)
    assert set(usage.replace(" ", "").split("|")) == verbs, "demo.sh's usage line lists its verbs"
    for verb in verbs:
        assert f"bash scripts/demo.sh {verb}" in README, f"README does not mention `bash scripts/demo.sh {verb}`"


def test_readme_urls_and_users_are_the_demos(tmp_path: Path):
    env = _demo_env(tmp_path)
    port = env["DEMO_PORT"]
    assert env["AIRFLOW__API__PORT"] == port and env["AIRFLOW__API__HOST"] == "127.0.0.1"
    # The UI address the demo prints, and every URL of a curl example, are the demo's.
    assert "Airflow UI      http://127.0.0.1:$DEMO_PORT" in DEMO_SH
    assert f"http://127.0.0.1:{port}, user `{env['DEMO_USER']}`, password `{env['DEMO_PASSWORD']}`" in README
    curls = [command for command in _bash_commands() if "curl " in command]
    assert len(curls) >= 5
    for command in curls:
        for host, used in re.findall(r"https?://([\w.-]+):(\d+)", command):
            assert (host, used) == ("127.0.0.1", port), f"README curl example not on the demo's port: {command}"
    # Every login of an example is a user the demo creates, with that password and a role.
    roles = dict(entry.split(":", 1) for entry in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(","))
    passwords = {env["DEMO_USER"]: env["DEMO_PASSWORD"], env["DEMO_INGEST_USER"]: env["DEMO_INGEST_PASSWORD"]}
    assert re.search(r'printf .*"\$DEMO_INGEST_USER" "\$DEMO_INGEST_PASSWORD"', DEMO_SH), "its password is written"
    logins = re.findall(r'"username": "([^"]+)", "password": "([^"]+)"', README)
    assert {user for user, _ in logins} == {env["DEMO_USER"], env["DEMO_INGEST_USER"]}
    for user, password in logins:
        assert user in roles and passwords.get(user) == password, f"the demo has no user {user} / {password}"
    # Ingest needs the permission to trigger DAG runs: role "user" or above in the simple auth manager.
    assert roles[env["DEMO_INGEST_USER"]] in ("user", "op", "admin")
    assert f"`{env['DEMO_INGEST_USER']}` / `{env['DEMO_INGEST_PASSWORD']}`" in README


def test_readme_points_the_cli_at_the_demos_store(tmp_path: Path):
    env = _demo_env(tmp_path)
    home = Path(env["AIRFLOW_HOME"]).relative_to(tmp_path)
    assert home.as_posix() == ".demo/airflow_home"
    assert f"export AIRFLOW_HOME=$PWD/{home.as_posix()}" in README
    assert 'AIRFLOW_HOME=${AIRFLOW_HOME#"$ROOT"/} .venv/bin/patchit incidents' in DEMO_SH


def test_readme_patchit_commands_parse():
    """Every `patchit ...` example is accepted by the CLI's own parser (flags cannot drift)."""
    import shlex

    from patchit_provider.cli import build_parser

    commands = [c for c in _bash_commands() if re.match(r"^(\w+=\S+ )*(\.venv/bin/)?patchit ", c)]
    assert any(" remediate " in c and "--llm-kind" in c for c in commands)
    for command in commands:
        command = re.sub(r'"?\$\((?:[^()]|\([^()]*\))*\)"?', "inc-0123456789ab", command)
        words = shlex.split(command, comments=True)
        while "=" in words[0]:
            words.pop(0)
        try:
            build_parser().parse_args(words[1:])
        except SystemExit as exc:  # argparse's way of refusing
            raise AssertionError(f"README example is not a valid patchit command: {command}") from exc


def test_readme_shell_examples_are_valid_bash(tmp_path: Path):
    """`bash -n` on every bash block: an apostrophe inside a single-quoted JSON body breaks the whole example."""
    import subprocess

    for number, block in enumerate(re.findall(r"```bash\n(.*?)```", README, re.S)):
        script = tmp_path / f"block{number}.sh"
        script.write_text(block)
        proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"README bash block is not valid shell: {proc.stderr}\n{block}"
