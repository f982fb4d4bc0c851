"""What a patch adds to shell: scripts, Dockerfile RUN lines and Makefile recipes.

A small line grammar (continuations joined, `shlex` words, commands split at `;` `&&` `||` `|`
`&`) is enough for the idioms that matter: a check script that gains `exit 0`, `|| true`,
`set +e` or loses `set -e`; a download piped into a shell; network tools; reading the
environment; installing packages; writing outside the repository. Only commands the patch adds
count (before and after are compared as multisets).
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.files import FileChange
from patchit_provider.engine.policy.rules import Finding

_SHELL_SUFFIX = re.compile(r"\.(sh|bash|zsh|ksh|dash)$")
_SHEBANG = re.compile(r"^#!.*\b(sh|bash|zsh|ksh|dash)\b")
DOCKERFILE = re.compile(r"(?i)(^|/)(Dockerfile|Containerfile)([.-][^/]*)?$|\.(dockerfile|containerfile)$")
MAKEFILE = re.compile(r"(^|/)(GNU)?[Mm]akefile$|\.mk$")
_SEPARATORS = {";", "&&", "||", "|", "&", "\n", ";;", "|&"}
_NETWORK = {
    "curl",
    "wget",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "ftp",
    "telnet",
    "aria2c",
    "http",
    "https",
    "lynx",
    "dig",
    "nslookup",
}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node"}
_INSTALLERS = {
    ("pip", "install"),
    ("pip3", "install"),
    ("uv", "pip"),
    ("uv", "add"),
    ("apt-get", "install"),
    ("apt", "install"),
    ("yum", "install"),
    ("dnf", "install"),
    ("apk", "add"),
    ("npm", "install"),
    ("conda", "install"),
    ("gem", "install"),
    ("go", "install"),
    ("poetry", "add"),
    ("pipx", "install"),
}
_SECRET_VAR = re.compile(
    r"\$\{?\w*(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|AWS_)\w*", re.IGNORECASE
)
_FILE_WRITERS = {"cp", "mv", "rm", "mkdir", "touch", "chmod", "chown", "ln", "install", "tee", "truncate", "rsync"}
_SAFE_TARGETS = ("/dev/null", "/dev/stdout", "/dev/stderr", "&1", "&2")


def is_shell(path: str, text: str | None) -> bool:
    return bool(_SHELL_SUFFIX.search(path)) or bool(text and _SHEBANG.match(text))


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    joined_by: str  # the separator before it ("" at the start of a line)
    piped_into: bool = False  # followed by `|`

    def text(self) -> str:
        return " ".join(self.words)


def _logical_lines(text: str) -> list[str]:
    out, current = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return out


def commands(script: str) -> list[Command]:
    """The simple commands of a script, in order, each with the operator that joins it."""
    found: list[Command] = []
    for line in _logical_lines(script):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        words: list[str] = []
        joined = ""
        for token in tokens + ["\n"]:
            if token in _SEPARATORS:
                if words:
                    found.append(Command(tuple(words), joined, piped_into=token in ("|", "|&")))
                words, joined = [], token if token != "\n" else ""
            else:
                words.append(token)
    return found


def _outside(target: str) -> bool:
    target = target.strip("'\"")
    if not target or target.startswith(_SAFE_TARGETS):
        return False
    return (
        target.startswith(("/", "~", "$HOME", "${HOME}", "$TMPDIR", "${TMPDIR}")) or ".." in PurePosixPath(target).parts
    )


def _command_findings(command: Command, previous: Command | None) -> list[tuple[str, str]]:
    words = [w for w in command.words if not re.match(r"^\w+=", w)] or list(command.words)
    head = PurePosixPath(words[0].lstrip("@-")).name if words else ""
    rest = words[1:]
    text = command.text()
    out: list[tuple[str, str]] = []
    if head == "exit" and (not rest or rest[0] == "0"):
        out.append((rules.WEAKENS_CHECK, f"`{text}` ends the script with success whatever happened"))
    if command.joined_by == "||" and head in ("true", ":", "echo", "printf", "exit", "return"):
        out.append((rules.WEAKENS_CHECK, f"`|| {text}` turns a failing command into a success"))
    if head == "set" and any(w.startswith("+") and ("e" in w or w == "+o") for w in rest):
        out.append((rules.WEAKENS_CHECK, f"`{text}` keeps going after a failure"))
    if head == "trap" and any("exit" in w.lower() for w in rest):
        out.append((rules.WEAKENS_CHECK, f"`{text}` rewrites the exit status on exit"))
    if head in _NETWORK or any("/dev/tcp/" in w or "/dev/udp/" in w for w in words):
        out.append((rules.NETWORK, f"`{text}` reaches the network"))
    if (
        head in _SHELLS
        and previous is not None
        and previous.piped_into
        and previous.words
        and PurePosixPath(previous.words[0]).name in _NETWORK
    ):
        out.append((rules.NETWORK, f"pipes a download into `{head}` (runs code fetched from the network)"))
    if head in ("eval", "source", ".") or (head in _SHELLS and any(w in ("-c", "-e") for w in rest)):
        out.append((rules.EVAL_EXEC, f"`{text}` runs code built at run time"))
    if (
        head in ("env", "printenv")
        and not any("=" in w for w in rest[:1])
        or (head == "export" and "-p" in rest)
        or any("/proc/" in w and "environ" in w for w in words)
        or _SECRET_VAR.search(text)
    ):
        out.append((rules.ENVIRONMENT, f"`{text}` reads the environment or a secret"))
    if len(words) >= 2 and (
        (head, words[1]) in _INSTALLERS or (head.startswith("python") and "pip" in words[:3] and "install" in words)
    ):
        out.append((rules.DEPENDENCY_SOURCE, f"`{text}` installs packages at run time"))
    if head in _FILE_WRITERS and any(_outside(w) for w in rest if not w.startswith("-")):
        out.append((rules.WRITES_OUTSIDE, f"`{text}` writes outside the repository"))
    for i, word in enumerate(words):
        if word in (">", ">>", ">|") and i + 1 < len(words) and _outside(words[i + 1]):
            out.append((rules.WRITES_OUTSIDE, f"`{text}` redirects into {words[i + 1]}"))
        elif re.match(r"^\d?>>?/", word) and _outside(word.lstrip("0123456789>")):
            out.append((rules.WRITES_OUTSIDE, f"`{text}` redirects outside the repository"))
    return out


def _keys(script: str) -> list[tuple[str, str, str]]:
    cmds = commands(script)
    keyed = []
    for i, command in enumerate(cmds):
        for rule, what in _command_findings(command, cmds[i - 1] if i else None):
            keyed.append((f"{rule}|{command.joined_by}|{command.text()}", rule, what))
    return keyed


def _errexit(script: str) -> int:
    return sum(
        1
        for c in commands(script)
        if c.words
        and c.words[0] == "set"
        and any(re.match(r"^-\w*e", w) or w in ("errexit", "pipefail") for w in c.words[1:])
    )


def _dockerfile_script(text: str) -> str:
    """The shell of a Dockerfile's RUN instructions, one per line; ADD of a URL as a fetch."""
    out = []
    for line in _logical_lines(text):
        stripped = line.strip()
        upper = stripped.upper()
        if upper.startswith("RUN "):
            out.append(stripped[4:])
        elif upper.startswith("ADD ") and re.search(r"(?i)\bhttps?://", stripped):
            out.append("curl " + stripped[4:])
    return "\n".join(out)


def _makefile_script(text: str) -> str:
    out = []
    for line in _logical_lines(text):
        if line.startswith("\t"):
            recipe = line.strip()
            out.append(recipe.lstrip("@+"))
            if recipe.startswith(("-", "@-")):
                out.append("true_ignored_error || true")  # `-cmd`: make ignores its failure
    return "\n".join(out)


def shell_findings(change: FileChange, check_file: bool) -> list[Finding]:
    """Rules broken by the commands a patch adds to a script, Dockerfile or Makefile."""
    convert = (
        _dockerfile_script
        if DOCKERFILE.search(change.path)
        else _makefile_script
        if MAKEFILE.search(change.path)
        else str
    )
    before = convert(change.before or "")
    after = convert(change.after if change.after is not None else "\n".join(change.added))
    old = Counter(key for key, _, _ in _keys(before))
    found: list[Finding] = []
    for key, rule, what in _keys(after):
        if old[key]:
            old[key] -= 1
            continue
        found.append(Finding(rule, f"{change.path}: {what}"))
    if _errexit(after) < _errexit(before):
        found.append(
            Finding(
                rules.WEAKENS_CHECK, f"{change.path}: removes `set -e`/`pipefail` (failures no longer stop the script)"
            )
        )
    if check_file and len(commands(after)) < len(commands(before)):
        found.append(
            Finding(
                rules.WEAKENS_CHECK,
                f"{change.path}: the check runs this script, and the patch removes commands from it",
            )
        )
    return list(dict.fromkeys(found))
