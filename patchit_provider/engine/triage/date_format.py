"""A date that failed its format only because the format is spelled wrong.

CPython's `_strptime` says `time data '2014-12-25' does not match format '%y-%m-%d'`
(Lib/_strptime.py). When the same value parses under the format with one directive exchanged
for its sibling (`%y`/`%Y`, `%H`/`%I`, `%b`/`%B`/`%m`), the value is a good date and
the format string in the code is what is wrong: a code fix, not a data problem. Only the posted
value and format are parsed (`ast.literal_eval` of their reprs, `strptime`): nothing runs.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime

_MESSAGE = re.compile(
    r"time data (?P<value>'[^'\n]{1,64}'|\"[^\"\n]{1,64}\") does not match format (?P<fmt>'[^'\n]{1,64}')"
)
_SIBLINGS = {
    "%y": ("%Y",),
    "%Y": ("%y",),
    "%H": ("%I",),
    "%I": ("%H",),
    "%b": ("%B", "%m"),
    "%B": ("%b", "%m"),
    "%m": ("%b",),
}


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _spellings(fmt: str) -> list[str]:
    """The format with one directive exchanged for a sibling. Day and month in the other order
    are not a sibling: a feed that changed its order is as likely as a wrong format."""
    found = []
    for match in re.finditer(r"%[A-Za-z]", fmt):
        for sibling in _SIBLINGS.get(match.group(0), ()):
            found.append(fmt[: match.start()] + sibling + fmt[match.end() :])
    return found


def corrected_format(message: str) -> str | None:
    """The format the value does match, when one directive of the posted format is the mistake."""
    match = _MESSAGE.search(message)
    if match is None:
        return None
    try:
        value, fmt = ast.literal_eval(match["value"]), ast.literal_eval(match["fmt"])
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, str) or not isinstance(fmt, str) or not value.strip():
        return None
    return next((other for other in _spellings(fmt) if _parses(value, other)), None)
