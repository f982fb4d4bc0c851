"""The policy on the real fixer patch and on a corpus of hostile patches."""

import textwrap

import pytest

from patchit_provider.engine.models import FileEdit, PatchProposal
from patchit_provider.engine.patching import make_diff, propose_patch
from patchit_provider.engine.policy import PolicyLimits, check_policy
from patchit_provider.engine.taxonomy import Category, Remediation

GUARDED = textwrap.dedent(
    """\
    import logging

    logger = logging.getLogger(__name__)


    class Loader:
        def load(self, rows):
            if not rows:
                raise ValueError("no rows")
            assert all(isinstance(r, dict) for r in rows)
            return [r["id"] for r in rows]
    """
)


@pytest.fixture
def patch_guarded(patch_nameerror):
    (patch_nameerror.root / "etl" / "load.py").write_text(GUARDED)
    return patch_nameerror


def _proposal(root, changes: dict[str, str]) -> PatchProposal:
    return PatchProposal(producer="llm:test/hostile", diff=make_diff(root, changes), files=sorted(changes))


def _edit(root, path, old, new) -> PatchProposal:
    text = (root / path).read_text() if (root / path).exists() else ""
    assert old in text
    return _proposal(root, {path: text.replace(old, new)})


def _violations(case, proposal, triage=None):
    decision = check_policy(proposal, triage or case.triage, case.root)
    assert not decision.allowed and decision.violations
    return "\n".join(decision.violations)


def test_fixer_patch_is_allowed(patch_nameerror):
    proposal = propose_patch(patch_nameerror.evidence, patch_nameerror.triage, patch_nameerror.root)
    decision = check_policy(proposal, patch_nameerror.triage, patch_nameerror.root)
    assert decision.allowed, decision.violations


def test_reraising_handlers_are_allowed(patch_guarded):
    root = patch_guarded.root
    proposal = _edit(
        root, "etl/load.py", '        return [r["id"] for r in rows]\n',
        '        try:\n            return [r["id"] for r in rows]\n'
        '        except KeyError as exc:\n            logger.error("row without id")\n'
        '            raise ValueError("row without id") from exc\n',
    )
    assert check_policy(proposal, patch_guarded.triage, root).allowed


HOSTILE_EDITS = {
    "swallow_broad": (
        "etl/load.py", '        return [r["id"] for r in rows]\n',
        '        try:\n            return [r["id"] for r in rows]\n        except Exception:\n            return []\n',
        "catches everything and does not re-raise",
    ),
    "bare_except": (
        "dags/orders.py", "    return totl * 2\n",
        "    try:\n        return totl * 2\n    except:\n        return 0\n",
        "`except bare:` catches everything",
    ),
    "pass_handler": (
        "etl/load.py", '        return [r["id"] for r in rows]\n',
        '        try:\n            return [r["id"] for r in rows]\n        except KeyError:\n            pass\n',
        "only passes, returns or logs",
    ),
    "log_only_handler": (
        "etl/load.py", '        return [r["id"] for r in rows]\n',
        '        try:\n            return [r["id"] for r in rows]\n        except (KeyError, TypeError) as exc:\n'
        '            logger.warning(\n                "bad row %s", exc\n            )\n',
        "only passes, returns or logs",
    ),
    "removed_raise": (
        "etl/load.py", '            raise ValueError("no rows")\n', "            return []\n", "removes a `raise`",
    ),
    "raise_to_log": (
        "etl/load.py", '            raise ValueError("no rows")\n', '            logger.error("no rows")\n',
        "turns a failure into a log line",
    ),
    "deleted_assert": (
        "etl/load.py", "        assert all(isinstance(r, dict) for r in rows)\n", "", "deletes an assert",
    ),
    "trivial_assert": (
        "etl/load.py", "        assert all(isinstance(r, dict) for r in rows)\n",
        "        assert True or all(isinstance(r, dict) for r in rows)\n", "always holds",
    ),
    "weakened_test": (
        "tests/test_text.py", "    assert 'a'.upper() == 'A'\n", "    assert 'a'.upper()\n", "a test loses assertion lines",
    ),
    "skipped_test": (
        "tests/test_text.py", "def test_upper():", "import pytest\n\n\n@pytest.mark.skip\ndef test_upper():",
        "skips or xfails a test",
    ),
    "secret_in_diff": (
        "dags/orders.py", "    return totl * 2\n",
        '    api_key = "sk-proj-Q8vT3xLm9PzR2wKc7NbY4hJd"\n    return total * 2\n', "look like secrets",
    ),
    "suppress": (
        "dags/orders.py", "    return totl * 2\n",
        "    import contextlib\n    with contextlib.suppress(Exception):\n        return totl * 2\n", "contextlib.suppress",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EDITS))
def test_hostile_edits_are_rejected(patch_guarded, name):
    path, old, new, expected = HOSTILE_EDITS[name]
    proposal = _edit(patch_guarded.root, path, old, new)
    assert expected in _violations(patch_guarded, proposal)


@pytest.mark.parametrize(
    "path, expected",
    [
        (".github/workflows/ci.yml", "CI configuration"),
        (".gitlab-ci.yml", "CI configuration"),
        (".ci/run", "CI configuration"),
        (".env", "environment file"),
        (".env.production", "environment file"),
        ("config/secrets.yaml", "secrets, credentials or key file"),
        ("deploy/server.pem", "secrets, credentials or key file"),
        ("patchit_provider/engine/policy.py", "PATCHIT's own package"),
        ("requirements.txt", "dependency files may change only"),
    ],
)
def test_denied_paths(patch_nameerror, path, expected):
    proposal = _proposal(patch_nameerror.root, {path: "print('pwned')\n"})
    assert expected in _violations(patch_nameerror, proposal)


def test_requirements_allowed_for_missing_dependency(patch_nameerror):
    case = patch_nameerror
    (case.root / "requirements.txt").write_text("pendulum==3.0.0\n")
    proposal = _edit(case.root, "requirements.txt", "pendulum==3.0.0\n", "pendulum==3.0.0\nrequests==2.32.3\n")
    triage = case.triage.model_copy(update={"category": Category.DEPENDENCY_MISSING})
    assert check_policy(proposal, triage, case.root).allowed


def test_traversal_and_absolute_paths(patch_nameerror):
    diff = (
        "diff --git a/../outside.py b/../outside.py\n--- a/../outside.py\n+++ b/../outside.py\n"
        "@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    )
    proposal = PatchProposal(producer="llm:test/hostile", diff=diff, files=["../outside.py"])
    assert "not a normalized path" in _violations(patch_nameerror, proposal)
    edits = [FileEdit(path="/etc/cron.d/x", search="a", replace="b")]
    good = propose_patch(patch_nameerror.evidence, patch_nameerror.triage, patch_nameerror.root)
    hostile = good.model_copy(update={"edits": edits})
    assert "not a repository-relative POSIX path" in _violations(patch_nameerror, hostile)


def test_symlinks(patch_nameerror):
    root = patch_nameerror.root
    (root / "linked").symlink_to(root / "dags")
    diff = (
        "diff --git a/linked/orders.py b/linked/orders.py\n--- a/linked/orders.py\n+++ b/linked/orders.py\n"
        "@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    )
    assert "goes through a symlink" in _violations(patch_nameerror, PatchProposal(producer="x", diff=diff))
    new_link = (
        "diff --git a/evil b/evil\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/evil\n"
        "@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n"
    )
    assert "adds or changes a symlink" in _violations(patch_nameerror, PatchProposal(producer="x", diff=new_link))


def test_binary_change(patch_nameerror):
    diff = (
        "diff --git a/data/blob.bin b/data/blob.bin\nnew file mode 100644\nindex 0000000..e69de29\n"
        "Binary files /dev/null and b/data/blob.bin differ\n"
    )
    assert "changes a binary file" in _violations(patch_nameerror, PatchProposal(producer="x", diff=diff))


def test_oversize_patch(patch_nameerror):
    root = patch_nameerror.root
    text = (root / "dags" / "orders.py").read_text()
    bigger = text + "".join(f"\n\ndef helper_{i}():\n    return {i}\n" for i in range(20))
    proposal = _proposal(root, {"dags/orders.py": bigger})
    assert "lines (at most 60)" in _violations(patch_nameerror, proposal)
    many = {f"etl/m{i}.py": "x = 1\n" for i in range(6)}
    assert "changes 6 files (at most 5)" in _violations(patch_nameerror, _proposal(root, many))
    spread = "\n".join(f"line {i}" for i in range(200)) + "\n"
    (root / "etl" / "long.txt").write_text(spread)
    edited = "\n".join(f"line {i}" + (" changed" if i % 15 == 0 else "") for i in range(200)) + "\n"
    assert "hunks (at most 10)" in _violations(patch_nameerror, _proposal(root, {"etl/long.txt": edited}))
    tight = check_policy(_proposal(root, {"etl/long.txt": edited}), patch_nameerror.triage, root, PolicyLimits(max_hunks=20))
    assert tight.allowed, tight.violations


def test_forbidden_category_and_remediation(patch_nameerror):
    case = patch_nameerror
    proposal = propose_patch(case.evidence, case.triage, case.root)
    data = case.triage.model_copy(update={"category": Category.DATA_QUALITY})
    assert "data.quality must never be patched" in _violations(case, proposal, data)
    retry = case.triage.model_copy(update={"remediation": Remediation.RETRY})
    assert "not patch" in _violations(case, proposal, retry)


def test_empty_or_garbage_diff(patch_nameerror):
    assert "no diff" in _violations(patch_nameerror, PatchProposal(producer="x", diff=""))
    garbage = PatchProposal(producer="x", diff="--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n")
    assert _violations(patch_nameerror, garbage)
