"""Failure categories and remediation kinds: the public ids of ../shared/taxonomy.md.

The ids are a contract (CLI, REST API, UI, stored incidents all use them verbatim), so they
live in exactly one place. Renaming one is a breaking change; adding one is fine.
"""

from __future__ import annotations

from enum import Enum


class Category(str, Enum):
    SCHEMA_MISSING_COLUMN = "schema.missing_column"
    SCHEMA_MISSING_RELATION = "schema.missing_relation"
    DATA_MALFORMED = "data.malformed"
    DATA_TYPE_MISMATCH = "data.type_mismatch"
    DATA_QUALITY = "data.quality"
    DATA_EMPTY = "data.empty"
    CODE_ERROR = "code.error"
    DEPENDENCY_MISSING = "dependency.missing"
    CONFIG_MISSING = "config.missing"
    CONFIG_TEMPLATE = "config.template"
    INFRA_NETWORK = "infra.network"
    INFRA_AUTH = "infra.auth"
    INFRA_RESOURCE = "infra.resource"
    INFRA_TIMEOUT = "infra.timeout"
    UPSTREAM_FAILED = "upstream.failed"
    UNKNOWN = "unknown"


class Remediation(str, Enum):
    PATCH = "patch"
    RETRY = "retry"
    ESCALATE = "escalate"


DEFAULT_REMEDIATION: dict[Category, Remediation] = {
    Category.SCHEMA_MISSING_COLUMN: Remediation.PATCH,
    Category.SCHEMA_MISSING_RELATION: Remediation.PATCH,
    Category.DATA_MALFORMED: Remediation.ESCALATE,
    Category.DATA_TYPE_MISMATCH: Remediation.ESCALATE,
    Category.DATA_QUALITY: Remediation.ESCALATE,
    Category.DATA_EMPTY: Remediation.ESCALATE,
    Category.CODE_ERROR: Remediation.PATCH,
    Category.DEPENDENCY_MISSING: Remediation.PATCH,
    Category.CONFIG_MISSING: Remediation.ESCALATE,
    Category.CONFIG_TEMPLATE: Remediation.PATCH,
    Category.INFRA_NETWORK: Remediation.RETRY,
    Category.INFRA_AUTH: Remediation.ESCALATE,
    Category.INFRA_RESOURCE: Remediation.ESCALATE,
    Category.INFRA_TIMEOUT: Remediation.RETRY,
    Category.UPSTREAM_FAILED: Remediation.ESCALATE,
    Category.UNKNOWN: Remediation.ESCALATE,
}

# What each category means, in the words of ../shared/taxonomy.md (what a model reading a failure
# the catalogs could not classify is told, llm/reading.py).
MEANING: dict[Category, str] = {
    Category.SCHEMA_MISSING_COLUMN: "a referenced column or record field does not exist (renamed or dropped upstream, or a typo)",
    Category.SCHEMA_MISSING_RELATION: "a table, view, file-backed source or dbt node does not exist",
    Category.DATA_MALFORMED: "input bytes cannot be parsed",
    Category.DATA_TYPE_MISMATCH: "a value cannot be converted to the expected type or format",
    Category.DATA_QUALITY: "a data test or assertion failed on otherwise well-formed data",
    Category.DATA_EMPTY: "the input was empty where data was required",
    Category.CODE_ERROR: "a programming error in the pipeline's own code",
    Category.DEPENDENCY_MISSING: "a third-party package is missing or lacks a name (or its version does not fit)",
    Category.CONFIG_MISSING: "a connection, variable, env var, profile, secret or setting is missing or wrong",
    Category.CONFIG_TEMPLATE: "a Jinja/template rendering error in a DAG or model",
    Category.INFRA_NETWORK: "a network dependency failed transiently (refused or reset connections, DNS, HTTP 5xx or 429)",
    Category.INFRA_AUTH: "authentication or authorization was refused",
    Category.INFRA_RESOURCE: "the process ran out of a resource (memory, disk, quota) or was killed",
    Category.INFRA_TIMEOUT: "the task or a statement exceeded its time limit",
    Category.UPSTREAM_FAILED: "an input that another task or system should have produced is absent",
    Category.UNKNOWN: "none of the above can be shown from the evidence",
}

REMEDIATION_MEANING: dict[Remediation, str] = {
    Remediation.PATCH: "a code or configuration change in the pipeline's repository can fix the cause",
    Remediation.RETRY: "the cause is transient; re-running is the fix, and no code change should be proposed",
    Remediation.ESCALATE: "a person or another team must act (data owner, platform, credentials)",
}

# Categories for which no code patch may ever be proposed without an explicit opt-in policy:
# hiding a data or infrastructure problem behind code that swallows errors is the worst outcome.
NEVER_PATCH_PREFIXES = ("infra.", "data.")
NEVER_PATCH = frozenset({Category.CONFIG_MISSING})


def patch_forbidden(category: Category) -> bool:
    return category in NEVER_PATCH or category.value.startswith(NEVER_PATCH_PREFIXES)
