"""collect_evidence(): everything triage and patching need, gathered once, bounded, redacted.

Never raises on bad input (missing or unreadable log, non-UTF-8 bytes, huge files, no git):
what could not be gathered is said in Evidence.notes instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

import git

from patchit_provider.engine.blame import blame_lines
from patchit_provider.engine.dbt_artifacts import node_error, node_frame, read_dbt_artifacts
from patchit_provider.engine.intake import is_ingested
from patchit_provider.engine.logs import LogDigest, parse_chain, read_log
from patchit_provider.engine.models import BlameLine, CodeSnippet, ErrorInfo, Evidence, FailureEvent, Frame, RepoRef
from patchit_provider.engine.packages import package_versions
from patchit_provider.engine.peek import peek_inputs
from patchit_provider.engine.redaction import redact_obj
from patchit_provider.engine.repo import map_path
from patchit_provider.engine.settings import PatchitSettings

CONTEXT_LINES = 3
MAX_SNIPPETS = 3
MAX_SOURCE_BYTES = 2_000_000
GIT_TIMEOUT = 5.0
RECENT_CHANGES = 5
MAX_EXCERPT_CHARS = 48_000
PIPELINE_HEAD_LINES = 60


def collect_evidence(
    event: FailureEvent,
    repo_root: Path | None,
    settings: PatchitSettings,
    *,
    log_stream: BinaryIO | None = None,
) -> Evidence:
    """Evidence for `event`; `log_stream` (e.g. stdin) is read instead of the event's log."""
    notes: list[str] = []
    digest = _read_digest(event, log_stream, notes)
    error = event.error or (digest.error if digest else None)
    if error is not None and not error.frames and error.traceback:
        chain = parse_chain(error.traceback)
        if chain:
            error = error.model_copy(update={"frames": chain[0].frames})
    root = Path(repo_root).resolve() if repo_root else None
    if root is not None and not root.is_dir():
        notes.append(f"repository root {repo_root} is not a directory")
        root = None
    ingested = is_ingested(event)  # never open an ingested URI or a path it names on this host
    if ingested and event.artifact_uris:
        notes.append(
            "artifact_uris came from the ingest API: not read (PATCHIT never opens ingested URIs on this host)"
        )
    uris = [] if ingested else event.artifact_uris
    dbt_nodes = read_dbt_artifacts(uris, root, notes, [f.path for f in error.frames] if error else [])
    if error is None and dbt_nodes:
        error = node_error(dbt_nodes[0])
        notes.append(f"error taken from dbt run_results.json ({dbt_nodes[0].unique_id})")
    mapped = _map_frames(error, root) if error else []
    frame = node_frame(dbt_nodes[0]) if dbt_nodes else None
    if root is not None and not mapped and frame is not None:  # the failed node's file localizes the error
        mapped = _map_frames(ErrorInfo(type="dbt", frames=[frame]), root)
    if error is None:
        notes.append("no exception found in the event or the log")
    code_context = _code_context(mapped, root, notes) if root else []
    changed = mapped[-1].path if mapped else None
    if root is not None and not mapped:
        pipeline = _pipeline_snippet(event, digest, root, notes)
        if pipeline is not None:
            code_context.append(pipeline)
            changed = pipeline.path
    culprit_line = mapped[-1].line if mapped else None
    evidence = Evidence(
        event_id=event.event_id,
        error=error,
        log_excerpt=_excerpt(digest, error),
        log_format=digest.format if digest else ("live_exception" if event.error else "none"),
        repo=_repo_ref(root, notes) if root else None,
        mapped_frames=mapped,
        code_context=code_context,
        recent_changes=_recent_changes(changed, root, notes) if root and changed else [],
        blame=_blame(changed, culprit_line, root, notes) if root and changed and culprit_line else [],
        packages=package_versions(error),
        input_peeks=peek_inputs(error, mapped, root, notes, repo_only=ingested),
        dbt_nodes=dbt_nodes,
        pipeline_files=list(
            dict.fromkeys([*([event.code_path] if event.code_path else []), *(digest.pipeline_files if digest else [])])
        ),
        notes=notes,
    )
    redacted: Evidence
    redacted, count = redact_obj(evidence)
    redacted.redactions = count
    return redacted


def _read_digest(event: FailureEvent, stream: BinaryIO | None, notes: list[str]) -> LogDigest | None:
    source: object = None
    if stream is not None:
        source = stream
    elif event.log_text:
        source = event.log_text
    elif event.log_uri:
        if is_ingested(event):
            notes.append("log_uri came from the ingest API: not read (PATCHIT never opens ingested URIs on this host)")
            return None
        path = _local_path(event.log_uri)
        if path is None:
            notes.append(f"log {event.log_uri} is not a local file; only local paths and file:// URIs are read")
            return None
        if not path.is_file():
            notes.append(f"log file {path} does not exist")
            return None
        source = path
    if source is None:
        return None
    try:
        digest = read_log(source)  # type: ignore[arg-type]
    except (OSError, ValueError) as exc:
        notes.append(f"could not read the log: {type(exc).__name__}: {exc}")
        return None
    if digest.truncated_lines:
        notes.append(f"{digest.truncated_lines} over-long log lines were cut")
    if digest.bytes_read > 50_000_000:
        notes.append(
            f"large log ({digest.bytes_read} bytes, {digest.line_count} lines) streamed; only a bounded excerpt kept"
        )
    return digest


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # s3://, http://, ... (a Windows drive is 1 letter)
        return None
    return Path(uri).expanduser()


def _excerpt(digest: LogDigest | None, error: ErrorInfo | None) -> str:
    if digest and digest.excerpt:
        return "\n".join(digest.excerpt)[-MAX_EXCERPT_CHARS:]
    if error is not None:
        return (error.traceback or f"{error.type}: {error.message}")[-MAX_EXCERPT_CHARS:]
    return ""


def _map_frames(error: ErrorInfo, root: Path | None) -> list[Frame]:
    if root is None:
        return []
    mapped = []
    for frame in error.frames:
        relative = map_path(frame.path, root)
        if relative:
            mapped.append(frame.model_copy(update={"path": relative}))
    return mapped


def _code_context(frames: list[Frame], root: Path, notes: list[str]) -> list[CodeSnippet]:
    snippets: list[CodeSnippet] = []
    seen: set[tuple[str, int]] = set()
    for frame in reversed(frames):  # innermost first: that is where the error is
        if frame.line is None or (frame.path, frame.line) in seen or len(snippets) >= MAX_SNIPPETS:
            continue
        seen.add((frame.path, frame.line))
        path = root / frame.path
        try:
            if path.stat().st_size > MAX_SOURCE_BYTES:
                notes.append(f"{frame.path} is too large for code context")
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            notes.append(f"cannot read {frame.path}: {exc.strerror or exc}")
            continue
        start = max(1, frame.line - CONTEXT_LINES)
        end = min(len(lines), frame.line + CONTEXT_LINES)
        if start > len(lines):
            notes.append(f"{frame.path} has no line {frame.line} (the file changed since the run?)")
            continue
        snippets.append(
            CodeSnippet(path=frame.path, start_line=start, lines=lines[start - 1 : end], focus_line=frame.line)
        )
    return snippets


def _pipeline_snippet(
    event: FailureEvent, digest: LogDigest | None, root: Path, notes: list[str]
) -> CodeSnippet | None:
    """The head of the file that defines the pipeline (the event's code_path, else the DAG file the
    log names), when no frame points into the repository: a template rendered by Airflow's own code
    fails there. Its focus_line is None: the file is known, not the line (triage relies on this)."""
    named = [event.code_path] if event.code_path else []
    named += digest.pipeline_files if digest else []
    relative = next((rel for rel in (map_path(path, root) for path in named) if rel), None)
    if relative is None:
        return None
    try:
        with open(root / relative, encoding="utf-8", errors="replace") as handle:
            lines = [line.rstrip("\n") for _, line in zip(range(PIPELINE_HEAD_LINES), handle)]
    except OSError as exc:
        notes.append(f"cannot read {relative}: {exc.strerror or exc}")
        return None
    notes.append(f"no frame in the repository; {relative} defines the pipeline (named by the event or the log)")
    return CodeSnippet(path=relative, start_line=1, lines=lines, focus_line=None)


def _git(root: Path) -> git.Repo | None:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitError):
        return None


def _repo_ref(root: Path, notes: list[str]) -> RepoRef:
    repo = _git(root)
    if repo is None:
        notes.append(f"{root} is not a git work tree")
        return RepoRef(root=str(root))
    head = branch = None
    try:
        head = repo.head.commit.hexsha
        branch = None if repo.head.is_detached else repo.active_branch.name
    except (ValueError, TypeError, git.GitError) as exc:
        notes.append(f"no HEAD commit: {type(exc).__name__}")
    return RepoRef(root=str(root), head=head, branch=branch)


def _recent_changes(path: str, root: Path, notes: list[str]) -> list[str]:
    """The last commits touching the culprit file: a recent change is the usual suspect."""
    repo = _git(root)
    if repo is None:
        return []
    try:
        out = repo.git.log(
            "-n",
            str(RECENT_CHANGES),
            "--date=short",
            "--format=%h %ad %an: %s",
            "--",
            str(root / path),
            kill_after_timeout=GIT_TIMEOUT,
        )
    except git.GitCommandError as exc:
        notes.append(f"git log of {path} failed: {str(exc).splitlines()[0][:200]}")
        return []
    return [line[:300] for line in out.splitlines()[:RECENT_CHANGES]]


def _blame(path: str, line: int, root: Path, notes: list[str]) -> list[BlameLine]:
    """Who last changed the culprit line and the lines around it (see engine/blame.py)."""
    repo = _git(root)
    return blame_lines(repo, str(root / path), line, notes) if repo is not None else []
