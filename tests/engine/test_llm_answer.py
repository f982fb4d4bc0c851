"""Strict parsing of model answers into edits: the documented format, unified diffs, rejections."""

from __future__ import annotations

from pathlib import Path

import pytest

from patchit_provider.engine.llm import LLMAnswerError
from patchit_provider.engine.llm.answer import extract_rationale, parse_edits


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "orders.py").write_text("def total(p):\n    t = sum(p)\n    return totl\n")
    return tmp_path


GOOD = """RATIONALE: `totl` is a typo of the local `t`.
FILE: dags/orders.py
<<<<<<< SEARCH
    return totl
=======
    return t
>>>>>>> REPLACE
"""


def test_documented_format(repo):
    edits = parse_edits(GOOD, repo)
    assert [(e.path, e.search, e.replace) for e in edits] == [("dags/orders.py", "    return totl\n", "    return t\n")]
    assert extract_rationale(GOOD) == "`totl` is a typo of the local `t`."


def test_blocks_inside_markdown_fences_and_several_edits(repo):
    text = (
        "Here is the fix.\n```python\n"
        + GOOD.split("\n", 1)[1]
        + "```\n\n```\nFILE: dags/orders.py\n<<<<<<< SEARCH\n    t = sum(p)\n=======\n    t = sum(p or [])\n>>>>>>> REPLACE\n```\n"
    )
    edits = parse_edits(text, repo)
    assert [e.search for e in edits] == ["    return totl\n", "    t = sum(p)\n"]


def test_deletion_is_an_empty_replace(repo):
    text = "FILE: dags/orders.py\n<<<<<<< SEARCH\n    t = sum(p)\n=======\n>>>>>>> REPLACE\n"
    assert parse_edits(text, repo)[0].replace == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("I think you should rename the variable totl to t.", "prose only"),
        ("NO_PATCH: the input file is corrupt; this is a data problem", "proposed no patch: the input file is corrupt"),
        ("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "without a preceding FILE"),
        ("FILE: dags/orders.py\n<<<<<<< SEARCH\n    return totl\n=======\n    return t\n", "unterminated"),
        ("FILE: dags/orders.py\n<<<<<<< SEARCH\n    return totl\n>>>>>>> REPLACE\n", "where '=======' was expected"),
        ("FILE: dags/orders.py\n<<<<<<< SEARCH\n\n=======\nimport os\n>>>>>>> REPLACE\n", "empty SEARCH"),
        ("FILE: dags/orders.py\n<<<<<<< SEARCH\nx\n=======\nx\n>>>>>>> REPLACE\n", "identical"),
        ("FILE: \n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "without a path"),
        ("=======\nFILE: a\n<<<<<<< SEARCH\n", "outside a SEARCH block"),
    ],
)
def test_malformed_answers(repo, text, message):
    with pytest.raises(LLMAnswerError, match=message):
        parse_edits(text, repo)


@pytest.mark.parametrize(
    "path", ["../outside.py", "/etc/passwd", "dags/../../x.py", "dags\\orders.py", "./dags/orders.py"]
)
def test_paths_outside_the_repository_are_rejected(repo, path):
    text = f"FILE: {path}\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"
    with pytest.raises(LLMAnswerError, match="outside the repository"):
        parse_edits(text, repo)


def test_symlinked_path_is_rejected(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "x.py").write_text("x = 1\n")
    (repo / "link").symlink_to(outside)
    with pytest.raises(LLMAnswerError, match="symlink"):
        parse_edits("FILE: link/x.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n", repo)


DIFF = """RATIONALE: typo
diff --git a/dags/orders.py b/dags/orders.py
--- a/dags/orders.py
+++ b/dags/orders.py
@@ -1,3 +1,3 @@
 def total(p):
     t = sum(p)
-    return totl
+    return t
"""


def test_unified_diff_becomes_one_edit_per_hunk(repo):
    edits = parse_edits(DIFF, repo)
    assert len(edits) == 1
    assert edits[0].path == "dags/orders.py"
    assert edits[0].search == "def total(p):\n    t = sum(p)\n    return totl\n"
    assert edits[0].replace == "def total(p):\n    t = sum(p)\n    return t\n"
    assert extract_rationale(DIFF) == "typo"


def test_diff_with_wrong_line_numbers_still_anchors_on_text(repo):
    text = "```diff\n--- a/dags/orders.py\n+++ b/dags/orders.py\n@@ -40,2 +40,2 @@\n     t = sum(p)\n-    return totl\n+    return t\n```\n"
    assert parse_edits(text, repo)[0].search == "    t = sum(p)\n    return totl\n"


@pytest.mark.parametrize(
    ("diff", "message"),
    [
        ("--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n", "add, delete or rename"),
        ("--- a/dags/orders.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-def total(p):\n", "add, delete or rename"),
        ("--- a/dags/orders.py\n+++ b/dags/orders.py\n@@ -1,1 +1,2 @@\n+x\n", "malformed|cannot be anchored"),
        ("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n", "outside the repository"),
    ],
)
def test_unacceptable_diffs(repo, diff, message):
    with pytest.raises(LLMAnswerError, match=message):
        parse_edits(diff, repo)
