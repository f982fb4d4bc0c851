"""Data-quality frameworks' outcomes and errors -> category: Great Expectations, pandera, Soda Core.

A failed check on data is `data.quality`, a column the check expects and the data lacks is
`schema.missing_column`, a value of the wrong type is `data.type_mismatch`, a broken check or
batch definition is `code.error`, a project object or setting that is not defined is
`config.missing`. Sources:
- Great Expectations' exception classes (great_expectations/exceptions/exceptions.py), its metric
  text 'The column "x" in BatchData does not exist.' (expectations/metrics/util.py), and the
  Airflow provider's failure (0.x `AirflowException("Validation with Great Expectations failed.")`
  in operators/great_expectations.py, 1.x `GXValidationFailed` in common/errors.py);
- pandera's `SchemaErrorReason` codes (pandera/errors.py), printed by a lazy `SchemaErrors` (JSON
  keyed by the code, or "Error Counts" lines), and the messages of a single `SchemaError` that the
  pandas backend raises for each code (pandera/backends/pandas/*.py);
- Soda Core's scan summary (soda/core/soda/scan.py: "Oops! N failures. N warnings. N errors. N
  pass.", failures before errors unless errors > 0), `Scan.assert_no_checks_fail`'s text, and
  Soda Core 4's exceptions (soda_core/common/exceptions.py). Soda's docs
  (https://docs.soda.io/soda-core/scan-reference.html) read a failed check as data outside the
  check's thresholds and an error as a check that could not be evaluated (its syntax).
dbt-expectations' tests fail as dbt tests and stay with the dbt catalog.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict

GX = (
    "https://github.com/great-expectations/great_expectations/blob/develop/great_expectations/exceptions/exceptions.py; "
    "https://github.com/great-expectations/great_expectations/blob/develop/great_expectations/expectations/metrics/util.py"
)
GX_AIRFLOW = (
    "https://github.com/great-expectations/airflow-provider-great-expectations/blob/main/"
    "great_expectations_provider/common/errors.py (GXValidationFailed; 0.x operators/great_expectations.py)"
)
PANDERA = (
    "https://github.com/unionai-oss/pandera/blob/main/pandera/errors.py (SchemaErrorReason); "
    "https://github.com/unionai-oss/pandera/tree/main/pandera/backends"
)
SODA = (
    "https://github.com/sodadata/soda-core/blob/v3.0.0/soda/core/soda/scan.py; "
    "https://docs.soda.io/soda-core/scan-reference.html; "
    "https://github.com/sodadata/soda-core/blob/main/soda-core/src/soda_core/common/exceptions.py"
)
SOURCE = f"{GX}; {GX_AIRFLOW}; {PANDERA}; {SODA}"


def _v(category: C, source: str, why: str, remediation: Remediation | None = None, confidence: float = 0.85) -> Verdict:
    return Verdict(category, confidence, source, why, remediation)


def _each(names: str, verdict: Verdict) -> dict[str, Verdict]:
    return dict.fromkeys(names.split(), verdict)


# pandera's SchemaErrorReason names; its pandas backend raises each one for the reason given
PANDERA_REASONS: dict[str, Verdict] = {
    # a column the schema requires is absent (add_missing_columns cannot add one without a default)
    **_each(
        "COLUMN_NOT_IN_DATAFRAME ADD_MISSING_COLUMN_NO_DEFAULT",
        _v(
            C.SCHEMA_MISSING_COLUMN, PANDERA, "pandera: a column the schema requires is not in the dataframe", None, 0.9
        ),
    ),
    # the values' dtype differs from the schema's, or coercion to it failed
    **_each(
        "WRONG_DATATYPE DATATYPE_COERCION INVALID_TYPE",
        _v(C.DATA_TYPE_MISMATCH, PANDERA, "pandera: a column's values are not of the schema's dtype"),
    ),
    # a check on the values failed: the data, not the code, breaks the contract
    **_each(
        "SCHEMA_COMPONENT_CHECK DATAFRAME_CHECK SERIES_CONTAINS_NULLS SERIES_CONTAINS_DUPLICATES DUPLICATES",
        _v(C.DATA_QUALITY, PANDERA, "pandera: a check on the data's values failed (range, nulls, uniqueness)"),
    ),
    # the data's columns differ from a strict or ordered schema: the upstream contract changed
    **_each(
        "COLUMN_NOT_IN_SCHEMA COLUMN_NOT_ORDERED DUPLICATE_COLUMN_LABELS",
        _v(C.DATA_QUALITY, PANDERA, "pandera: the dataframe's columns break a strict or ordered schema", None, 0.75),
    ),
    # the check function itself raised: the check is broken, not the data
    "CHECK_ERROR": _v(C.CODE_ERROR, PANDERA, "pandera CHECK_ERROR: a check function raised an exception", None, 0.75),
}
# the reasons' values (`SchemaErrorReason.X.value`), which pandera < 0.19 printed under "Error Counts"
_REASON_VALUES = {
    "column_not_in_dataframe": "COLUMN_NOT_IN_DATAFRAME",
    "add_missing_column_no_default": "ADD_MISSING_COLUMN_NO_DEFAULT",
    "wrong_dtype": "WRONG_DATATYPE",
    "dtype_coercion_error": "DATATYPE_COERCION",
    "invalid_type": "INVALID_TYPE",
    "schema_component_check": "SCHEMA_COMPONENT_CHECK",
    "dataframe_check": "DATAFRAME_CHECK",
    "series_contains_nulls": "SERIES_CONTAINS_NULLS",
    "series_contains_duplicates": "SERIES_CONTAINS_DUPLICATES",
    "duplicates": "DUPLICATES",
    "column_not_in_schema": "COLUMN_NOT_IN_SCHEMA",
    "column_not_ordered": "COLUMN_NOT_ORDERED",
    "duplicate_dataframe_column_labels": "DUPLICATE_COLUMN_LABELS",
    "check_error": "CHECK_ERROR",
}
# a single SchemaError carries no code: its message, as the pandas (series) or polars/pyspark
# (column) backend words it, names one
_PANDERA_TEXTS = [
    (r"column '[^']*' not in dataframe", "COLUMN_NOT_IN_DATAFRAME"),
    (r"column '[^']*' not in (?:DataFrameSchema|DataFrameModel|\w*Schema\b)", "COLUMN_NOT_IN_SCHEMA"),
    (r"column '[^']*' out-of-order", "COLUMN_NOT_ORDERED"),
    (r"expected (?:series|column) '[^']*' to have type", "WRONG_DATATYPE"),
    (r"Error while coercing '[^']*' to type", "DATATYPE_COERCION"),
    (r"non-nullable (?:series|column) (?:'[^']*' )?contains null", "SERIES_CONTAINS_NULLS"),
    (r"series '[^']*' contains duplicate values", "SERIES_CONTAINS_DUPLICATES"),
    (r"columns '[^']*' not unique", "DUPLICATES"),
    (
        r"failed (?:element-wise validator (?:number )?\d+|validator number \d+|series or dataframe validator \d+)",
        "SCHEMA_COMPONENT_CHECK",
    ),
    (r"Error while executing check function", "CHECK_ERROR"),
]
_PANDERA_TEXT = [(re.compile(pattern), name) for pattern, name in _PANDERA_TEXTS]

_GX_CONFIG = _v(C.CONFIG_MISSING, GX, "Great Expectations: a project object or setting is not defined or invalid")
_GX_CODE = _v(C.CODE_ERROR, GX, "Great Expectations: an expectation, checkpoint or batch definition is invalid")
GX_CLASSES: dict[str, Verdict] = {
    # a named checkpoint, suite, data source, asset or config variable the code asks for is not defined
    **_each(
        "CheckpointNotFoundError ValidationDefinitionNotFoundError ExpectationSuiteNotFoundError "
        "BatchDefinitionNotFoundError DatasourceNotFoundError DataAssetNotFoundError ConfigNotFoundError "
        "MissingConfigVariableError MissingDataContextError GXCloudConfigurationError InvalidConfigError "
        "InvalidDataContextConfigError InvalidConfigurationYamlError InvalidTopLevelConfigKeyError "
        "MissingTopLevelConfigKeyError InvalidBaseYamlConfigError UnsupportedConfigVersionError "
        "StoreConfigurationError DatasourceConfigurationError InvalidConfigValueTypeError "
        "DatasourceKeyPairAuthBadPassphraseError",
        _GX_CONFIG,
    ),
    # the check or batch definition in the pipeline's code is wrong
    **_each(
        "InvalidExpectationConfigurationError InvalidExpectationKwargsError ExpectationNotFoundError CheckpointError "
        "CheckpointRunWithoutValidationDefinitionError InvalidBatchRequestError BuildBatchRequestError "
        "InvalidBatchSpecError InvalidBatchIdError InvalidBatchKwargsError SuiteParameterError EvaluationParameterError "
        "PluginClassNotFoundError ClassInstantiationError GreatExpectationsTypeError",
        _GX_CODE,
    ),
    # raised for a column the batch lacks ('The column "x" in BatchData does not exist.')
    "InvalidMetricAccessorDomainKwargsKeyError": _v(
        C.SCHEMA_MISSING_COLUMN, GX, "Great Expectations: a column the expectation names is not in the batch", None, 0.8
    ),
    # the asset has no batch for the requested parameters: the expected file or partition is absent
    "NoAvailableBatchesError": _v(
        C.UPSTREAM_FAILED, GX, "Great Expectations: no batch of the asset matches the requested parameters", None, 0.7
    ),
    "StoreBackendTransientError": _v(C.INFRA_NETWORK, GX, "Great Expectations: a store backend failed transiently"),
}

_SODA_CONFIG = _v(C.CONFIG_MISSING, SODA, "Soda: a data source, dataset, contract or Soda Cloud setting is missing")
_SODA_CODE = _v(C.CODE_ERROR, SODA, "Soda: the contract or checks file does not parse or is invalid")
SODA_CLASSES: dict[str, Verdict] = {
    **_each(
        "InvalidSodaCloudConfigurationException InvalidDataSourceConfigurationException ContractNotFoundException "
        "DataSourceNotFoundException DatasetNotFoundException",
        _SODA_CONFIG,
    ),
    **_each(
        "InvalidContractException ContractParserException YamlParserException InvalidRegexException "
        "InvalidDatasetQualifiedNameException CheckSelectorParseException InvalidArgumentException",
        _SODA_CODE,
    ),
    "SodaCloudAuthenticationFailedException": _v(C.INFRA_AUTH, SODA, "Soda: authentication to Soda Cloud failed"),
    "DataSourceConnectionException": _v(
        C.INFRA_NETWORK, SODA, "Soda: the data source could not be reached", confidence=0.7
    ),
    "ExtensionException": _v(C.DEPENDENCY_MISSING, SODA, "Soda: a Soda extension package is not installed", None, 0.75),
}

# outcomes that a framework prints for a whole run (no class or code of their own)
OUTCOMES: dict[str, Verdict] = {
    "GXValidationFailed": _v(
        C.DATA_QUALITY, GX_AIRFLOW, "Great Expectations: expectations failed on the data", None, 0.9
    ),
    "Soda check failures": _v(
        C.DATA_QUALITY, SODA, "Soda: checks failed on the data (values outside their thresholds)"
    ),
    # Soda's docs: an error is a check that could not be evaluated (its syntax); the error lines
    # Soda prints after the summary are read first and name the cause when a catalog knows it
    "Soda check errors": _v(C.CODE_ERROR, SODA, "Soda: checks could not be evaluated", None, 0.5),
}

CODES: dict[str, Verdict] = {**PANDERA_REASONS, **GX_CLASSES, **SODA_CLASSES, **OUTCOMES}

_CLASS = re.compile(r"\b([A-Z][A-Za-z]+(?:Error|Exception|Failed))\b")
_PANDERA = re.compile(r"pandera|SchemaErrorReason\.|^(?:[\w.]*\.)?SchemaErrors?:")
_PANDERA_CODE = re.compile(r"SchemaErrorReason\.([A-Z_]+)|\"([A-Z_]+)\": \[|^- ([a-z_]+): \d+$", re.M)
_GX = re.compile(r"great_expectations|gx_exceptions|\bGX[A-Z]\w+|Great Expectations")
_GX_COLUMN = re.compile(r"""The column ["'][^"']*["'] in BatchData does not exist""")
_GX_FAILED = re.compile(r"Validation with Great Expectations failed|Great Expectations data validation failed")
_SODA = re.compile(r"\bsoda(?:_core|_sql)?\.|\bSoda\b")
_SODA_SUMMARY = re.compile(
    r"Oops! (?:(?P<e1>\d+) errors?\. (?P<f1>\d+) failures?\. \d+ warnings?\."
    r"|(?P<f2>\d+) failures?\. \d+ warnings?\. (?P<e2>\d+) errors?\.) \d+ pass"
)
# Scan.assert_no_checks_fail / assert_no_checks_warn_or_fail: "Check results failed: \n[<check line>] fail ..."
_SODA_ASSERT = re.compile(r"Check results (?:failed|having warn or fail outcome):\s*\[[^\]\n]+\] (?:fail|warn)", re.I)


def _pandera(type_name: str, text: str) -> tuple[str, Verdict] | None:
    """A lazy SchemaErrors' codes (a missing column first: it explains the checks after it), else
    the reason a single SchemaError's message words."""
    codes = set()
    for match in _PANDERA_CODE.finditer(text):
        name = match[1] or match[2] or _REASON_VALUES.get(match[3] or "", "")
        if name in PANDERA_REASONS:
            codes.add(name)
    if codes:
        name = next(name for name in PANDERA_REASONS if name in codes)
        return name, PANDERA_REASONS[name]
    worded = [(m.start(), name) for regex, name in _PANDERA_TEXT if (m := regex.search(text))]
    if worded:
        name = min(worded)[1]
        return name, PANDERA_REASONS[name]
    short = type_name.rsplit(".", 1)[-1]
    if short in ("SchemaDefinitionError", "SchemaInitError", "BackendNotFoundError") and "pandera" in type_name:
        return short, _v(C.CODE_ERROR, PANDERA, f"pandera {short}: the schema's definition is invalid")
    return None


def _classes(type_name: str, message: str, table: dict[str, Verdict]) -> tuple[str, Verdict] | None:
    """The raised class first, then a class the message names."""
    for name in [type_name.rsplit(".", 1)[-1].strip(), *_CLASS.findall(message)]:
        if name in table:
            return name, table[name]
    return None


def _soda(text: str) -> tuple[str, Verdict] | None:
    summary = _SODA_SUMMARY.search(text)
    if summary:
        errors = int(summary["e1"] or summary["e2"])
        failures = int(summary["f1"] or summary["f2"])
        if errors:  # Soda's exit code 3 ranks errors before failures
            return "Soda check errors", OUTCOMES["Soda check errors"]
        if failures:
            return "Soda check failures", OUTCOMES["Soda check failures"]
    if _SODA_ASSERT.search(text):
        return "Soda check failures", OUTCOMES["Soda check failures"]
    return None


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The framework's outcome or error name, in an error or line that is that framework's."""
    text = f"{type_name}: {message[:6000]}" if type_name and type_name != "log" else message[:6000]
    found = _soda(text)
    if found:
        return found
    if _PANDERA.search(text) and not type_name.startswith("polars"):
        found = _pandera(type_name, text)
        if found:
            return found
    if _GX_COLUMN.search(text):
        return "InvalidMetricAccessorDomainKwargsKeyError", GX_CLASSES["InvalidMetricAccessorDomainKwargsKeyError"]
    if _GX.search(text):
        found = _classes(type_name, message[:6000], GX_CLASSES)
        if found:
            return found
        if "GXValidationFailed" in text or _GX_FAILED.search(text):
            return "GXValidationFailed", OUTCOMES["GXValidationFailed"]
    if _SODA.search(text):
        return _classes(type_name, message[:6000], SODA_CLASSES)
    return None
