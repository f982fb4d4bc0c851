"""triage(evidence) -> Triage: catalog facts (resolve.py) and text rules, culprit (localize.py), remediation, fingerprint."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from patchit_provider.engine.logs import parse_chain
from patchit_provider.engine.logs.paragraphs import paragraphs
from patchit_provider.engine.models import Culprit, ErrorInfo, ErrorSummary, Evidence, Frame, Triage
from patchit_provider.engine.repo import is_foreign, map_path
from patchit_provider.engine.taxonomy import DEFAULT_REMEDIATION, Category, Remediation
from patchit_provider.engine.triage.fingerprint import FINGERPRINT_VERSION, fingerprint
from patchit_provider.engine.triage.replacement import Replacement, find_replacement
from patchit_provider.engine.triage import date_format, dbt_lines, divisor, localize, resolve
from patchit_provider.engine.triage.catalogs import airflow_meta, messages, vocabulary
from patchit_provider.engine.triage.catalogs.base import AF3, Verdict
from patchit_provider.engine.triage.resolve import Finding
from patchit_provider.engine.triage.rules import NEXT_STEPS, RULES, Rule

_CONFIG_EXT = (".yaml", ".yml", ".ini", ".toml", ".cfg", ".conf", ".env", ".properties")
_CONFIG_DIRS = {"config", "configs", "conf", "settings", "etc", "profiles"}
_CONFIG_NAME = re.compile(r"^(?:settings|config|conf|profiles?)(?:[._-]|$)", re.I)
_CONFIG_FUNC = re.compile(r"(?:^|_)(?:config|configs|configuration|settings|conf|cfg|profiles?)(?:_|$)", re.I)
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


@dataclass
class Candidate:
    """One exception the rules look at (the outermost error, then its causes)."""

    type: str
    message: str
    frames: list[Frame]
    code_line: str = ""
    context: str = ""  # lines printed right after a log line (a response body)

    @property
    def short_type(self) -> str:
        return self.type.rsplit(".", 1)[-1]


def _quoted(message: str) -> str:
    match = _QUOTED.search(message)
    return (match.group(1) or match.group(2)) if match else ""


def _module_in_repo(c: Candidate, root: Path | None) -> bool:
    """The import names the user's own tree: a module or folder of the repository, or a folder on
    the path of the user's file that imports it (`/opt/airflow/dags/team/dag.py` importing
    `dags.plugins`): a package of that tree rooted wrongly on sys.path, not a distribution to
    install (https://docs.python.org/3/reference/import.html#the-module-search)."""
    match = re.search(r"No module named '([\w.]+)'|cannot import name '\w+' from '([\w.]+)'", c.message)
    if not match:
        return False
    top = (match.group(1) or match.group(2)).split(".")[0]
    if top not in localize.THIRD_PARTY_ROOTS and top not in sys.stdlib_module_names:
        for frame in c.frames:
            path = frame.path.replace("\\", "/")
            if (
                path.endswith(".py")
                and not path.startswith("<")
                and not is_foreign(path)
                and top in path.split("/")[:-1]
            ):
                return True
    if root is None:
        return False
    places = [root, *(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))] if root.is_dir() else []
    return any((p / f"{top}.py").is_file() or (p / top / "__init__.py").is_file() or (p / top).is_dir() for p in places)


def _missing_path(c: Candidate) -> str:
    return _quoted(c.message.split(":", 1)[-1]) or _quoted(c.message)


def _config_file(c: Candidate) -> bool:
    """A missing file is configuration (not an upstream input) when its name or folder says so
    (`config/prod.json`, `settings.yaml`) or when the pipeline's own code that failed to open it
    is a config loader (`load_settings()`): where it is read tells what it is."""
    path = _missing_path(c).replace("\\", "/")
    parts = [p for p in path.split("/") if p]
    if path.lower().endswith(_CONFIG_EXT) or (parts and _CONFIG_NAME.match(parts[-1])):
        return True
    if any(p.lower() in _CONFIG_DIRS for p in parts[:-1]):
        return True
    own = next((f for f in reversed(c.frames) if not is_foreign(f.path)), None)
    return bool(own and own.function and _CONFIG_FUNC.search(own.function))


# the JSON decoded is an HTTP response's body: requests' / httpx's Response.json(), or the
# caller's `.json()` / `loads(<response>.content|.text)` (the Response attributes of both clients)
_RESPONSE_JSON = re.compile(r"(?:requests/models|httpx/_models)\.py$")
_BODY_CALL = re.compile(r"\.json\(\s*\)|loads\(\s*[\w.]+\.(?:content|text)\b")


def _http_body(c: Candidate) -> bool:
    return any(
        (_RESPONSE_JSON.search(f.path.replace("\\", "/")) and f.function == "json") or _BODY_CALL.search(f.code or "")
        for f in c.frames
    )


PREDICATES: dict[str, Callable[[Candidate, Path | None], bool]] = {
    "module_in_repo": _module_in_repo,
    # os.environ[...] raises from inside the mapping (CPython Lib/os.py _Environ.__getitem__,
    # Python 2's UserDict.__getitem__): the lookup is on the caller's line, one or two frames up.
    "env_lookup": lambda c, _: any(
        re.search(r"\benviron\b|getenv", line) for line in [c.code_line, *(f.code or "" for f in c.frames[-3:])]
    ),
    # the raising line subscripts the triggered run's conf or the DAG's params
    "run_conf_lookup": lambda c, _: any(
        re.search(r"\bconf\s*\[|\bparams\s*\[|\[[\"']params[\"']\]\s*\[", line)
        for line in [c.code_line, *(f.code or "" for f in c.frames[-2:])]
    ),
    "config_path": lambda c, _: _config_file(c),
    "http_body": lambda c, _: _http_body(c),
    "format_misfit": lambda c, _: date_format.corrected_format(c.message) is not None,
    # the division on the raising line (the innermost frame: ZeroDivisionError raises at the operator)
    "unguarded_divisor": lambda c, _: bool(c.frames) and divisor.unguarded(c.frames[-1].code or ""),
    # the raising line prints: the stream's encoding is the process's locale, not the code's choice
    "stdout_write": lambda c, _: (
        bool(c.frames) and bool(re.search(r"\bprint\(|\bstd(?:out|err)\b", c.frames[-1].code or ""))
    ),
    "executable": lambda c, _: bool(_missing_path(c)) and "/" not in _missing_path(c) and "." not in _missing_path(c),
    "input_path": lambda c, _: not _config_file(c) and ("/" in _missing_path(c) or "." in _missing_path(c)),
}


def _matches(rule: Rule, c: Candidate, root: Path | None) -> bool:
    if rule.types and c.short_type not in rule.types and c.type not in rule.types:
        return False
    if rule.pattern is not None and not rule.pattern.search(c.message if rule.types else f"{c.type}: {c.message}"):
        return False
    return rule.when is None or PREDICATES[rule.when](c, root)


# "com.chaquo.python.PyException: MemoryError: ..." / "Message Error: Couldn't apply ...: TypeError: x"
_NESTED = re.compile(
    r"^(?:[\w .']*?:\s)??((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Timeout|Interrupt|Violation|Denied|NotFound|Forbidden|Invalid)):\s?(.*)",
    re.S,
)
_CAUSED_BY = re.compile(r"^\s*Caused by: ((?:[\w$]+\.)*[\w$]+)(?::[ \t]?(.*))?$", re.M)  # a JVM chain's causes
_REPR = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Timeout))\((['\"])(.*?)\2\)")
_FILE_LINE = re.compile(r"\(([^()]+\.py), line (\d+)\)")


def _nested(c: Candidate) -> Candidate | None:
    """An exception named inside another's message (a wrapper that prints its cause inline)."""
    match = _NESTED.match(c.message.strip())
    if match and match.group(1) != c.type:
        return Candidate(match.group(1), match.group(2).strip(), c.frames, c.code_line)
    return None


def _log_line(line: str, context: str) -> Candidate:
    """A log line as a candidate: a DAG import error ("Broken DAG: [path] message") carries its
    file (and the line CPython names); a CPython message names its built-in class."""
    dag = localize.broken_dag(line)
    frames: list[Frame] = []
    message = line
    if dag is not None:
        message = line.split("]", 1)[-1].strip() if "Broken DAG" in line else line
        where = _FILE_LINE.search(message)
        frames = [Frame(path=dag, line=int(where.group(2)) if where else None)]
    bare = _NESTED.match(message.strip())
    if bare and "Broken DAG" not in bare.group(1):
        return Candidate(bare.group(1), bare.group(2).strip(), frames, context=context)
    wrapped = _REPR.search(message)  # Celery's "raised unexpected: KeyError('customer_id')"
    if wrapped:
        text = (
            f"'{wrapped.group(3)}'" if wrapped.group(1).endswith("KeyError") else wrapped.group(3)
        )  # str(KeyError) is its repr
        return Candidate(wrapped.group(1), text, frames, context=context)
    inferred = messages.infer_python_type(message)
    return Candidate(inferred or "log", message, frames, context=context)


_NAME_ONLY = re.compile(r"^cannot import name '?(\w+)'?\s*$")
_FROM_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\b")


def _import_source(message: str, code_line: str) -> str:
    """Python before 3.7 printed `cannot import name 'X'` without the module (Python/ceval.c,
    import_from); the failing `from M import X` line names it, so the rules that read the module
    (an Airflow module that moved, a provider) read the same text from every Python."""
    name, source = _NAME_ONLY.match(message.strip()), _FROM_IMPORT.match(code_line)
    return f"cannot import name '{name.group(1)}' from '{source.group(1)}'" if name and source else message


def _candidates(error: ErrorInfo | None, excerpt: str) -> list[Candidate]:
    if error is None:
        # No exception: the log lines themselves (SIGKILL, dbt summaries, ...), latest first.
        return _log_candidates(excerpt, 40)
    tail = "\n".join([l for l in excerpt.splitlines() if l.strip()][-10:])  # a response body printed after the error
    code_line = _code_line(error.frames)
    first = Candidate(error.type, _import_source(error.message, code_line), error.frames, code_line, context=tail)
    chain = parse_chain(error.traceback) if error.traceback and "Traceback" in error.traceback else []
    causes = [Candidate(e.type, e.message, e.frames, _code_line(e.frames)) for e in chain[1:]]
    listed = [first, *causes]
    nested = [n for n in map(_nested, listed) if n is not None]
    jvm = [Candidate(m.group(1), m.group(2).strip(), []) for m in _CAUSED_BY.finditer(error.traceback or "")][:10]
    return [*listed, *nested, *jvm]


def _code_line(frames: list[Frame]) -> str:
    return next((f.code for f in reversed(frames) if f.code), "") or ""


_SPECIFIC = [rule for rule in RULES if not rule.generic]
_GENERIC = [rule for rule in RULES if rule.generic]
_TEXT_RULES = [rule for rule in _SPECIFIC if rule.pattern is not None or rule.when is not None]
_CLASS_RULES = [rule for rule in _SPECIFIC if rule.pattern is None and rule.when is None]
RULES_SOURCE = (
    "patchit_provider/engine/triage/rules.py (message shapes printed by Python, pandas, DuckDB, PostgreSQL, dbt, Spark)"
)
LOG_LINE_PENALTY = 0.15


def _rule_finding(rule: Rule) -> Finding:
    return Finding(Verdict(rule.category, rule.confidence, RULES_SOURCE, rule.why), "text rule")


# A traceback cut before its exception line (the process died or the poster trimmed it) whose
# innermost frame is an import: the import itself failed, which is a missing module or a name an
# installed version no longer has (CPython raises ImportError from the import statement:
# https://docs.python.org/3/reference/simple_stmts.html#the-import-statement).
_IMPORT_STMT = re.compile(r"^\s*(?:from\s+[\w.]+\s+import\s|import\s+[\w.]+)")
_CUT_IMPORT = Verdict(
    Category.DEPENDENCY_MISSING,
    0.6,
    "https://docs.python.org/3/reference/simple_stmts.html#the-import-statement",
    "the traceback ends inside an import statement: a module or a name it imports is missing from the installed versions",
)


def _cut_at_import(c: Candidate) -> Finding | None:
    if c.type != "Traceback" or not c.frames or not _IMPORT_STMT.match(c.frames[-1].code or ""):
        return None
    return Finding(_CUT_IMPORT, "a traceback cut at an import")


def _strong(c: Candidate, root: Path | None) -> Finding | None:
    """Codes, engine messages, the specific text rules, then the class itself (resolve.py)."""
    cut = _cut_at_import(c)
    if cut is not None:
        return cut
    code = resolve.code_facts(c.type, c.message, c.context)
    text = resolve.message_facts(c.type, c.message)
    rule = next((_rule_finding(r) for r in _TEXT_RULES if _matches(r, c, root)), None)
    found = [f for f in (code, text, rule) if f is not None]
    if found:  # the most confident; on a tie the order above (code, engine message, text rule)
        return max(found, key=lambda f: (f.verdict.confidence, -found.index(f)))
    if c.type == "log":
        return None
    # the class itself: the rules that name only classes, then the class catalog
    return next((_rule_finding(r) for r in _CLASS_RULES if _matches(r, c, root)), None) or resolve.class_fact(c.type)


def _weak(c: Candidate, root: Path | None) -> Finding | None:
    found = resolve.weak_facts(c.type, c.message)
    if found is not None:
        return found
    for rule in _GENERIC:
        if _matches(rule, c, root):
            return _rule_finding(rule)
    return None


def classify(
    candidates: list[Candidate], root: Path | None, judges: tuple[Callable[..., Finding | None], ...] = ()
) -> tuple[Finding | None, Candidate | None]:
    """First candidate (outermost first) with a strong fact; only when none has one, the same
    with the weak facts (so a cause's precise error beats the wrapper's vague class). A verdict
    of `unknown` (SQLSTATE 25P02: an earlier statement failed) passes to the next candidate."""
    for judge in judges or (_strong, _weak):
        for candidate in candidates:
            found = judge(candidate, root)
            if found is not None and found.verdict.category != Category.UNKNOWN:
                return found, candidate
    return None, None


_AIRFLOW_ITSELF = re.compile(r"(?:site|dist)-packages/airflow/")
_AIRFLOW_CORE = re.compile(r"(?:site|dist)-packages/airflow/(?!providers/)")  # providers are packages of their own
_STDLIB = re.compile(r"^<[^>]*>$|(?:^|/)lib(?:64)?/python\d(?:\.\d+)?/(?!.*(?:site|dist)-packages/)")


_FORWARDS_KWARGS = re.compile(r"\*\*(?:\w+\()?kwargs\b")  # `**kwargs`, `**airflow_kwargs(**kwargs)`


# A call that does not fit the called API's signature or names (CPython's TypeError texts of
# Python/ceval.c and Objects/call.c; AttributeError of a module or of a library's own class, not
# of a built-in value such as None): raised in an installed package's frame, one package calls
# another in a form the installed version does not have.
_API_MISMATCH = re.compile(
    r"got an unexpected keyword argument|takes (?:from )?\d+ (?:to \d+ )?positional arguments? but \d+ (?:were|was) given|"
    r"missing \d+ required (?:positional|keyword-only) arguments?|"
    r"module '[\w.]+' has no attribute|"
    r"'(?!(?:NoneType|list|dict|str|int|float|tuple|set|bytes|bool|function|method|generator|coroutine)')[\w.]+' object has no attribute"
)


def _package_calls_a_missing_api(c: Candidate) -> bool:
    """The innermost frame outside Airflow's core and the standard library is an installed
    package's (a provider's included), and its own line makes the call or the lookup that failed
    (`attr.s(..., eq=False)`, `engine.execute(...)`): not a `raise` inside a library's
    `__getattr__`, which is how pandas answers a caller's typo (`'SeriesGroupBy' object has no
    attribute 'summ'`). A line that forwards `**kwargs` passes an unexpected keyword on: the
    caller's line decides when it wrote that keyword, else the forwarding package added it."""
    if not _API_MISMATCH.search(c.message) or "Did you mean" in c.message:
        return False
    name = re.search(r"(?:keyword argument|has no attribute) '(\w+)'", c.message)
    frames = [(f.path.replace("\\", "/"), f.code or "") for f in c.frames]
    callers = [(path, code) for path, code in frames if not (_AIRFLOW_CORE.search(path) or _STDLIB.search(path))]
    if not callers:
        return False
    path, code = callers[-1]
    keyword = name is not None and "keyword argument" in name.group(0)
    if keyword and _FORWARDS_KWARGS.search(code) and len(callers) > 1:
        caller_path, caller_code = callers[-2]
        whole_call = "(" in caller_code and caller_code.count("(") == caller_code.count(")")
        if whole_call and "**" not in caller_code and not re.search(rf"\b{name.group(1)}\s*=", caller_code):  # type: ignore[union-attr]
            return is_foreign(path)  # the caller's whole call never wrote it: the forwarding package put it in
        return is_foreign(caller_path)  # the caller wrote it, or may have (a call cut at its first line, **options)
    if not is_foreign(path) or not code.strip() or code.lstrip().startswith("raise"):
        return False
    if name is None:
        return True
    return bool(re.search(rf"\b{name.group(1)}\s*=" if keyword else rf"\.{name.group(1)}\b", code))


def _calling_frame(c: Candidate) -> tuple[str, str] | None:
    """(path, code) of the innermost frame outside Airflow and the standard library: the code that
    made the failing call. A package frame that only hands its caller's `**kwargs` on passes the
    part to the frame that called it."""
    frames = [(f.path.replace("\\", "/"), f.code or "") for f in c.frames]
    callers = [(path, code) for path, code in frames if not (_AIRFLOW_ITSELF.search(path) or _STDLIB.search(path))]
    for index in range(len(callers) - 1, -1, -1):
        path, code = callers[index]
        if index > 0 and is_foreign(path) and _FORWARDS_KWARGS.search(code):
            continue  # a wrapper handing its caller's arguments on
        return path, code
    return None


def _caller_in_package(matched: Candidate, candidates: list[Candidate]) -> bool:
    """The code that called a removed Airflow API is an installed package's: the innermost frame
    outside Airflow and the standard library, of the matched error or, when its traceback is all
    Airflow's (a package caught it and raised its own error), of the errors around it. A package
    frame that only forwards its own caller's `**kwargs` (cosmos's `DbtDag(**kwargs)` on to
    `DAG.__init__`) passes the decision on to the frame that called it."""
    for candidate in (matched, *(c for c in candidates if c is not matched)):
        caller = _calling_frame(candidate)
        if caller is not None:
            return is_foreign(caller[0])
    return False


def _words(candidates: list[Candidate]) -> tuple[Finding, Candidate] | None:
    for candidate in candidates:
        read = vocabulary.read_words(candidate.type, candidate.message)
        if read is not None:
            return Finding(read[0], f"words '{read[1]}'"), candidate
    return None


def _log_candidates(excerpt: str, count: int = 60) -> list[Candidate]:
    lines = [l for l in excerpt.splitlines() if l.strip()][-count:]
    return [_log_line(l, "\n".join(lines[i + 1 : i + 9])) for i, l in reversed(list(enumerate(lines)))]


# Failures of a SQL statement: its text may live in a `.sql` file that the culprit names.
_SQL_CATEGORIES = {
    Category.SCHEMA_MISSING_COLUMN,
    Category.SCHEMA_MISSING_RELATION,
    Category.DATA_TYPE_MISMATCH,
    Category.CODE_ERROR,
    Category.DATA_QUALITY,
}


def _dbt_model_line(evidence: Evidence, root: Path, model: str, message: str) -> int | None:
    """The model's line at the position the warehouse reports (dbt_lines.py): the compiled SQL
    from run_results/manifest, else from the project's target/ folder."""
    source = localize.read_text(root / model)
    if source is None:
        return None
    compiled, executed = dbt_lines.target_copies(root, model)
    compiled = next((n.compiled_sql for n in evidence.dbt_nodes if n.path == model and n.compiled_sql), compiled)
    return dbt_lines.model_line(f"{message}\n{evidence.log_excerpt[-20_000:]}", source, compiled, executed)


def _culprit(evidence: Evidence, category: Category, message: str = "", error_type: str = "") -> Culprit | None:
    """Where to look (localize.py): the `.sql` file and line of a statement run from Python; the
    innermost frame in the repository (a dbt model: the line of its failing identifier); for a
    failure of the pipeline's own definition (a category whose fix is a patch), the file that
    defines the pipeline. Without a repository, the user's innermost frame, DAG file or SQL/dbt
    file as the output writes it. Else None: an infrastructure or data failure seen only in
    Airflow's code involves no repository location."""
    root = Path(evidence.repo.root) if evidence.repo else None
    frames = evidence.error.frames if evidence.error else []
    texts = [message, evidence.log_excerpt[-20_000:], *(f.code or "" for f in frames)]
    own = evidence.mapped_frames[-1] if evidence.mapped_frames else None
    is_dbt = (
        bool(own and own.path.endswith((".sql", ".yml", ".yaml")))
        or error_type.startswith("dbt")
        or bool(evidence.dbt_nodes)
    )
    if category in _SQL_CATEGORIES and not is_dbt and localize.is_sql_error(error_type, message):
        found = localize.sql_file_culprit(root, message, error_type, texts, own.path if own else None)
        if found is not None:
            return found
    if own is not None:
        line = own.line
        if line is None and root is not None and own.path.endswith(".sql"):
            line = localize.locate_in_sql(root, own.path, message, error_type)
        if line is None and root is not None and is_dbt and own.path.endswith(".sql"):
            line = _dbt_model_line(evidence, root, own.path, message)
        return Culprit(path=own.path, line=line)
    said = message + "\n" + evidence.log_excerpt[-20_000:]  # what the output says, for the loci it names
    shell = localize.shell_locus(said)
    if root is not None:
        script = map_path(shell[0], root) if shell is not None else None
        if script is not None and shell is not None:  # a script of the repository the shell names
            return Culprit(path=script, line=shell[1])
        if DEFAULT_REMEDIATION[category] == Remediation.PATCH:
            pipeline = next((s for s in evidence.code_context if s.focus_line is None), None)
            if pipeline is not None:
                return Culprit(path=pipeline.path, line=None)
        return None
    frame = localize.user_frame(frames) or localize.jvm_user_frame(frames)
    if (
        frame is None
        and evidence.error is not None
        and evidence.error.traceback
        and "Traceback" in evidence.error.traceback
    ):
        # the raising frames are all a library's: the chain's other exceptions show the user's call site
        chain = parse_chain(evidence.error.traceback)
        frame = next((f for f in (localize.user_frame(e.frames) for e in chain) if f is not None), None)
    if frame is not None:
        return Culprit(path=frame.path, line=frame.line)
    if shell is not None:
        return Culprit(path=shell[0], line=shell[1])
    node = localize.dbt_node_file(said)
    if node is not None and PurePosixPath(node).name != "dbt_project.yml":  # the project file is no node's code
        return Culprit(path=node, line=None)
    dag = localize.broken_dag(said)
    if dag is not None:  # a DAG import error without frames: the line CPython names, if any
        where = next(
            (m for m in _FILE_LINE.finditer(message) if PurePosixPath(dag.replace("\\", "/")).name == m.group(1)), None
        )
        return Culprit(path=dag, line=int(where.group(2)) if where else None)
    if DEFAULT_REMEDIATION[category] == Remediation.PATCH and evidence.pipeline_files:
        # the pipeline's own definition fails in the orchestrator's code (a template rendered by
        # Airflow): the file that defines it, as the log names it
        return Culprit(path=evidence.pipeline_files[0], line=None)
    return None


_SCHEMA = (Category.SCHEMA_MISSING_COLUMN, Category.SCHEMA_MISSING_RELATION)


def _remediation(category: Category, replacement: Replacement | None, verdict: Verdict | None = None) -> Remediation:
    if verdict is not None and verdict.remediation is not None:
        return verdict.remediation
    if category in _SCHEMA and replacement is None:
        return Remediation.ESCALATE  # no unique replacement is named: a person decides
    return DEFAULT_REMEDIATION[category]


def _replacement(category: Category, message: str, root: Path | None, culprit: Culprit | None) -> Replacement | None:
    if category not in _SCHEMA:
        return None
    own_model = PurePosixPath(culprit.path).stem if culprit and culprit.path.endswith(".sql") else None
    return find_replacement(message, root, exclude=own_model)


def _evidence_lines(evidence: Evidence, candidate: Candidate | None, culprit: Culprit | None) -> list[str]:
    keys = [
        k
        for k in (
            candidate.type if candidate and candidate.type != "log" else "",
            (candidate.message.splitlines() or [""])[0][:80] if candidate else "",
            f'{PurePosixPath(culprit.path).name}", line {culprit.line}' if culprit and culprit.line else "",
        )
        if k
    ]
    lines = [l.strip() for l in evidence.log_excerpt.splitlines() if l.strip() and any(k in l for k in keys)]
    if not lines and candidate:
        lines = [f"{candidate.type}: {candidate.message}".strip()]
    if not lines:  # nothing decided: the last lines of the log are the evidence a person reads first
        lines = [l.strip() for l in evidence.log_excerpt.splitlines() if l.strip()][-8:]
    unique = list(dict.fromkeys(lines))
    return [l[:500] for l in unique[-8:]]


def _next_step(category: Category, error: ErrorInfo, culprit: Culprit | None) -> str:
    """The taxonomy's next step; for `unknown`, what was seen and where to look first."""
    if category != Category.UNKNOWN:
        return NEXT_STEPS[category]
    seen = (
        f"`{error.type}: {(error.message.splitlines() or [''])[0][:120]}`"
        if error.type != "unknown"
        else "no exception"
    )
    where = f" at {culprit.path}" + (f":{culprit.line}" if culprit.line else "") if culprit else ""
    return (
        f"No catalog names the cause of {seen}{where}. Read the evidence lines and the lines just before them "
        "(the first error printed is often the cause), then classify by hand."
    )


def triage(evidence: Evidence) -> Triage:
    """Classify the failure of `evidence` into one taxonomy category with a remediation kind."""
    root = Path(evidence.repo.root) if evidence.repo else None
    candidates = _candidates(evidence.error, evidence.log_excerpt)
    found, matched = classify(candidates, root)
    from_log = False
    log_lines = _log_candidates(evidence.log_excerpt) if evidence.error is not None else candidates
    if found is None and evidence.error is not None:  # a vague error: the log lines around it may say more
        found, matched = classify(log_lines, root)
        from_log = found is not None
    if found is None:  # a message wrapped over lines, joined again: the strong facts only (codes, messages, text rules)
        wrapped = [Candidate("log", text, []) for text in paragraphs(evidence.log_excerpt)]
        found, matched = classify(wrapped, root, judges=(_strong,))
        from_log = found is not None
    if found is None:  # no catalog fact anywhere: the taxonomy's words, error first, then the log's lines
        found, matched = (
            _words(candidates if evidence.error is not None else []) or _words(log_lines[:15]) or (None, None)
        )
    verdict = found.verdict if found else None
    if verdict is not None and verdict.kind == AF3 and matched is not None and _caller_in_package(matched, candidates):
        verdict = Verdict(
            Category.DEPENDENCY_MISSING,
            verdict.confidence,
            verdict.source,
            "an installed package uses an API Airflow removed: that package's version does not support the installed Airflow",
        )
    if (
        verdict is not None
        and verdict.category == Category.CODE_ERROR
        and verdict.kind != AF3  # a removed Airflow API: decided above by who called it
        and matched is not None
        and matched.type.rsplit(".", 1)[-1] in ("TypeError", "AttributeError")
        and _package_calls_a_missing_api(matched)
    ):
        verdict = Verdict(
            Category.DEPENDENCY_MISSING,
            min(verdict.confidence, 0.7),
            "https://docs.python.org/3/library/exceptions.html (TypeError, AttributeError) raised in an installed package's frame",
            "an installed package calls another package's API in a form the installed version does not have: "
            "their versions do not fit together (pin one)",
            Remediation.PATCH,
        )
    if (
        verdict is not None
        and verdict.category in _SCHEMA
        and matched is not None
        and airflow_meta.metadata_object(matched.message)
    ):
        verdict = airflow_meta.VERDICT  # Airflow's own tables: the metadata database, not the pipeline's schema
    category = verdict.category if verdict else Category.UNKNOWN
    confidence = verdict.confidence if verdict else 0.2
    if from_log:
        confidence = round(confidence - LOG_LINE_PENALTY, 2)
    elif verdict and matched is not None and matched is not candidates[0] and evidence.error is not None:
        confidence = round(confidence - 0.1, 2)  # found on a cause, not the error itself
    error = evidence.error or ErrorInfo(
        type=matched.type if matched else "unknown", message=matched.message if matched else ""
    )
    message = matched.message if matched else error.message
    culprit = _culprit(evidence, category, message, matched.type if matched else error.type)
    where = (
        f" at {culprit.path}:{culprit.line}" if culprit and culprit.line else f" in {culprit.path}" if culprit else ""
    )
    first_line = (error.message.strip().splitlines() or [""])[0]
    summary = f"{error.type}: {first_line}"[:200]
    if evidence.error is None and matched is None:  # nothing raised and nothing recognized: the log's last word
        last = next((l.strip() for l in reversed(evidence.log_excerpt.splitlines()) if l.strip()), "")
        summary = f"no exception in the log; it ends with: {last}"[:200]
    if matched is not None and candidates and matched is not candidates[0] and evidence.error is not None:
        summary += f" (caused by {matched.short_type}: {(matched.message.splitlines() or [''])[0][:120]})"
    summary += where + f" [{category.value}]"
    hinted = (
        f"{message}\n{matched.context}"
        if matched is not None and matched.type == "log" and matched.context
        else message
    )
    replacement = _replacement(category, hinted, root, culprit)  # a log line's hint may follow it (HINT: ...)
    rationale = (
        f"{verdict.why} ({found.fact} of {matched.type}"
        + (" in the exception chain" if matched is not candidates[0] else "")
        + f"; source: {verdict.source})"
        if found and verdict and matched
        else "no catalog entry or rule matched the error or the log excerpt"
    )
    lines = _evidence_lines(evidence, matched, culprit)
    if replacement is not None:  # for a fixer: what to rename, to what
        rationale += f"; replacement {replacement.describe()}"
        lines.append(
            f"replacement: {replacement.missing} -> {replacement.candidate}"
            + (f" ({replacement.path})" if replacement.path else "")
        )
    return Triage(
        category=category,
        remediation=_remediation(category, replacement, verdict),
        fingerprint=fingerprint(category, error.type, error.message, evidence.mapped_frames),
        fingerprint_version=FINGERPRINT_VERSION,
        summary=" ".join(summary.split()),
        error=ErrorSummary(type=error.type, message=error.message[:2000]),
        culprit=culprit,
        confidence=confidence,
        rationale=rationale,
        next_step=_next_step(category, error, culprit),
        decided_by=f"{found.fact} of {matched.type}" if found and matched else "",
        source=verdict.source if verdict else "",
        evidence_lines=lines,
    )
