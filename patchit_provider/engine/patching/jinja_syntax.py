"""Jinja's own TemplateSyntaxError hints (dbt models, SQL templates) turned into the edit they name.

Like CPython, Jinja's parser says what it expected: "unexpected '}'" inside `{{ ... }` (the
print statement is closed with `}}`), "unexpected '}', expected ')'" (a call left open before
the `}}`), and "Encountered unknown tag 'endfi'. Jinja was looking for the following tags:
... 'endif'" (a misspelt end tag). The culprit template is re-parsed here (parse only, nothing is
rendered); the error must be the one the log reports, the candidate edits are made on the line
Jinja gives, and only a unique candidate after which the template parses is kept.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import jinja2

from patchit_provider.engine.models import Evidence, Triage
from patchit_provider.engine.patching.common import Fix, hunk_edits, read_text
from patchit_provider.engine.taxonomy import Category

SUFFIXES = (".sql", ".j2", ".jinja", ".jinja2", ".sh", ".hql")
MAX_FILE_CHARS = 200_000
_LOOKING_FOR = re.compile(
    r"^Encountered unknown tag '(\w+)'\. Jinja was looking for the following tags: (.+?)\. The innermost"
)


def _environment() -> jinja2.Environment:
    # dbt's environment adds `do` and loop controls; parsing never renders or calls anything
    return jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


def template_error(text: str) -> tuple[str, int] | None:
    """(message, line) of Jinja's TemplateSyntaxError for `text`, None when it parses."""
    try:
        _environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return exc.message or "", exc.lineno or 0
    return None


def _replace_line(text: str, lineno: int, new_line: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[: lineno - 1] + [new_line] + lines[lineno:])


def _candidates(text: str, message: str, lineno: int) -> list[str]:
    line = text.splitlines(keepends=True)[lineno - 1]
    out: list[str] = []
    if message == "unexpected '}'":
        # a `}` that is not part of `}}` closes a `{{`: it becomes `}}`
        for found in re.finditer(r"(?<!\})\}(?!\})", line):
            out.append(_replace_line(text, lineno, line[: found.start()] + "}}" + line[found.end() :]))
    elif message == "unexpected '}', expected ')'":
        for found in re.finditer(r"\s*\}\}", line):
            out.append(_replace_line(text, lineno, line[: found.start()] + ")" + line[found.start() :]))
    else:
        tag = _LOOKING_FOR.match(message)
        if tag:
            expected = re.findall(r"'(\w+)'", tag.group(2))
            close = difflib.get_close_matches(tag.group(1), expected, n=2, cutoff=0.75)
            if len(close) == 1:
                pattern = re.compile(rf"(\{{%-?\s*){re.escape(tag.group(1))}\b")
                out.extend(
                    _replace_line(text, lineno, line[: m.start()] + m.group(1) + close[0] + line[m.end() :])
                    for m in pattern.finditer(line)
                )
    return out


def repair_template(text: str) -> tuple[str, str] | None:
    """(`text` repaired as Jinja's hint says, the hint), or None when no unique edit parses."""
    error = template_error(text)
    if error is None:
        return None
    message, lineno = error
    if not 1 <= lineno <= len(text.splitlines()):
        return None
    parsing = [c for c in dict.fromkeys(_candidates(text, message, lineno)) if template_error(c) is None]
    return (parsing[0], f"{message} (line {lineno})") if len(parsing) == 1 else None


def jinja_syntax_hint(evidence: Evidence, triage: Triage, repo_root: Path) -> Fix | None:
    """A template (dbt model, SQL template) that does not parse, repaired as Jinja's hint says."""
    if triage.category not in (Category.CONFIG_TEMPLATE, Category.CODE_ERROR) or triage.culprit is None:
        return None
    rel = triage.culprit.path
    text = read_text(repo_root, rel, SUFFIXES)
    if text is None or len(text) > MAX_FILE_CHARS:
        return None
    error = template_error(text)
    logged = triage.error.message or ""
    if error is None or error[0] not in logged:
        return None  # the template parses, or fails for another reason than the one logged
    repaired = repair_template(text)
    if repaired is None:
        return None
    new, hint = repaired
    return Fix(
        name="jinja_syntax_hint",
        edits=hunk_edits(rel, text, new),
        rationale=f"{rel} is not a valid Jinja template; re-parsed here, Jinja reports {hint}. The edit the "
        "hint names was made on that line, and the template now parses.",
    )
