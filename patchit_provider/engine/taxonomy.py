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

# Categories for which no code patch may ever be proposed without an explicit opt-in policy:
# hiding a data or infrastructure problem behind code that swallows errors is the worst outcome.
NEVER_PATCH_PREFIXES = ("infra.", "data.")
NEVER_PATCH = frozenset({Category.CONFIG_MISSING})


def patch_forbidden(category: Category) -> bool:
    return category in NEVER_PATCH or category.value.startswith(NEVER_PATCH_PREFIXES)
