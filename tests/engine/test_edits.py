from pathlib import Path

import pytest

from patchit_provider.engine.models import FileEdit
from patchit_provider.engine.patching.edits import EditError, apply_edits


@pytest.fixture
def patch_tree(tmp_path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        "def f(x):\n    if x:\n        return x + 1\n    return 0\n\n\ndef g(x):\n    return 0\n"
    )
    return tmp_path


def test_exact_unique_match(patch_tree):
    new = apply_edits(patch_tree, [FileEdit(path="pkg/mod.py", search="x + 1", replace="x + 2")])
    assert new == {
        "pkg/mod.py": "def f(x):\n    if x:\n        return x + 2\n    return 0\n\n\ndef g(x):\n    return 0\n"
    }
    assert "x + 1" in (patch_tree / "pkg" / "mod.py").read_text(), "apply_edits never writes"


def test_whitespace_tolerant_match_reindents(patch_tree):
    edit = FileEdit(path="pkg/mod.py", search="if x:\n    return x + 1   \n", replace="if x:\n    return x - 1\n")
    new = apply_edits(patch_tree, [edit])["pkg/mod.py"]
    assert "    if x:\n        return x - 1\n    return 0\n" in new


def test_ambiguous_and_missing_search_are_errors(patch_tree):
    with pytest.raises(EditError, match="occurs 2 times"):
        apply_edits(patch_tree, [FileEdit(path="pkg/mod.py", search="return 0", replace="return 1")])
    with pytest.raises(EditError, match="does not occur"):
        apply_edits(patch_tree, [FileEdit(path="pkg/mod.py", search="return 42", replace="return 1")])
    with pytest.raises(EditError, match="occurs 2 times"):  # tolerant matching is just as strict
        apply_edits(patch_tree, [FileEdit(path="pkg/mod.py", search="  return 0  ", replace="return 1")])
    with pytest.raises(EditError, match="empty search"):
        apply_edits(patch_tree, [FileEdit(path="pkg/mod.py", search="", replace="x")])


def test_edits_apply_in_sequence(patch_tree):
    edits = [
        FileEdit(path="pkg/mod.py", search="def g(x):\n    return 0", replace="def g(x):\n    return 5"),
        FileEdit(path="pkg/mod.py", search="return 5", replace="return 6"),
    ]
    assert apply_edits(patch_tree, edits)["pkg/mod.py"].endswith("def g(x):\n    return 6\n")


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", "pkg/../pkg/mod.py", "pkg\\mod.py", "./pkg/mod.py"])
def test_unsafe_paths_are_rejected(patch_tree, path):
    with pytest.raises(EditError):
        apply_edits(patch_tree, [FileEdit(path=path, search="x", replace="y")])


def test_symlinks_and_missing_files_are_rejected(patch_tree):
    (patch_tree / "link.py").symlink_to(patch_tree / "pkg" / "mod.py")
    (patch_tree / "linkdir").symlink_to(patch_tree / "pkg")
    for path in ("link.py", "linkdir/mod.py"):
        with pytest.raises(EditError, match="symlink"):
            apply_edits(patch_tree, [FileEdit(path=path, search="x + 1", replace="y")])
    with pytest.raises(EditError, match="no such file"):
        apply_edits(patch_tree, [FileEdit(path="pkg/nope.py", search="x", replace="y")])
