"""The last resort before `unknown`: the taxonomy's own vocabulary (../shared/taxonomy.md, "what
it means" and "typical evidence") matched on the words of an error the catalogs do not know
(`AcmeApiTimeoutError: upstream took too long`). Low confidence on purpose: the result says it
is a reading of words, not a catalog fact; the next step still tells a person where to look.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.triage.catalogs.base import Verdict

SOURCE = "taxonomy.md (typical evidence): the error's own words, no catalog entry"
CONFIDENCE = 0.35

# Ordered: the first family whose words appear decides. Connection failures before timeouts
# (a connect timeout is a network failure), schema words before generic "not found".
_WORDS: list[tuple[C, str]] = [
    (
        C.INFRA_RESOURCE,
        r"out of memory|\bOOM\b|memory limit|cannot allocate|no space|disk (?:is )?full|\bkilled\b|evicted",
    ),
    (
        C.INFRA_NETWORK,
        r"connection (?:refused|reset|closed|aborted|error|lost|failed|timed out)|could not connect|unable to connect|"
        r"failed to connect|network|unreachable|name resolution|\bdns\b|socket|rate.?limit|throttl|too many requests|"
        r"service unavailable|bad gateway|temporarily unavailable|try again later",
    ),
    (
        C.INFRA_TIMEOUT,
        r"timed? ?out|timeout|deadline exceeded|took too long|exceeded the (?:maximum )?(?:time|duration)",
    ),
    (
        C.INFRA_AUTH,
        r"permission denied|access denied|forbidden|unauthori[sz]ed|not authori[sz]ed|authenticat|credential|"
        r"invalid (?:api )?(?:token|key)|expired token|token expired|login failed|password|insufficient privilege",
    ),
    (
        C.DEPENDENCY_MISSING,
        r"no module named|not installed|missing (?:optional )?dependenc|version conflict|incompatible version|"
        r"requires? (?:version )?[\w.-]+ ?[<>=]=?",
    ),
    (
        C.CONFIG_MISSING,
        r"not configured|environment variable|\benv var|configuration (?:error|missing|not found)|"
        r"missing (?:setting|configuration|parameter)|is not set\b|no such (?:connection|variable|profile)",
    ),
    (
        C.SCHEMA_MISSING_COLUMN,
        r"column .{0,60}?(?:not found|does not exist|missing|unknown|not in)|unknown column|invalid column|no such column|"
        r"field .{0,40}?(?:not found|does not exist|missing)",
    ),
    (
        C.SCHEMA_MISSING_RELATION,
        r"(?:table|view|relation|dataset|model) .{0,60}?(?:not found|does not exist|doesn't exist|missing)|"
        r"no such table|unknown table",
    ),
    (
        C.UPSTREAM_FAILED,
        r"(?:file|path|directory|key|object|input|partition|blob) .{0,80}?(?:not found|does not exist|doesn't exist|missing)|"
        r"no such file|not found: (?:s3|gs|abfss?|hdfs)://",
    ),
    (
        C.DATA_MALFORMED,
        r"pars(?:e|ing) error|could not parse|unable to parse|failed to parse|decod|malformed|corrupt|invalid (?:json|csv|xml|"
        r"format|file|header|utf)|unexpected (?:end|token|character|eof)|truncated",
    ),
    (
        C.DATA_TYPE_MISMATCH,
        r"(?:cannot|could not|unable to|failed to) (?:convert|cast|coerce)|invalid (?:literal|value|number|date|"
        r"timestamp|type)|type mismatch|wrong type|incompatible type|out of range",
    ),
    (C.DATA_EMPTY, r"\bempty\b|no (?:data|rows|records|files) (?:found|returned|to)|\b0 rows\b|zero rows"),
    (
        C.DATA_QUALITY,
        r"duplicate|constraint|violat|assertion|null value|check failed|validation failed|expectation|data quality",
    ),
    (
        C.CODE_ERROR,
        r"syntax|is not defined|undefined (?:name|variable|function|method)|has no attribute|unexpected keyword|"
        r"positional argument|not callable|not subscriptable|not iterable|circular import|not implemented",
    ),
    (C.CONFIG_TEMPLATE, r"\btemplate\b|jinja|render"),
]
_COMPILED = [(category, re.compile(words, re.I)) for category, words in _WORDS]


# snake_case names and paths are the user's own names, not the engine's words: a function
# `copy_deduplicate` says nothing about duplicates. An upper-case one is an API's error code
# (`RATE_LIMIT`, `QUOTA_EXCEEDED`: Google's ErrorInfo reasons, AWS and Databricks codes are
# written so), whose words are the engine's.
_IDENTIFIER = re.compile(r"(?<![\w./\\-])[\w./\\-]*\w_\w[\w./\\-]*")  # from a token's start: one scan per token
_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _unnamed(match: re.Match[str]) -> str:
    return match.group(0).replace("_", " ") if _CODE.fullmatch(match.group(0)) else " "


def _split_camel(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def read_words(type_name: str, message: str) -> tuple[Verdict, str] | None:
    """(verdict, the words) of the first taxonomy family named by the error's words; the class
    name counts as words (`ApiTimeoutError` -> "Api Timeout Error")."""
    short = type_name.rsplit(".", 1)[-1] if type_name and type_name != "log" else ""
    text = f"{_split_camel(short)}: {_IDENTIFIER.sub(_unnamed, message[:2000])}"
    for category, pattern in _COMPILED:
        match = pattern.search(text)
        if match:
            return Verdict(
                category, CONFIDENCE, SOURCE, f"the error's words ('{match.group(0)}') name {category.value}"
            ), match.group(0)
    return None
