"""pip requirements files, read with `packaging` the way pip reads them.

Each requirement line goes through `packaging.requirements.Requirement`; around it, pip's own
syntax: comments, line continuations, `--hash` (kept: a pin with hashes cannot be rewritten
without new hashes), `-r`/`-c` includes (followed relative to the including file, never out of
the repository), `-e` and URL requirements (reported as skipped), environment markers
(evaluated against the target interpreter). Only `==` pins are scanned; everything else is
reported as skipped with the reason; other specifiers on a package are its constraints.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from patchit_provider.engine.models import VulnSkip

MAX_FILE_BYTES = 4 << 20
MAX_INCLUDES = 100
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = {"-r": "requirement", "--requirement": "requirement", "-c": "constraint", "--constraint": "constraint"}
_EDITABLE = ("-e", "--editable")


@dataclass
class Pin:
    """A requirement pinned with `==`: what is scanned."""

    name: str  # PEP 503 normalized
    version: Version
    requirement: Requirement
    file: str  # repository-relative POSIX path
    line: int  # 1-based, first physical line
    text: str  # the physical line(s), continuations included
    hashes: list[str] = field(default_factory=list)


@dataclass
class Requirements:
    pins: list[Pin] = field(default_factory=list)
    constraints: dict[str, SpecifierSet] = field(default_factory=dict)
    skipped: list[VulnSkip] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def constrain(self, name: str, spec: SpecifierSet) -> None:
        self.constraints[name] = self.constraints.get(name, SpecifierSet()) & spec

    def other_constraints(self, pin: Pin) -> SpecifierSet:
        """Every specifier on the pin's package except the pin itself."""
        others = SpecifierSet()
        for p in self.pins:
            if p is not pin and p.name == pin.name:
                others &= p.requirement.specifier
        return others & self.constraints.get(pin.name, SpecifierSet())


def _logical_lines(text: str) -> list[tuple[int, str, str]]:
    """(first line number, logical line without comments, raw text) with continuations joined."""
    out: list[tuple[int, str, str]] = []
    buffer, raw, start = "", "", 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if not buffer:
            start = number
        raw += line
        stripped = _COMMENT.sub("", line.rstrip("\r\n"))
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        out.append((start, (buffer + stripped).strip(), raw))
        buffer, raw = "", ""
    if raw:
        out.append((start, buffer.strip(), raw))
    return out


def _split_options(line: str) -> tuple[str, list[str], list[str]]:
    """(requirement text, hashes, other per-requirement options)."""
    hashes: list[str] = []
    options: list[str] = []
    parts = re.split(r"\s+(?=--)", line)
    for part in parts[1:]:
        name, _, value = part.partition("=") if "=" in part.split(" ", 1)[0] else part.partition(" ")
        if name == "--hash":
            hashes.append(value.strip())
        else:
            options.append(part)
    return parts[0].strip(), hashes, options


def parse_requirements(path: Path, repo_root: Path, environment: dict[str, str] | None = None) -> Requirements:
    """Read `path` and what it includes. `environment`: the target interpreter's marker values
    (default: this interpreter's)."""
    env = dict(environment) if environment is not None else {k: str(v) for k, v in default_environment().items()}
    result = Requirements()
    root = Path(repo_root).resolve()
    _read(Path(path).resolve(), root, env, result, "requirement", set())
    return result


def _read(path: Path, root: Path, env: dict[str, str], result: Requirements, mode: str, seen: set[Path]) -> None:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        result.skipped.append(VulnSkip(item=str(path), reason="outside the repository: not read"))
        return
    if path in seen:
        result.skipped.append(VulnSkip(item=rel, reason="included twice (a cycle): read once"))
        return
    if len(seen) >= MAX_INCLUDES:
        result.skipped.append(VulnSkip(item=rel, reason=f"more than {MAX_INCLUDES} included files: not read"))
        return
    seen.add(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise OSError(f"larger than {MAX_FILE_BYTES >> 20} MiB")
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.skipped.append(VulnSkip(item=rel, reason=f"cannot be read: {exc}"))
        return
    result.files.append(rel)
    for number, line, raw in _logical_lines(text):
        if line:
            _line(path, rel, number, line, raw, root, env, result, mode, seen)


def _line(
    path: Path,
    rel: str,
    number: int,
    line: str,
    raw: str,
    root: Path,
    env: dict[str, str],
    result: Requirements,
    mode: str,
    seen: set[Path],
) -> None:
    where = f"{rel}:{number}"
    if line.startswith("-"):
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        flag, _, inline = words[0].partition("=")
        if flag in _INCLUDE:
            target = inline or (words[1] if len(words) > 1 else "")
            if not target:
                result.skipped.append(VulnSkip(item=where, reason=f"{flag} without a file"))
            elif "://" in target:
                result.skipped.append(VulnSkip(item=where, reason=f"{flag} {target}: remote files are not fetched"))
            else:
                included = (path.parent / target).resolve()
                if not included.is_relative_to(root):
                    result.skipped.append(
                        VulnSkip(item=where, reason=f"{flag} {target} points outside the repository: not read")
                    )
                else:
                    _read(included, root, env, result, "constraint" if _INCLUDE[flag] == "constraint" else mode, seen)
            return
        if flag in _EDITABLE:
            result.skipped.append(
                VulnSkip(item=where, reason="editable requirement: its version is the working copy's, not a release")
            )
            return
        return  # global options (--index-url, --find-links, --pre, ...) say nothing about versions
    body, hashes, _options = _split_options(line)
    try:
        req = Requirement(body)
    except InvalidRequirement as exc:
        reason = (
            "URL or path requirement: no version to match"
            if re.match(r"^(\.|/|\w+://|\w+:\\)", body)
            else f"not a valid requirement: {exc}"
        )
        result.skipped.append(VulnSkip(item=where, reason=reason))
        return
    name = canonicalize_name(req.name)
    if req.marker is not None and not req.marker.evaluate(env):
        result.skipped.append(
            VulnSkip(
                item=where,
                reason=f"marker `{req.marker}` is false for the target interpreter (Python {env.get('python_full_version')})",
            )
        )
        return
    if req.url:
        result.skipped.append(
            VulnSkip(item=where, reason=f"URL requirement ({req.name} @ ...): no release version to match")
        )
        return
    if mode == "constraint":
        result.constrain(name, req.specifier)
        return
    specs = list(req.specifier)
    pinned = [s for s in specs if s.operator in ("==", "===") and not s.version.endswith(".*")]
    if len(pinned) != 1:
        result.constrain(name, req.specifier)
        result.skipped.append(
            VulnSkip(
                item=where,
                reason=f"{req.name}{req.specifier or ''} is not pinned with ==: not scanned (kept as a constraint)",
            )
        )
        return
    try:
        version = Version(pinned[0].version)
    except InvalidVersion:
        result.skipped.append(VulnSkip(item=where, reason=f"{req.name}==={pinned[0].version} is not a PEP 440 version"))
        return
    result.pins.append(Pin(name=name, version=version, requirement=req, file=rel, line=number, text=raw, hashes=hashes))
