"""A unique replacement for a missing column, relation or dbt node, or None.

The taxonomy allows a `patch` for a missing name only when the evidence names exactly one
replacement. An engine's hint is not enough by itself: DuckDB suggests the only other table
there (`raw_orders` for a missing `raw_refunds`) and Spark lists every column it has. So every
candidate (the engine's suggestions, and for relations and dbt nodes the repository's dbt
models) must be *close* to the missing name, and exactly one may be. Close means, token by
token, a typo (difflib ratio >= 0.8), an abbreviation or a plural (`cust_id` -> `customer_id`,
`order_dt` -> `order_date`, `stg_order` -> `stg_orders`), or the same tokens with a qualifier
dropped or added (`amount_eur` -> `amount`). Tokens, not whole names: a shared prefix inflates
the ratio of whole names (`order_dt` vs `order_id` is 0.88, yet not a typo).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from patchit_provider.engine.repo import dbt_models

TYPO_RATIO = 0.8
SHARED_TOKENS = 0.6  # share of the longer name's characters the common tokens must cover

_Q = r"[\"'`]?"
_MISSING_COLUMN = [
    rf"Referenced column {_Q}([^\"'`\s]+){_Q} not found",
    rf"does not have a column named {_Q}([^\"'`\s]+){_Q}",
    rf"column {_Q}([^\"'`\s]+){_Q} (?:of relation \S+ )?does not exist",
    r"with name (`[^`]+`(?:\.`[^`]+`)*|\S+) cannot be resolved",
    r"cannot resolve '?`?([\w.]+)`?'? given input columns",
    rf"invalid identifier {_Q}([^\"'`\s]+){_Q}",
    rf"Unknown column {_Q}([^\"'`\s]+){_Q}",
    r"no such column: ([\w.]+)",
    r"Unrecognized name: ([\w.]+)",
]
_MISSING_RELATION = [
    r"depends on a node named '([^']+)'",
    rf"Table with name {_Q}([^\"'`\s!]+){_Q} does not exist",
    rf"(?:Table|View) {_Q}([^\"'`\s!]+){_Q} does not exist",
    r"relation \"([^\"]+)\" does not exist",
    r"The table or view (`[^`]+`(?:\.`[^`]+`)*|\S+) cannot be found",
    r"no such table: ([\w.]+)",
]
_SUGGESTIONS = [
    re.compile(r"Did you mean one of the following\? \[([^\]]*)\]", re.I),
    re.compile(r"Candidate bindings: ([^\n]*)", re.I),
    re.compile(r"given input columns: \[([^\]]*)\]", re.I),
    re.compile(r"Did you mean:? ([\"'`][^\n?]*[\"'`])\??", re.I),
    re.compile(r"Perhaps you meant to reference the (?:column|table) ([\"'`][^\n]*?[\"'`])", re.I),
]
_NAME = re.compile(r"[\"'`]([^\"'`]+)[\"'`]|([\w.$]+)")


@dataclass(frozen=True)
class Replacement:
    missing: str
    candidate: str
    source: str  # "the engine's suggestion" or "the repository's dbt models"
    path: str | None = None  # the repository file of a dbt model candidate

    def describe(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"`{self.missing}` -> `{self.candidate}`{where}: the unique close match among {self.source}"


def _last(name: str) -> str:
    """`spark_catalog`.`default`.`orders` / orders.customer_id -> the last part."""
    return name.replace("`", "").strip("\"' ").rsplit(".", 1)[-1]


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[\W_]+", spaced.lower()) if t]


def _subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    """Every item of `short` appears in `long`, in order (tokens of a name, letters of a token)."""
    it = iter(long)
    return all(any(t == u for u in it) for t in short)


def _typo(x: str, y: str) -> bool:
    return difflib.SequenceMatcher(None, x, y).ratio() >= TYPO_RATIO


def _same_token(x: str, y: str) -> bool:
    """Equal, a typo, or one abbreviates the other: same first letter, its letters in order
    (cust -> customer, dt -> date, order -> orders)."""
    short, long = sorted((x, y), key=len)
    return x == y or _typo(x, y) or (len(short) >= 2 and short[0] == long[0] and _subsequence(short, long))


def is_close(missing: str, candidate: str) -> bool:
    """Token by token a typo, abbreviation or plural; or the same tokens with a qualifier dropped;
    or, when the tokens do not align (`customerid`), a typo of the whole name."""
    ta, tb = _tokens(missing), _tokens(candidate)
    if not ta or not tb:
        return False
    if len(ta) == len(tb):
        return all(_same_token(x, y) for x, y in zip(ta, tb))
    short, long = sorted((ta, tb), key=len)
    if _subsequence(short, long) and sum(map(len, short)) >= SHARED_TOKENS * sum(map(len, long)):
        return True
    return _typo("".join(ta), "".join(tb))


def missing_name(message: str) -> tuple[str, str] | None:
    """(kind, name) of what the message says is missing: kind is "column" or "relation"."""
    for kind, patterns in (("relation", _MISSING_RELATION), ("column", _MISSING_COLUMN)):
        for pattern in patterns:
            match = re.search(pattern, message, re.I)
            if match:
                return kind, _last(match.group(1))
    return None


def engine_suggestions(message: str) -> list[str]:
    """Every name the engine offers instead (hints, candidate bindings, input columns)."""
    names: list[str] = []
    for pattern in _SUGGESTIONS:
        for match in pattern.finditer(message):
            names += [_last(m.group(1) or m.group(2)) for m in _NAME.finditer(match.group(1))]
    return [n for n in dict.fromkeys(names) if n]


def find_replacement(message: str, root: Path | None, exclude: str | None = None) -> Replacement | None:
    """The unique close candidate for the missing name of `message`, or None.

    `exclude` is a name that cannot be its own replacement (the failing dbt model)."""
    found = missing_name(message)
    if found is None:
        return None
    kind, missing = found
    pool: dict[str, tuple[str, str | None]] = {}
    for name in engine_suggestions(message):
        pool.setdefault(name.lower(), (name, None))
    models = dbt_models(root) if root is not None and kind == "relation" else {}
    for name, model_path in models.items():
        pool.setdefault(name.lower(), (name, model_path))
    close = [
        (name, path)
        for key, (name, path) in pool.items()
        if name != missing and key != (exclude or "").lower() and is_close(missing, name)
    ]
    if len(close) != 1:
        return None
    name, path = close[0]
    path = path or models.get(name)
    source = (
        "the repository's dbt models"
        if name in models and name not in engine_suggestions(message)
        else "the engine's suggestions"
    )
    return Replacement(missing=missing, candidate=name, source=source, path=path)
