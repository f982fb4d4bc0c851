"""dbt's console formats and error kinds (compilation, runtime, database errors, `Failure in
test`, deps and version requirement errors) and package version incompatibilities reported by pip
and dbt. Each rule cites dbt's docs or dbt-core's source.

FIRST rules are tried before catalogs/messages.py's list (more specific than it), LAST rules after
it (they fill gaps). CLASSES and BASES extend catalogs/exceptions.py's class tables.

dbt prints an exception as its kind ("Compilation Error", "Runtime Error", "Database Error", from
`type()` of dbt_common/exceptions/base.py) over the indented message; the log reader gives the kind
as the type ("dbt Compilation Error") and the message lines, so these rules read the message.
`--log-format json` prints the same message in the event's `msg` (quotes escaped as `\\"`), so
patterns accept an optional backslash before a quote.
"""

from __future__ import annotations

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import TextRule, Verdict
from patchit_provider.engine.triage.catalogs.base import class_family as _classes
from patchit_provider.engine.triage.catalogs.base import text_rule as _r

DBT_CORE = "https://github.com/dbt-labs/dbt-core/blob/v1.10.23/core/dbt"
DBT_COMMON = "https://github.com/dbt-labs/dbt-common/blob/main/dbt_common/exceptions"
DBT_ADAPTERS = "https://github.com/dbt-labs/dbt-adapters/blob/main/dbt-adapters/src/dbt/adapters/exceptions"
PIP = "https://github.com/pypa/pip/blob/main/src/pip/_internal"
DBT_UNIT_TESTS = "https://docs.getdbt.com/docs/build/unit-tests"
JINJA = "installed jinja2/parser.py, lexer.py, runtime.py, compiler.py (Jinja 3.1)"
Q = r"\\?\""  # a double quote, escaped in a JSON log line

FIRST: list[TextRule] = []

LAST: list[TextRule] = [
    # --- a ref()/source() to a node that does not exist (TargetNotFoundError; 0.14's
    #     _get_target_failure_msg / source_disabled_message had "depends on model 'x'") ---------
    _r(
        r"\bdepends on (?:a (?:node|source|model|seed|snapshot|metric|semantic[_ ]model|saved[_ ]query) named |model |source )"
        r"'[^'\n]+' (?:with version '[^'\n]*' )?(?:in package (?:or project )?'[^'\n]+' )?which (?:was not found|is disabled)",
        C.SCHEMA_MISSING_RELATION,
        0.9,
        f"{DBT_CORE}/exceptions.py (TargetNotFoundError); dbt-core v0.14.0 core/dbt/exceptions.py (_get_target_failure_msg)",
        "a dbt model refers to a node or source that does not exist or is disabled",
    ),
    _r(
        r"dbt was unable to infer all dependencies for the model",
        C.CODE_ERROR,
        0.9,
        f"{DBT_CORE}/exceptions.py (RefBadContextError)",
        "a ref() inside a conditional block: the model needs a `-- depends_on:` hint",
        Remediation.PATCH,
    ),
    _r(
        r"Found a cycle: [a-z_]+\.[\w.]+",
        C.CODE_ERROR,
        0.9,
        f"{DBT_CORE}/compilation.py (Linker.find_cycles, since dbt 0.14)",
        "the project's refs form a cycle",
        Remediation.PATCH,
    ),
    _r(
        rf"dbt found two (?:\w+ with the name {Q}|schema\.yml entries for the same|resources with the database representation)",
        C.CODE_ERROR,
        0.85,
        f"{DBT_CORE}/exceptions.py (DuplicateResourceNameError, DuplicateMacroNameError, DuplicatePatchPathError, "
        "AmbiguousAliasError; dbt-core v0.14.0 raise_duplicate_resource_name)",
        "two resources of the project share a name",
        Remediation.PATCH,
    ),
    # --- dbt deps and package requirements (dbt/deps/registry.py, exceptions.py) -----------------
    _r(
        r"Could not find a matching (?:compatible )?version for package",
        C.DEPENDENCY_MISSING,
        0.9,
        f"{DBT_CORE}/exceptions.py (PackageVersionNotFoundError); dbt-core v0.21.1 core/dbt/exceptions.py (package_version_not_found)",
        "no version of a dbt package in packages.yml's range supports the installed dbt",
        Remediation.PATCH,
    ),
    _r(
        rf"The required package {Q}[^\"\\\n]+{Q} was not found\. Is the package installed\?|Node package named \S+ not found!",
        C.DEPENDENCY_MISSING,
        0.9,
        f"{DBT_CORE}/exceptions.py (DependencyNotFoundError, PackageNotInDepsError)",
        "a dbt package the project uses is not installed (dbt deps)",
    ),
    _r(
        r"Error checking out spec='[^'\n]*' for repo",
        C.DEPENDENCY_MISSING,
        0.7,
        f"{DBT_CORE}/exceptions.py (GitCheckoutError, BadSpecError)",
        "a git package's pinned revision cannot be checked out",
        Remediation.PATCH,
    ),
    _r(
        r"The packages\.yml file in this project is malformed|git dependencies should contain exactly one version|"
        r"Found duplicate project \S+\. This occurs when a dependency has the same project name",
        C.CODE_ERROR,
        0.85,
        f"{DBT_CORE}/config/project.py (MALFORMED_PACKAGE_ERROR); {DBT_CORE}/exceptions.py (MultipleVersionGitDepsError, DuplicateProjectDependencyError)",
        "the project's packages.yml is invalid",
        Remediation.PATCH,
    ),
    # --- profiles.yml, targets and the project directory (dbt/config/profile.py, task/base.py) ----
    _r(
        r"The profile '[^'\n]+' does not have a target named|outputs not specified in profile|"
        rf"required field {Q}type{Q} not found in profile|dbt cannot run because no profile was specified|"
        r"dbt encountered an error while trying to read your profiles\.yml|Encountered an error while reading profiles:|"
        r"Profile \S+ in profiles\.yml is empty|The profiles\.yml file at .{1,200}? is empty|"
        r"output '[^'\n]+' of profile '[^'\n]+' is misconfigured|Error encountered in \S*profiles\.yml",
        C.CONFIG_MISSING,
        0.9,
        f"{DBT_CORE}/config/profile.py; {DBT_CORE}/events/types.py (A011 LogDbtProfileError)",
        "the dbt profile or target the run asks for is missing or invalid",
    ),
    _r(
        r"profiles\.yml file \[(?:\x1b\[\d+m)?ERROR invalid",
        C.CONFIG_MISSING,
        0.85,
        f"{DBT_CORE}/task/debug.py (dbt debug's profile check)",
        "dbt debug found the profiles.yml invalid",
    ),
    _r(
        r"Not a dbt project \(or any of the parent directories\)|Invalid --project-dir flag\. Not a dbt project|"
        r"dbt_project\.yml file \[(?:\x1b\[\d+m)?ERROR not found",
        C.CONFIG_MISSING,
        0.85,
        f"{DBT_CORE}/task/base.py (get_nearest_project_dir); {DBT_CORE}/task/debug.py",
        "dbt runs outside the project directory (the deployment's working or --project-dir setting)",
    ),
    _r(
        r"Invalid project config|Error encountered in \S*dbt_project\.yml",
        C.CODE_ERROR,
        0.85,
        f"{DBT_CORE}/contracts/project.py; {DBT_COMMON}/base.py (DbtConfigError: 'Error encountered in <path>')",
        "the project's dbt_project.yml is invalid",
        Remediation.PATCH,
    ),
    # --- snapshots (dbt-adapters SnapshotTargetNotSnapshotTableError, worded "is missing configured
    #     columns" since dbt-adapters 1.x; SnapshotTargetIncompleteError) -----------------------------
    _r(
        rf"Snapshot target is (?:not a snapshot table|missing configured columns) \(missing|Snapshot target has \({Q}[^)]*\) but not \(",
        C.SCHEMA_MISSING_COLUMN,
        0.8,
        f"{DBT_ADAPTERS}/compilation.py; https://docs.getdbt.com/faqs/Snapshots/snapshot-target-is-not-a-snapshot-table",
        "the table at the snapshot's target lacks the snapshot's meta columns (built by another materialization)",
        Remediation.ESCALATE,
    ),
    # --- seeds: agate reads the CSV (agate/table/__init__.py, agate/data_types) ------------------
    _r(
        r"Row \d+ has \d+ values, but Table only has \d+ columns",
        C.DATA_MALFORMED,
        0.85,
        "installed agate/table/__init__.py (Table.__init__)",
        "a seed CSV row has more fields than the header",
    ),
    _r(
        rf"Can not (?:parse|convert) value {Q}?[^\n]{{0,200}}?{Q}? (?:as|to) (?:as )?(?:Decimal|datetime|date|timedelta|bool)\b",
        C.DATA_TYPE_MISMATCH,
        0.85,
        "installed agate/data_types/*.py (CastError)",
        "a seed value does not fit its column type",
    ),
    # --- data tests: store_failures names the failing rows' table (Z027 CheckNodeTestFailure) ----
    _r(
        r"See test failures:",
        C.DATA_QUALITY,
        0.85,
        f"{DBT_CORE}/events/types.py (Z027 CheckNodeTestFailure)",
        "a dbt data test failed (its failing rows were stored)",
    ),
    _r(
        r"\bWarning in (?:test|unit_test) [\w.-]+ \([^)\n]+\)",
        C.DATA_QUALITY,
        0.6,
        f"{DBT_CORE}/events/types.py (Z021 RunResultWarning); https://docs.getdbt.com/reference/resource-configs/severity",
        "a dbt data test returned rows at warn severity (a failure under --warn-error)",
    ),
    # --- Jinja as dbt and Airflow print it without its class --------------------------------------
    _r(
        r"'[^'\n]{1,200}' is undefined\b|'(?:\w+ object|None)' has no (?:attribute|element) '?[^'\n]{1,100}'?",
        C.CONFIG_TEMPLATE,
        0.85,
        f"{JINJA} (Undefined._undefined_message); {DBT_COMMON}/macros.py (UndefinedMacroError)",
        "a template uses a variable, attribute or macro that is not defined",
    ),
    _r(
        r"Encountered unknown tag '\w+'|Unexpected end of template|unexpected end of template, expected|"
        r"expected token '[^'\n]+', got '[^'\n]*'|Jinja was looking for the following tags|tag name expected|"
        r"unexpected char '.' at \d+|No (?:filter|test) named '\w+'|block '\w+' defined twice|"
        r"macro '[\w.]+' takes (?:not more than \d+ argument|no keyword argument)|"
        r"Reached EOF without finding a close tag for|Got a block definition inside control flow|"
        r"Got an unexpected control flow end tag|Got nested tags: ",
        C.CONFIG_TEMPLATE,
        0.85,
        f"{JINJA}; {DBT_COMMON}/jinja.py (dbt's block lexer)",
        "a template does not parse or calls a macro or filter wrongly",
    ),
    # --- package version incompatibilities (pip's resolver and checks, pkg_resources, importlib) --
    _r(
        # the requirement may carry an environment marker (`urllib3<1.26; python_version != "3.4"`)
        r"\b(?:requires|has requirement) \S[^\n]{0,200}?, but you(?:'ll)? have \S+ \S+(?: which is incompatible|\.)",
        C.DEPENDENCY_MISSING,
        0.9,
        f"{PIP}/commands/install.py (_warn_about_conflicts); {PIP}/commands/check.py",
        "an installed package's version does not fit another's requirement (pin a fitting version)",
        Remediation.PATCH,
    ),
    _r(
        # the other resolvers of Python environments (both PubGrub): poetry and uv; pip's depth limit
        r"SolverProblemError|version solving failed|No solution found when resolving(?: \w+)? dependencies|"
        r"error: resolution-too-deep",
        C.DEPENDENCY_MISSING,
        0.85,
        "https://github.com/python-poetry/poetry/blob/main/src/poetry/mixology/failure.py (SolveFailure); "
        "https://github.com/astral-sh/uv crates/uv/src/commands (ResolveError::NoSolution); "
        f"{PIP}/exceptions/__init__.py (ResolutionTooDeepError)",
        "the requirements cannot be satisfied together (loosen or change a pin)",
        Remediation.PATCH,
    ),
    _r(
        r"(?<!\S)\S+ \S+ requires \S+, which is not installed",
        C.DEPENDENCY_MISSING,
        0.85,
        f"{PIP}/commands/install.py (_warn_about_conflicts); {PIP}/commands/check.py",
        "a package's requirement is not installed",
    ),
    _r(
        r"Package '[^'\n]+' requires a different Python: \S+ not in",
        C.DEPENDENCY_MISSING,
        0.85,
        f"{PIP}/resolution/resolvelib/factory.py (_report_requires_python_error)",
        "the pinned package version does not support the image's Python (pin another version)",
        Remediation.PATCH,
    ),
    _r(
        r"The '[^'\n]+' distribution was not found and is required by|No package metadata was found for \S+",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://setuptools.pypa.io/en/latest/pkg_resources.html (DistributionNotFound); "
        "https://docs.python.org/3/library/importlib.metadata.html (PackageNotFoundError)",
        "a distribution the code asks for is not installed",
    ),
    _r(
        r"The package `?apache-airflow-providers-[\w-]+:\s?[\w.]+`? needs Apache Airflow \d[\w.]*\+",
        C.DEPENDENCY_MISSING,
        0.9,
        "https://github.com/apache/airflow/blob/main/dev/breeze/src/airflow_breeze/templates/PROVIDER__INIT__PY_TEMPLATE.py.jinja2",
        "the installed provider needs a newer Airflow (pin a provider version that supports it)",
        Remediation.PATCH,
    ),
]


# Class names of dbt-core 1.10 (core/dbt/exceptions.py), dbt-common and dbt-adapters that
# catalogs/exceptions.py does not list; checked against the installed dbt by the family tests.
CLASSES: dict[str, Verdict | None] = {
    **_classes(
        "UndefinedMacroError UndefinedCompilationError JinjaRenderingError MacroArgTypeError "
        "BlockDefinitionNotAtTopError MissingCloseTagError MissingControlFlowStartTagError NestedTagsError "
        "UnexpectedControlFlowEndTagError UnexpectedMacroEOFError",
        C.CONFIG_TEMPLATE,
        0.85,
        DBT_COMMON + "/jinja.py, macros.py",
        "a dbt template does not render",
    ),
    **_classes(
        "RefBadContextError RefArgsError DocArgsError MetricArgsError NumberSourceArgsError DuplicateMacroNameError "
        "DuplicateYamlKeyError DuplicatePatchPathError DuplicateSourcePatchNameError DuplicateMacroPatchNameError "
        "AmbiguousAliasError AmbiguousResourceNameRefError ConflictingConfigKeysError InlineModelConfigError "
        "TestArgIncludesModelError SameKeyNestedError DictParseError ConfigUpdateError PythonParsingError "
        "PythonLiteralEvalError SnapshopConfigError TestDefinitionDictLengthError TestTypeError TestArgsNotDictError "
        "TestNameNotStringError ProjectContractError ProjectContractBrokenError ConfigContractBrokenError "
        "DbtSelectorsError JSONValidationError DuplicateProjectDependencyError MultipleVersionGitDepsError "
        "MismatchedDependencyTypeError DuplicateDependencyToRootError NonUniquePackageNameError PropertyYMLError "
        "DuplicateVersionedUnversionedError InvalidAccessTypeError InvalidUnitTestGivenInput "
        "OperationsCannotRefEphemeralNodesError MacroDispatchArgError ForeignKeyConstraintToSyntaxError",
        C.CODE_ERROR,
        0.8,
        DBT_CORE + "/exceptions.py",
        "the dbt project's models, YAML or packages.yml are invalid",
    ),
    **_classes(
        "GitCheckoutError BadSpecError VersionsNotCompatibleError",
        C.DEPENDENCY_MISSING,
        0.75,
        DBT_CORE + "/exceptions.py; " + DBT_COMMON + "/base.py",
        "a dbt package version or revision cannot be resolved",
    ),
    **_classes(
        "SnapshotTargetNotSnapshotTableError SnapshotTargetIncompleteError",
        C.SCHEMA_MISSING_COLUMN,
        0.8,
        DBT_ADAPTERS + "/compilation.py",
        "the snapshot's target table lacks the snapshot's meta columns",
    ),
    **_classes(
        "UnrecognizedCredentialTypeError",
        C.CONFIG_MISSING,
        0.8,
        DBT_CORE + "/exceptions.py",
        "the profile's credentials type is not an installed adapter's",
    ),
    **_classes(
        "CastError", C.DATA_TYPE_MISMATCH, 0.8, "installed agate/exceptions.py", "a value does not fit its column type"
    ),
}

# dbt's class tree (installed dbt-core 1.11, dbt-common, dbt-adapters), so a subclass nobody
# listed is placed by its base. Names that shadow built-ins (dbt_common's RecursionError,
# NotImplementedError, ConnectionError) are left out.
_TREE = {
    "DbtRuntimeError": "RuntimeError DbtBaseException",
    "DbtInternalError": "DbtBaseException",
    "CompilationError": "DbtRuntimeError",
    "DbtConfigError": "DbtRuntimeError",
    "DbtValidationError": "DbtRuntimeError",
    "DbtDatabaseError": "DbtRuntimeError",
    "ParsingError": "DbtRuntimeError",
    "DependencyError": "DbtRuntimeError",
    "DbtProjectError": "DbtConfigError",
    "DbtProfileError": "DbtConfigError",
    "DbtSelectorsError": "DbtConfigError",
    "ProjectContractError": "DbtProjectError",
    "ProjectContractBrokenError": "DbtProjectError",
    "ConfigContractBrokenError": "DbtProjectError",
    "ProfileConfigError": "DbtProfileError",
    "VersionsNotCompatibleError": "SemverError",
    "BadSpecError": "DbtInternalError",
    "GitCheckoutError": "BadSpecError",
    "GitCloningError": "DbtInternalError",
    "FailedToConnectError": "DbtDatabaseError",
    "UnexpectedNullError": "DbtDatabaseError",
    "JSONValidationError": "DbtValidationError",
    "AliasError": "DbtValidationError",
}
BASES: dict[str, tuple[str, ...]] = {name: tuple(bases.split()) for name, bases in _TREE.items()}
for _base, _children in {
    "CompilationError": "RefBadContextError RefArgsError DocArgsError MetricArgsError NumberSourceArgsError "
    "DuplicateMacroNameError DuplicateYamlKeyError DuplicatePatchPathError DuplicateSourcePatchNameError "
    "DuplicateMacroPatchNameError AmbiguousAliasError AmbiguousResourceNameRefError ConflictingConfigKeysError "
    "InlineModelConfigError TestArgIncludesModelError SameKeyNestedError OperationsCannotRefEphemeralNodesError "
    "MacroDispatchArgError ForeignKeyConstraintToSyntaxError NonUniquePackageNameError PropertyYMLError "
    "UnrecognizedCredentialTypeError UndefinedMacroError UndefinedCompilationError JinjaRenderingError "
    "MacroArgTypeError BlockDefinitionNotAtTopError MissingCloseTagError MissingControlFlowStartTagError "
    "NestedTagsError UnexpectedControlFlowEndTagError UnexpectedMacroEOFError SnapshotTargetNotSnapshotTableError "
    "SnapshotTargetIncompleteError TargetNotFoundError GraphDependencyNotFoundError RequiredVarNotFoundError "
    "DependencyNotFoundError UninstalledPackagesFoundError PackageNotInDepsError PackageNotFoundForMacroError "
    "MissingRelationError DocTargetNotFoundError ContractError DuplicateResourceNameError",
    "ParsingError": "DictParseError ConfigUpdateError PythonParsingError PythonLiteralEvalError SnapshopConfigError "
    "TestDefinitionDictLengthError TestTypeError TestArgsNotDictError TestNameNotStringError "
    "DuplicateVersionedUnversionedError InvalidAccessTypeError InvalidUnitTestGivenInput EnvVarMissingError "
    "SecretEnvVarLocationError YamlLoadError YamlParseDictError YamlParseListError TestConfigError SchemaConfigError "
    "ModelConfigError DbtReferenceError",
    "DependencyError": "DuplicateProjectDependencyError MultipleVersionGitDepsError MismatchedDependencyTypeError "
    "DuplicateDependencyToRootError PackageVersionNotFoundError",
}.items():
    BASES.update({child: (_base,) for child in _children.split()})
