"""Python's "Did you mean" hint for a live NameError / AttributeError, on every Python version.

Python 3.12+ puts the hint in `traceback.format_exception`; on 3.10 and 3.11 only the
interpreter's own (C) error display computes it, so the formatted traceback PATCHIT captures
would lack the very line that names the fix. This recomputes it the way CPython does: the
candidates are the innermost frame's names (or the object's attributes), the distance is
CPython's case-aware Levenshtein with its cut-offs, and the hint is appended to the last line.
"""

from __future__ import annotations

import sys

MAX_CANDIDATES = 750
MAX_NAME = 40
MOVE_COST = 2
CASE_COST = 1


def _distance(a: str, b: str, limit: int) -> int:
    """Case-aware edit distance (substitution by case only costs 1), > limit when too far."""
    if a == b:
        return 0
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if not a or not b:
        return MOVE_COST * (len(a) + len(b))
    if len(a) > MAX_NAME or len(b) > MAX_NAME:
        return limit + 1
    if len(b) < len(a):
        a, b = b, a
    if (len(b) - len(a)) * MOVE_COST > limit:
        return limit + 1
    row = list(range(MOVE_COST, MOVE_COST * (len(a) + 1), MOVE_COST))
    result = 0
    for bi, bchar in enumerate(b):
        distance = result = bi * MOVE_COST
        lowest = sys.maxsize
        for ai, achar in enumerate(a):
            cost = 0 if achar == bchar else CASE_COST if achar.lower() == bchar.lower() else MOVE_COST
            substitute = distance + cost
            distance = row[ai]
            result = min(min(result, distance) + MOVE_COST, substitute)
            row[ai] = result
            lowest = min(lowest, result)
        if lowest > limit:
            return limit + 1
    return result


def closest(wrong: str, candidates: list[str]) -> str | None:
    if len(candidates) > MAX_CANDIDATES or len(wrong) > MAX_NAME:
        return None
    best, best_distance = None, len(wrong)
    for name in candidates:
        if name == wrong or not isinstance(name, str):
            continue
        limit = min((len(name) + len(wrong) + 3) * MOVE_COST // 6, best_distance - 1)
        dist = _distance(wrong, name, limit)
        if dist <= limit and (best is None or dist < best_distance):
            best, best_distance = name, dist
    return best


def hint(exc: BaseException) -> str | None:
    """ ". Did you mean: 'x'?" (or ". Did you forget to import 'x'?"), or None."""
    name = getattr(exc, "name", None)
    if not isinstance(name, str):
        return None
    try:
        if isinstance(exc, NameError):
            tb = exc.__traceback__
            if tb is None:
                return None
            while tb.tb_next is not None:
                tb = tb.tb_next
            frame = tb.tb_frame
            names = list(frame.f_locals) + list(frame.f_globals) + list(frame.f_builtins)
            found = closest(name, names)
            if found is None and name in getattr(sys, "stdlib_module_names", ()):
                return f". Did you forget to import '{name}'?"
        elif isinstance(exc, AttributeError) and getattr(exc, "obj", None) is not None:
            names = [n for n in dir(exc.obj) if name.startswith("_") or not n.startswith("_")]
            found = closest(name, names)
        else:
            return None
    except Exception:
        return None
    return f". Did you mean: '{found}'?" if found else None


def with_hint(formatted: str, exc: BaseException) -> str:
    """Append the hint to the final line of a formatted traceback, unless Python already did."""
    if sys.version_info >= (3, 12) or "Did you " in formatted[-400:]:
        return formatted
    extra = hint(exc)
    if not extra:
        return formatted
    body = formatted.rstrip("\n")
    return body + extra + formatted[len(body) :]
