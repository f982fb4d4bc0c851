"""What a patch adds to a Python file, read from the file's syntax tree before and after.

Every capability and data-hiding idiom is collected from both trees as a multiset of keys
(enclosing function, resolved dotted name, the call's text); only keys the patch adds count.
So a rename inside an existing `requests.get(...)` or the missing `import subprocess` of a file
that already calls `subprocess.run` adds nothing, while a new `requests.post(url,
json=dict(os.environ))` adds a network call and an environment read. Names are resolved through
the file's imports (`import subprocess as sp; sp.run` is `subprocess.run`).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from patchit_provider.engine.policy import rules
from patchit_provider.engine.policy.critic import swallows
from patchit_provider.engine.policy.files import FileChange
from patchit_provider.engine.policy.rules import Finding
from patchit_provider.engine.policy.sql import looks_like_sql, sql_uses

_NETWORK = (
    "socket",
    "requests",
    "httpx",
    "urllib.request",
    "urllib.urlopen",
    "urllib2",
    "urllib3",
    "http.client",
    "http.server",
    "aiohttp",
    "ftplib",
    "smtplib",
    "poplib",
    "imaplib",
    "nntplib",
    "telnetlib",
    "xmlrpc",
    "paramiko",
    "fabric",
    "websocket",
    "websockets",
    "pycurl",
    "asyncio.open_connection",
    "asyncio.start_server",
    "asyncio.open_unix_connection",
    "ssl.wrap_socket",
    "ssl.create_connection",
    "socketserver",
    "webbrowser",
    "boto3",
    "botocore",
    "httplib2",
    "tornado.httpclient",
    "treq",
    "pysftp",
    "smbclient",
    "dns.resolver",
    "scapy",
    "grpc",
    "zmq",
    "airflow.providers.http",
    "airflow.providers.ssh",
    "airflow.providers.sftp",
)
_SUBPROCESS = (
    "subprocess",
    "os.system",
    "os.popen",
    "os.fork",
    "os.forkpty",
    "os.startfile",
    "os.kill",
    "os.killpg",
    "pty",
    "commands",
    "popen2",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
    "sh",
    "plumbum",
    "pexpect",
    "platform.popen",
    "multiprocessing.Process",
    "airflow.providers.standard.operators.bash",
)
_SUBPROCESS_RE = re.compile(r"^os\.(exec|spawn|posix_spawn)\w*$")
_NATIVE = ("ctypes", "_ctypes", "cffi")
_ENVIRONMENT = (
    "os.environ",
    "os.environb",
    "os.getenv",
    "os.getenvb",
    "os.putenv",
    "os.unsetenv",
    "posix.environ",
    "airflow.models.Variable",
    "airflow.models.variable",
    "airflow.sdk.Variable",
    "airflow.sdk.definitions.variable",
    "airflow.models.Connection",
    "airflow.models.connection",
    "airflow.sdk.Connection",
    "airflow.hooks.base.BaseHook.get_connection",
    "airflow.sdk.BaseHook.get_connection",
    "airflow.secrets",
    "airflow.configuration",
    "keyring",
    "dotenv",
    "getpass.getpass",
    "hvac",
    "google.auth",
    "Variable.get",
    "Variable.set",
    "BaseHook.get_connection",
    "Connection.get_connection_from_secrets",
    "Connection.get",
)
_EVAL = (
    "eval",
    "exec",
    "compile",
    "execfile",
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "code.interact",
    "code.InteractiveConsole",
    "code.InteractiveInterpreter",
    "runpy",
    "__builtins__",
)
_BUILTIN_NAMES = {"eval", "exec", "compile", "execfile", "__import__", "open", "exit", "quit", "getattr"}
_DYNAMIC_IMPORT = (
    "__import__",
    "builtins.__import__",
    "importlib.import_module",
    "importlib.__import__",
    "importlib.reload",
    "importlib.util.spec_from_file_location",
    "importlib.util.module_from_spec",
    "importlib.machinery",
    "imp",
    "zipimport",
    "sys.path.insert",
    "sys.path.append",
    "sys.path.extend",
    "sys.meta_path",
    "sys.modules",
)
_DESERIALIZATION = (
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "_pickle",
    "cPickle",
    "dill.load",
    "dill.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "joblib.load",
    "jsonpickle.decode",
    "yaml.unsafe_load",
    "yaml.full_load",
    "torch.load",
    "pandas.read_pickle",
    "pd.read_pickle",
)
_EXIT = ("sys.exit", "os._exit", "exit", "quit", "builtins.exit", "atexit.register", "os.abort")
_SENSITIVE_MODULES = {
    "os",
    "subprocess",
    "socket",
    "sys",
    "builtins",
    "importlib",
    "pickle",
    "shutil",
    "ctypes",
    "requests",
    "httpx",
}

_WRITE_MODE = re.compile(r"[wax+]")
_PATH_WRITE_METHODS = {
    "write_text",
    "write_bytes",
    "touch",
    "mkdir",
    "unlink",
    "rmdir",
    "rename",
    "replace",
    "symlink_to",
    "hardlink_to",
    "chmod",
}
_FRAME_WRITE_METHODS = {
    "to_csv",
    "to_parquet",
    "to_json",
    "to_excel",
    "to_pickle",
    "to_feather",
    "to_hdf",
    "to_orc",
    "to_xml",
    "to_html",
    "to_stata",
    "savefig",
}
_SPARK_WRITE_METHODS = {"save", "csv", "parquet", "json", "orc", "text"}
_FILE_FUNCS_ARG0 = {
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.removedirs",
    "os.makedirs",
    "os.mkdir",
    "os.mkfifo",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "numpy.save",
    "numpy.savez",
    "numpy.savetxt",
    "np.save",
    "np.savez",
    "np.savetxt",
    "os.open",
}
_FILE_FUNCS_DST = {
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.rename",
    "os.replace",
    "os.symlink",
    "os.link",
    "shutil.copyfileobj",
}
_READ_FUNCS = re.compile(r"(^|\.)read_(csv|parquet|json|excel|table|fwf|xml|html|orc|feather|sas|spss|stata|pickle)$")
_URL = re.compile(r"^(https?|ftps?|s3a?|gs|wasbs?|abfss?|sftp|ssh|tcp|udp)://", re.IGNORECASE)
_SAFE_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr")
_PATH_HELPERS = {
    "pathlib.Path",
    "Path",
    "pathlib.PurePath",
    "PurePath",
    "pathlib.PurePosixPath",
    "PurePosixPath",
    "os.path.join",
    "os.path.abspath",
    "os.path.realpath",
    "os.path.normpath",
    "str",
    "os.fspath",
}
_HIDING_ERRORS = {"coerce", "ignore", "replace", "surrogateescape", "backslashreplace"}
_TRY_FUNCTION = re.compile(
    r"^try_(cast|to_\w+|divide|add|subtract|multiply|mod|element_at|avg|sum|parse_\w+|"
    r"variant_get|aes_decrypt|url_decode|reflect|make_\w+|validate_utf8)$",
    re.IGNORECASE,
)
_SPARK_LENIENT = {"dropmalformed", "permissive"}
_SPARK_CONF = re.compile(r"(?i)spark\.sql\.(ansi\.enabled|files\.ignore(Corrupt|Missing)Files|storeAssignmentPolicy)")


def _matches(dotted: str, table: tuple[str, ...]) -> bool:
    return any(dotted == entry or dotted.startswith(entry + ".") for entry in table)


def _dotted(node: ast.AST) -> list[str] | None:
    """`a.b.c` as ['a', 'b', 'c']; `__import__('os').environ` as ['os', 'environ']."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    if (
        parts
        and isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and ast.unparse(node.func) in ("__import__", "importlib.import_module", "import_module")
    ):
        return [*node.args[0].value.split("."), *parts[::-1]]
    return None


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _aliases(tree: ast.AST) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


@dataclass(frozen=True)
class Use:
    rule: str
    key: str
    what: str
    detail: str = ""


class _Scanner(ast.NodeVisitor):
    """Collects the uses of one tree. `aliases` resolves imported names; `builtins_free` are the
    builtin names the file does not rebind (only those mean the builtin)."""

    def __init__(self, tree: ast.Module, aliases: dict[str, str], bound: set[str], failing: set[str]) -> None:
        self.aliases = aliases
        self.bound = bound
        self.failing = failing
        self.scope: list[str] = []
        self.uses: list[Use] = []
        self.ident = ""
        self.constants = self._constants(tree)
        self.visit(tree)

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _constants(tree: ast.Module) -> dict[str, ast.AST]:
        """Names assigned exactly one value in the file (`TARGET = "/etc/x"`), for path checks."""
        seen: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        seen.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                seen.setdefault(node.target.id, []).append(node.value)
        return {name: values[0] for name, values in seen.items() if len(values) == 1}

    def resolve(self, node: ast.AST) -> str | None:
        parts = _dotted(node)
        if not parts:
            return None
        head = parts[0]
        if head in self.aliases:
            return ".".join([self.aliases[head], *parts[1:]])
        if head in _BUILTIN_NAMES and head in self.bound and len(parts) == 1:
            return f"<local>.{head}"
        return ".".join(parts)

    def add(self, rule: str, node: ast.AST, shown: str, detail: str = "", ident: str | None = None) -> None:
        """One use; its key (rule, scope, what is used, why) leaves out the call's arguments, so
        renaming a typo inside an existing call does not make the call new."""
        scope = ".".join(self.scope) or "<module>"
        ident = ident or self.ident
        self.uses.append(Use(rule, f"{rule}|{scope}|{ident}|{detail}", shown, detail))

    def outside(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """Why `node` (a path expression) points outside the repository, or None."""
        if node is None or depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            text = node.value.decode("utf-8", "replace") if isinstance(node.value, bytes) else node.value
            if text.startswith(_SAFE_DEVICES) or _URL.match(text):
                return None
            if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", text) or ".." in PurePosixPath(text).parts:
                return repr(text)
            return None
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                found = self.outside(value.value if isinstance(value, ast.FormattedValue) else value, depth + 1)
                if found:
                    return found
                break
            return None
        if isinstance(node, ast.Name):
            return self.outside(self.constants.get(node.id), depth + 1)
        if isinstance(node, ast.BinOp):
            return self.outside(node.left, depth + 1) or (
                self.outside(node.right, depth + 1) if isinstance(node.op, ast.Div) else None
            )
        if isinstance(node, ast.Subscript):
            dotted = self.resolve(node.value) or ""
            return "an environment-provided directory" if _matches(dotted, ("os.environ",)) else None
        if isinstance(node, ast.Attribute):
            return self.outside(node.value, depth + 1)
        if isinstance(node, ast.Call):
            dotted = self.resolve(node.func) or ""
            last = dotted.rsplit(".", 1)[-1]
            if last in ("home", "expanduser", "gettempdir", "mkdtemp", "mkstemp", "gettempdirb") or dotted.startswith(
                "tempfile."
            ):
                return f"{dotted}()"
            if _matches(dotted, ("os.getenv", "os.environ")):
                return "an environment-provided directory"
            if dotted in _PATH_HELPERS or last in _PATH_HELPERS:
                for arg in node.args:
                    found = self.outside(arg, depth + 1)
                    if found:
                        return found
                return None
            if isinstance(node.func, ast.Attribute):
                return self.outside(node.func.value, depth + 1)
        return None

    # -- visiting --------------------------------------------------------------------------------
    def _scoped(self, node: ast.AST, name: str) -> None:
        self.scope.append(name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scoped(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self.resolve(node)
        if dotted is None:
            self.generic_visit(node)
            return
        self._name_use(node, dotted)
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Call):  # `__import__("os").system`: the import itself is a use too
            self.visit(base)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._name_use(node, self.resolve(node) or node.id)

    def _name_use(self, node: ast.AST, dotted: str) -> None:
        for rule, table, what in (
            (rules.NETWORK, _NETWORK, "network access"),
            (rules.SUBPROCESS, _SUBPROCESS, "a subprocess"),
            (rules.NATIVE_CODE, _NATIVE, "native code"),
            (rules.ENVIRONMENT, _ENVIRONMENT, "the environment, a variable or a connection"),
            (rules.EVAL_EXEC, _EVAL, "dynamic code execution"),
            (rules.DYNAMIC_IMPORT, _DYNAMIC_IMPORT, "a dynamic import"),
            (rules.DESERIALIZATION, _DESERIALIZATION, "unsafe deserialization"),
        ):
            if _matches(dotted, table):
                self.add(rule, node, dotted, what, ident=dotted)
        if _SUBPROCESS_RE.match(dotted):
            self.add(rules.SUBPROCESS, node, dotted, "a subprocess", ident=dotted)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        return None  # an import alone runs nothing of interest; its uses are what count

    visit_ImportFrom = visit_Import

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self.resolve(node.func) or ""
        call = ast.unparse(node)[:200]
        last = dotted.rsplit(".", 1)[-1] if dotted else (node.func.attr if isinstance(node.func, ast.Attribute) else "")
        self.ident = dotted or last
        self._exit(node, dotted, call)
        self._files(node, dotted, last, call)
        self._hiding(node, dotted, last, call)
        if dotted in ("getattr", "setattr", "builtins.getattr") and node.args:
            target = self.resolve(node.args[0]) or ""
            dynamic = len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)
            if dynamic and target.split(".")[0] in _SENSITIVE_MODULES:
                self.add(rules.DYNAMIC_IMPORT, node, call, f"looks up an attribute of {target} by a computed name")
        if (
            dotted in ("yaml.load",)
            and not any(kw.arg == "Loader" and "Safe" in ast.unparse(kw.value) for kw in node.keywords)
            and not (len(node.args) > 1 and "Safe" in ast.unparse(node.args[1]))
        ):
            self.add(rules.DESERIALIZATION, node, call, "yaml.load without a safe loader")
        if _matches(dotted, ("numpy.load", "np.load")) and any(
            kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
            for kw in node.keywords
        ):
            self.add(rules.DESERIALIZATION, node, call, "numpy.load with allow_pickle")
        self.generic_visit(node)

    def _exit(self, node: ast.Call, dotted: str, call: str) -> None:
        if not _matches(dotted, _EXIT):
            return
        if dotted in ("sys.exit", "exit", "quit", "builtins.exit") and node.args:
            code = node.args[0]
            if isinstance(code, ast.Constant) and code.value not in (0, None, False, ""):
                return  # a failing exit status keeps the failure visible
        self.add(rules.FORCES_EXIT, node, call, "ends the process with a status of its own choosing")

    def _files(self, node: ast.Call, dotted: str, last: str, call: str) -> None:
        def kw(*names: str) -> ast.AST | None:
            return next((k.value for k in node.keywords if k.arg in names), None)

        def arg(index: int, *names: str) -> ast.AST | None:
            return node.args[index] if len(node.args) > index else kw(*names)

        writes: list[ast.AST | None] = []
        reads: list[ast.AST | None] = []
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if dotted in ("open", "io.open", "codecs.open", "builtins.open"):
            mode = arg(1, "mode")
            text_mode = (
                mode.value
                if isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                else ("r" if mode is None else "w")
            )
            (writes if _WRITE_MODE.search(text_mode) else reads).append(arg(0, "file", "filename"))
        elif dotted.startswith("tempfile."):
            self.add(rules.WRITES_OUTSIDE, node, call, "creates a temporary file or folder outside the repository")
            return
        elif dotted in _FILE_FUNCS_ARG0:
            writes.append(arg(0, "path", "file", "fname"))
        elif dotted in _FILE_FUNCS_DST:
            writes += (
                [arg(1, "dst"), arg(0, "src")]
                if dotted in ("os.rename", "os.replace", "shutil.move")
                else [arg(1, "dst")]
            )
        elif receiver is not None and last in _PATH_WRITE_METHODS:
            writes.append(receiver)
        elif receiver is not None and last == "open" and dotted not in ("os.open",):
            mode = arg(0, "mode")
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _WRITE_MODE.search(mode.value):
                writes.append(receiver)
            else:
                reads.append(receiver)
        elif receiver is not None and last in ("read_text", "read_bytes"):
            reads.append(receiver)
        elif last in _FRAME_WRITE_METHODS:
            writes.append(arg(0, "path_or_buf", "path", "excel_writer", "fname"))
        elif receiver is not None and last in _SPARK_WRITE_METHODS and ".write" in ast.unparse(receiver):
            writes.append(arg(0, "path"))
        elif _READ_FUNCS.search(dotted or last) or (
            receiver is not None and last in _SPARK_WRITE_METHODS | {"load"} and ".read" in ast.unparse(receiver)
        ):
            reads.append(arg(0, "filepath_or_buffer", "path", "io", "paths"))
        for target in writes:
            why = self.outside(target)
            if why:
                self.add(rules.WRITES_OUTSIDE, node, call, f"writes to {why}")
        for target in reads:
            if isinstance(target, ast.Constant) and isinstance(target.value, str) and _URL.match(target.value):
                self.add(rules.NETWORK, node, call, f"reads {target.value!r} over the network")
                continue
            why = self.outside(target)
            if why:
                self.add(rules.READS_OUTSIDE, node, call, f"reads {why}")

    def _hiding(self, node: ast.Call, dotted: str, last: str, call: str) -> None:
        for keyword in node.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            text = value.lower() if isinstance(value, str) else value
            if keyword.arg in ("errors", "encoding_errors") and text in _HIDING_ERRORS:
                self.add(
                    rules.HIDES_BAD_DATA,
                    node,
                    call,
                    f'`{keyword.arg}="{value!s}"` turns bad values into missing or dropped ones',
                )
            elif keyword.arg == "on_bad_lines" and text != "error":
                self.add(rules.HIDES_BAD_DATA, node, call, "`on_bad_lines` skips malformed rows instead of failing")
            elif keyword.arg in ("error_bad_lines", "warn_bad_lines") and value is False:
                self.add(rules.HIDES_BAD_DATA, node, call, f"`{keyword.arg}=False` skips malformed rows")
            elif keyword.arg == "mode" and isinstance(text, str) and text in _SPARK_LENIENT:
                self.add(
                    rules.HIDES_BAD_DATA, node, call, f"Spark read mode {value!s} drops or nulls malformed records"
                )
            elif keyword.arg in ("ignoreCorruptFiles", "ignoreMissingFiles") and str(value).lower() == "true":
                self.add(rules.HIDES_BAD_DATA, node, call, f"`{keyword.arg}` skips unreadable input")
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, (str, bool))]
        if last in ("option", "set", "config") and len(args) >= 2 and isinstance(args[0], str):
            key, value = args[0], str(args[1]).lower()
            if (
                (key.lower() == "mode" and value in _SPARK_LENIENT)
                or (key.lower() in ("ignorecorruptfiles", "ignoremissingfiles") and value == "true")
                or (_SPARK_CONF.search(key) and value in ("false", "true", "legacy"))
            ):
                self.add(
                    rules.HIDES_BAD_DATA, node, call, f"Spark option {key}={args[1]} hides malformed or invalid input"
                )
        if last in ("expr", "selectExpr", "where", "filter", "query"):  # SQL expressions given as text
            for text in (a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)):
                for key, what in sql_uses(f"select {text} from t", self.failing):
                    self.add(rules.HIDES_BAD_DATA, node, call, f"SQL {what}", ident=key)
        if _TRY_FUNCTION.match(last or ""):
            self.add(rules.HIDES_BAD_DATA, node, call, f"`{last}` returns NULL instead of failing on bad values")
        if last in ("dropna", "fillna", "drop_nulls", "fill_null") or (last in ("drop", "fill") and ".na" in call):
            named = {s for s in re.findall(r"['\"]([^'\"]+)['\"]", call)}
            targeted = (
                bool(named) or isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Subscript)
            )
            if not self.failing or not targeted or named & self.failing or any(f in call for f in self.failing):
                self.add(rules.HIDES_BAD_DATA, node, call, f"`{last}` removes or fills the values that fail")
        if (
            last == "get"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
            and (not self.failing or node.args[0].value in self.failing)
        ):
            self.add(rules.HIDES_BAD_DATA, node, call, "a default for a missing key hides its absence")
        if (
            dotted in ("getattr", "builtins.getattr")
            and len(node.args) >= 3
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in self.failing
        ):
            self.add(
                rules.HIDES_BAD_DATA,
                node,
                call,
                f"a default for the failing attribute {node.args[1].value!r} hides its absence",
            )
        if (
            _matches(dotted, ("warnings.filterwarnings", "warnings.simplefilter", "numpy.seterr", "np.seterr"))
            and "ignore" in call
        ):
            self.add(rules.HIDES_BAD_DATA, node, call, "silences warnings about bad values")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and looks_like_sql(node.value):
            for key, what in sql_uses(node.value, self.failing):
                self.add(rules.HIDES_BAD_DATA, node, key, f"SQL {what}", ident=key)


@dataclass
class _Exits:
    """Return/continue/break statements per function, and each function's last statement."""

    keys: Counter[str]
    count: Counter[str]
    last: dict[str, ast.stmt]
    nodes: list[tuple[str, str, ast.stmt]]


def _exits(tree: ast.Module) -> _Exits:
    keys: Counter[str] = Counter()
    count: Counter[str] = Counter()
    last: dict[str, ast.stmt] = {}
    nodes: list[tuple[str, str, ast.stmt]] = []

    def walk(node: ast.AST, scope: str, in_loop: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{scope}.{child.name}" if scope else child.name
                last[name] = child.body[-1]
                walk(child, name, False)
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{scope}.{child.name}" if scope else child.name, False)
            elif isinstance(child, (ast.Lambda,)):
                continue
            else:
                exits = isinstance(child, ast.Return) or (in_loop and isinstance(child, (ast.Continue, ast.Break)))
                if exits and scope and isinstance(child, ast.stmt):
                    key = f"{scope}|{ast.unparse(child)}"
                    keys[key] += 1
                    count[scope] += 1
                    nodes.append((scope, key, child))
                walk(child, scope, in_loop or isinstance(child, (ast.For, ast.AsyncFor, ast.While)))

    walk(tree, "", False)
    return _Exits(keys, count, last, nodes)


def _new_handlers(before: ast.Module | None, after: ast.Module) -> list[ast.ExceptHandler]:
    seen = (
        Counter(ast.unparse(h) for h in ast.walk(before) if isinstance(h, ast.ExceptHandler)) if before else Counter()
    )
    new = []
    for handler in (h for h in ast.walk(after) if isinstance(h, ast.ExceptHandler)):
        text = ast.unparse(handler)
        if seen[text]:
            seen[text] -= 1
        else:
            new.append(handler)
    return new


def _top_level_calls(tree: ast.Module) -> int:
    """Calls a script makes when run: module-level statements and `if __name__ == "__main__"`."""
    total = 0
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        total += sum(isinstance(node, ast.Call) for node in ast.walk(stmt))
    return total


_FALLBACK = [
    (
        re.compile(r"\b(socket|requests|httpx|urllib\.request|urllib3|aiohttp|ftplib|smtplib|http\.client)\b"),
        rules.NETWORK,
    ),
    (re.compile(r"\b(subprocess|os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|pty)\b"), rules.SUBPROCESS),
    (re.compile(r"\b(os\.environ|os\.getenv|Variable\.get|get_connection)\b"), rules.ENVIRONMENT),
    (re.compile(r"\b(eval|exec|compile)\s*\("), rules.EVAL_EXEC),
    (re.compile(r"\b(__import__|import_module)\b"), rules.DYNAMIC_IMPORT),
    (re.compile(r"\b(pickle|marshal|dill)\.loads?\b"), rules.DESERIALIZATION),
    (
        re.compile(r"\berrors\s*=\s*['\"](coerce|ignore)|\bon_bad_lines\b|\btry_cast\b", re.IGNORECASE),
        rules.HIDES_BAD_DATA,
    ),
    (re.compile(r"\b(sys\.exit|os\._exit)\b"), rules.FORCES_EXIT),
]


def _fallback(change: FileChange) -> list[Finding]:
    """The file does not parse after the patch: judge its added lines by pattern."""
    before = change.before or ""
    found = []
    for pattern, rule in _FALLBACK:
        added = [line.strip() for line in change.added if pattern.search(line)]
        if (
            added
            and len(pattern.findall("\n".join(change.added))) > len(pattern.findall("\n".join(change.removed)))
            and not all(line in before for line in added)
        ):
            found.append(
                Finding(
                    rule,
                    f"{change.path}: adds `{added[0][:120]}` (the patched file does not parse; judged by its lines)",
                )
            )
    return found


def python_findings(change: FileChange, failing: set[str], check_entry: bool = False) -> list[Finding]:
    """Rules broken by what the patch adds to one Python file (by its lines when the tree is
    too deep to walk: a pathological answer must not crash the policy)."""
    try:
        return _tree_findings(change, failing, check_entry)
    except RecursionError:
        return _fallback(change)


def _tree_findings(change: FileChange, failing: set[str], check_entry: bool) -> list[Finding]:
    if change.after is None:
        return _fallback(change)
    try:
        after = ast.parse(change.after)
    except (SyntaxError, ValueError, MemoryError):
        return _fallback(change)
    try:
        before: ast.Module | None = ast.parse(change.before or "")
    except (SyntaxError, ValueError):
        before = None
    # Names the failure quotes count only where the file quotes them too (`"quantity"`); else any
    # column may be the failing one.
    failing = {name for name in failing if f'"{name}"' in (change.before or "") or f"'{name}'" in (change.before or "")}
    after_aliases = _aliases(after)
    before_bound = _bound_names(before) if before else set()
    before_aliases = _aliases(before) if before else {}
    # A name the old file used without binding it (the missing import) means what the new file imports.
    before_aliases.update({k: v for k, v in after_aliases.items() if k not in before_bound})
    old = (
        Counter(use.key for use in _Scanner(before, before_aliases, before_bound, failing).uses)
        if before
        else Counter()
    )
    found: list[Finding] = []
    for use in _Scanner(after, after_aliases, _bound_names(after), failing).uses:
        if old[use.key]:
            old[use.key] -= 1
            continue
        found.append(
            Finding(use.rule, f"{change.path}: adds `{use.what}`" + (f" ({use.detail})" if use.detail else ""))
        )
    found += _handler_findings(change.path, before, after)
    found += _early_exits(change.path, before, after)
    if check_entry and before is not None and _top_level_calls(after) < _top_level_calls(before):
        found.append(
            Finding(
                rules.WEAKENS_CHECK,
                f"{change.path}: the check command runs this script, and the patch removes a call it makes",
            )
        )
    return _unique(found)


def _handler_findings(path: str, before: ast.Module | None, after: ast.Module) -> list[Finding]:
    """New narrow handlers that substitute a value instead of re-raising (broad or swallowing
    handlers are the line critic's)."""
    found = []
    for handler in _new_handlers(before, after):
        if any(isinstance(node, ast.Raise) for node in ast.walk(handler)):
            continue
        if handler.type is None:  # a bare except: broad
            continue
        broad = re.search(r"\b(Base)?Exception\b", ast.unparse(handler.type))
        if broad or all(swallows(stmt) for stmt in handler.body):
            continue
        clause = ast.unparse(handler.type)
        found.append(
            Finding(
                rules.SWALLOWS_ERROR,
                f"{path}: the new `except {clause}:` handler replaces the failure with a substitute result",
            )
        )
    return found


def _early_exits(path: str, before: ast.Module | None, after: ast.Module) -> list[Finding]:
    """A function that gains a return/continue/break that is not its last statement."""
    old = _exits(before) if before else _Exits(Counter(), Counter(), {}, [])
    new = _exits(after)
    found = []
    flagged: set[str] = set()
    for scope, key, node in new.nodes:
        if new.count[scope] <= old.count[scope] or new.keys[key] <= old.keys[key] or key in flagged:
            continue
        if new.last.get(scope) is node:
            continue
        flagged.add(key)
        kind = type(node).__name__.lower()
        found.append(
            Finding(
                rules.EARLY_RETURN,
                f"{path}: adds an early `{kind}` in {scope}() (`{ast.unparse(node)[:80]}`): the failing path is skipped, not fixed",
            )
        )
    return found


def _unique(found: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for finding in found:
        if (finding.rule, finding.message) not in seen:
            seen.add((finding.rule, finding.message))
            out.append(finding)
    return out
