"""The sandbox every process that runs patched or model-written code goes through (bubblewrap).

A patch comes from log text and model answers, i.e. from strangers, and validation runs it: the
DAG import and replay, dbt parse/build, the configured check command, Spark. Each of those runs
under `bwrap` with new namespaces for everything (no network at all: only a private loopback),
an empty root holding just the system directories, the interpreter / venv and Java read-only,
the scratch worktree and the validation's private directory writable and nothing else (not the
real repository or its `.git`, not the user's home, AIRFLOW_HOME, /etc secrets or any other host
path); a cleared environment refilled from an allow-list (names that look like credentials are
never passed); `--die-with-parent`, `--new-session`; rlimits (memory, CPU seconds, file size,
processes) on top of the caller's wall-clock timeout and bounded output.

Linux does not apply RLIMIT_NPROC to host root, so when PATCHIT runs as root the sandboxed
command runs as the unprivileged `nobody` (65534) instead of root in a user namespace: the
writable directories are handed to that uid first. Any other user gets a user namespace.

Whether the sandbox works is probed once per process (cached). Where it does not (no bwrap, no
user namespaces as in a restricted Kubernetes pod), `Sandbox.available()` says why and validation
executes nothing of the patch (see validation/__init__.py).
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from patchit_provider.engine.validation.workspace import run_bounded

NOBODY = 65534
# Read-only system paths (only those that exist are bound). /etc is never bound whole: it can
# hold credentials (pip.conf, npmrc, ssl/private, gitconfig); these entries hold none.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_PATHS = (
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/java-*",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/locale.alias",
    "/etc/fonts",
)
# Host variables passed through when set; everything else is cleared.
HOST_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "JAVA_HOME", "SPARK_HOME", "PYSPARK_PYTHON", "TERM")
HOST_ENV_PREFIXES = ("LC_",)
# Names that look like credentials never enter the sandbox, even when allow-listed.
CREDENTIAL_NAME = re.compile(
    r"SECRET|TOKEN|PASSW|PASSWD|PWD|KEY|CREDENTIAL|AUTH|SESSION|COOKIE|PRIVATE|CERT|SIGNATURE|ACCESS|DSN|CONN",
    re.IGNORECASE,
)
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
FILE_SIZE_LIMIT = 1 << 30


def credential_like(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name))


@dataclass(frozen=True)
class Limits:
    """Per-process rlimits inside the sandbox. Memory is RLIMIT_DATA (written memory), not
    RLIMIT_AS: the JVM reserves gigabytes of address space it never uses."""

    memory_mb: int = 4096
    cpu_seconds: int = 600
    processes: int = 512
    file_size: int = FILE_SIZE_LIMIT

    def prlimit(self) -> list[str]:
        return [
            _tool("prlimit"),
            f"--data={self.memory_mb * 1024 * 1024}",
            f"--cpu={self.cpu_seconds}",
            f"--fsize={self.file_size}",
            f"--nproc={self.processes}",
            "--core=0",
            "--",
        ]


def _tool(name: str) -> str:
    """util-linux's setpriv / prlimit, by absolute path (they live under the bound /usr)."""
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin") or f"/usr/bin/{name}"


def _interpreter_paths() -> list[Path]:
    """The interpreter, venv and Java this process runs on (what Python, dbt and pyspark need)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    executable = Path(sys.executable)
    paths.add(executable.resolve().parent.parent)
    java = shutil.which("java")
    if java:
        paths.add(Path(java).resolve().parent.parent)
    if os.environ.get("JAVA_HOME"):
        paths.add(Path(os.environ["JAVA_HOME"]).resolve())
    # PATCHIT itself (Airflow's provider discovery imports it; an editable install lives outside
    # the venv): its package directory only, never the checkout around it.
    paths.add(Path(__file__).resolve().parents[2])
    return sorted(p for p in paths if p.is_dir())


def _parents(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if p != Path("/")]


@dataclass
class Sandbox:
    """One validation's sandbox: `tree` (the scratch worktree) and `private` (HOME, TMPDIR,
    AIRFLOW_HOME, dbt's target, result files) are the only writable places."""

    tree: Path
    private: Path
    bwrap: str = "/usr/bin/bwrap"
    allow_env: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.tree, self.private = Path(self.tree), Path(self.private)
        for sub in ("home", "tmp"):
            (self.private / sub).mkdir(parents=True, exist_ok=True)
        self._hosts = self.private / ".hosts"
        self._hosts.write_text(HOSTS, encoding="utf-8")
        self._empty = self.private / ".empty"
        self._empty.write_bytes(b"")
        self._empty_dir = self.private / ".empty.d"
        self._empty_dir.mkdir(exist_ok=True)

    def available(self) -> str | None:
        """None when the sandbox works here, else why not (probed once per process)."""
        return probe(self.bwrap)

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        """Allow-listed host variables, then validation's own (`extra`), minus credential-like names."""
        env = {k: v for k, v in os.environ.items() if k in HOST_ENV or k.startswith(HOST_ENV_PREFIXES)}
        env.update({k: os.environ[k] for k in self.allow_env if k in os.environ})
        env.update(extra)
        env.update(HOME=str(self.private / "home"), TMPDIR=str(self.private / "tmp"))
        return {k: v for k, v in env.items() if not credential_like(k)}

    def command(self, args: Sequence[str], cwd: Path, env: dict[str, str]) -> list[str]:
        """The bwrap command line that runs `args` in `cwd` with exactly `env`."""
        binds: list[tuple[str, Path, Path]] = []
        for name in SYSTEM_PATHS:
            path = Path(name)
            if path.is_symlink():
                binds.append(("--symlink", Path(os.readlink(path)), path))
            elif path.is_dir():
                binds.append(("--ro-bind", path, path))
        for pattern in ETC_PATHS:
            binds += [("--ro-bind", Path(name), Path(name)) for name in sorted(glob.glob(pattern))]
        bound = [target for kind, _, target in binds if kind == "--ro-bind"]
        for path in _interpreter_paths():
            if not any(path == b or b in path.parents for b in bound):
                binds.append(("--ro-bind", path, path))
        binds += [("--bind", self.tree, self.tree), ("--bind", self.private, self.private)]
        git_link = self.tree / ".git"
        if git_link.is_dir() and not git_link.is_symlink():
            binds.append(("--ro-bind", self._empty_dir, git_link))
        elif git_link.exists() or git_link.is_symlink():  # the worktree's link to the real repository: hidden
            binds.append(("--ro-bind", self._empty, git_link))
        binds.append(("--ro-bind", self._hosts, Path("/etc/hosts")))

        cmd = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "localhost",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        size = str(self.limits.memory_mb * 1024 * 1024)  # tmpfs lives in memory: bounded like a process
        cmd += [
            "--perms",
            "1777",
            "--size",
            size,
            "--tmpfs",
            "/tmp",
            "--perms",
            "1777",
            "--size",
            size,
            "--tmpfs",
            "/dev/shm",
        ]
        made = {Path("/tmp")} | {target for kind, _, target in binds if kind == "--symlink"}
        for kind, source, target in binds:
            for parent in _parents(target) if kind != "--symlink" else []:
                if parent not in made:
                    cmd += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            cmd += [kind, str(source), str(target)]
            made.add(target)
        cmd += ["--chdir", str(cwd), "--clearenv"]
        for key, value in sorted(env.items()):
            cmd += ["--setenv", key, value]
        if self.as_root:
            # Root is exempt from RLIMIT_NPROC: run as nobody, without any capability.
            cmd += [
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
                "--cap-add",
                "CAP_SETPCAP",
                "--",
            ]
            cmd += [
                _tool("setpriv"),
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        else:
            cmd += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--"]
        return [*cmd, *self.limits.prlimit(), *args]

    def _own(self, uid: int, gid: int) -> None:
        """As root, the writable directories go to the sandbox's unprivileged uid for a run, and
        back afterwards (git refuses to work in a tree another user owns)."""
        for base in (self.tree, self.private):
            os.lchown(base, uid, gid)
            for directory, dirs, files in os.walk(base):
                for name in dirs + files:
                    os.lchown(os.path.join(directory, name), uid, gid)

    def run(
        self, args: Sequence[str] | str, cwd: Path, timeout: float, env: dict[str, str], shell: bool = False
    ) -> tuple[int | None, str]:
        """(exit status or None on timeout, bounded output) of `args` run in the sandbox."""
        if isinstance(args, str) != shell:
            raise TypeError("a string command needs shell=True" if not shell else "shell=True needs a string command")
        argv = ["/bin/sh", "-c", args] if isinstance(args, str) else list(args)
        command = self.command(argv, Path(cwd), self.environment(env))
        if not self.as_root:
            return run_bounded(command, cwd=self.private, timeout=timeout)
        self._own(NOBODY, NOBODY)
        try:
            return run_bounded(command, cwd=self.private, timeout=timeout)
        finally:
            self._own(os.geteuid(), os.getegid())


@functools.lru_cache(maxsize=8)
def probe(bwrap: str) -> str | None:
    """None when `bwrap` can run this interpreter isolated (no network), else the reason."""
    if not Path(bwrap).is_file() or not os.access(bwrap, os.X_OK):
        return f"bubblewrap is not installed ({bwrap} not found; Debian package 'bubblewrap')"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "setpriv (util-linux) is missing: as root the sandbox needs it to drop to an unprivileged uid"
    base = Path(tempfile.mkdtemp(prefix="patchit-probe-"))
    try:
        (base / "tree").mkdir()
        box = Sandbox(tree=base / "tree", private=base / "private", bwrap=bwrap)
        script = (
            "import socket, sys\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\nexcept OSError:\n    pass\n"
            "else:\n    sys.exit('the network is reachable')\n"
            "open('probe', 'w').write('ok')\n"
        )
        status, output = box.run([sys.executable, "-c", script], cwd=base / "tree", timeout=60, env={})
        if status != 0 or (base / "tree" / "probe").read_text(errors="replace") != "ok":
            verdict = "timed out" if status is None else f"exit status {status}"
            return f"bubblewrap does not work here ({verdict}): {' '.join(output.split())[-300:]}"
        return None
    except OSError as exc:
        return f"bubblewrap does not work here: {exc}"
    finally:
        shutil.rmtree(base, ignore_errors=True)
