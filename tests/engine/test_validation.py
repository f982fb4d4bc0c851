"""Validation on the fixture's real failures, in throwaway worktrees."""

import shutil

import pytest

from patchit_provider.engine.models import PatchProposal
from patchit_provider.engine.patching import make_diff, propose_patch
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.validation import validate

SETTINGS = PatchitSettings(validation_timeout=240)


def _names(result):
    return [check.name for check in result.checks]


def _no_leftovers(root):
    worktrees = root / ".git" / "worktrees"
    assert not worktrees.exists() or not any(worktrees.iterdir())


def _edit(root, path, old, new):
    text = (root / path).read_text()
    return PatchProposal(producer="llm:test/m", diff=make_diff(root, {path: text.replace(old, new)}), files=[path])


@pytest.mark.integration
def test_fixer_patch_is_reproduced_and_fixed(patch_nameerror, patch_snapshot):
    case = patch_nameerror
    before = patch_snapshot(case.root)
    proposal = propose_patch(case.evidence, case.triage, case.root)
    result = validate(proposal, case.event, case.triage, case.root, SETTINGS)
    assert result.passed, result.checks
    assert _names(result) == ["policy", "apply", "compile", "import", "replay"]
    assert result.replay == "reproduced_and_fixed"
    assert "NameError reproduced" in result.checks[-1].output
    assert result.sandboxed and result.approval_reason is None  # import and replay ran in the sandbox
    assert result.policy.allowed
    assert patch_snapshot(case.root) == before
    _no_leftovers(case.root)


@pytest.mark.integration
def test_patch_that_does_not_fix_is_rejected(patch_nameerror, patch_snapshot):
    case = patch_nameerror
    before = patch_snapshot(case.root)
    proposal = _edit(case.root, "dags/orders.py", "    total = sum(prices)\n", "    total = sum(prices)  # sum\n")
    result = validate(proposal, case.event, case.triage, case.root, SETTINGS)
    assert not result.passed
    replay = result.checks[-1]
    assert replay.name == "replay" and not replay.passed
    assert "still fails" in replay.output and "NameError" in replay.output
    assert patch_snapshot(case.root) == before


@pytest.mark.integration
def test_replay_not_possible_rests_on_checks(patch_nameerror):
    case = patch_nameerror
    proposal = propose_patch(case.evidence, case.triage, case.root)
    event = case.event.model_copy(update={"task_id": "greet"})  # a @task taking the context
    result = validate(proposal, event, case.triage, case.root, SETTINGS)
    assert result.passed, result.checks
    assert result.replay == "checks_only"
    replay = result.checks[-1]
    assert replay.status == "not_run" and "not replayed: the callable takes the task context" in replay.output
    assert result.not_replayed == "the callable takes the task context"  # never shown as a passed step


@pytest.mark.integration
def test_import_failure(patch_nameerror):
    case = patch_nameerror
    proposal = _edit(case.root, "dags/orders.py", 'with DAG("orders",', 'with DAG("orders_v2",')
    event = case.event.model_copy(update={"task_id": None})
    result = validate(proposal, event, case.triage, case.root, SETTINGS)
    assert not result.passed
    imported = result.checks[-1]
    assert imported.name == "import" and "defines no DAG 'orders'" in imported.output


def test_policy_rejection_runs_nothing(patch_nameerror, patch_snapshot):
    case = patch_nameerror
    before = patch_snapshot(case.root)
    proposal = _edit(
        case.root,
        "dags/orders.py",
        "    return totl * 2\n",
        "    try:\n        return totl * 2\n    except Exception:\n        return 0\n",
    )
    result = validate(proposal, case.event, case.triage, case.root, SETTINGS)
    assert not result.passed and _names(result) == ["policy"] and result.replay == "not_possible"
    assert "does not re-raise" in result.checks[0].output
    assert patch_snapshot(case.root) == before


def test_compile_and_check_command(patch_nameerror, patch_snapshot):
    case = patch_nameerror
    before = patch_snapshot(case.root)
    event = case.event.model_copy(update={"code_path": None})  # no DAG file: no import or replay
    good = propose_patch(case.evidence, case.triage, case.root)
    settings = PatchitSettings(check_command="grep -q 'return total \\* 2' dags/orders.py && echo fixed-here")
    result = validate(good, event, case.triage, case.root, settings)
    assert result.passed and _names(result) == ["policy", "apply", "compile", "check"]
    assert "fixed-here" in result.checks[-1].output and result.replay == "checks_only"

    broken = _edit(case.root, "dags/orders.py", "    return totl * 2\n", "    return (total * 2\n")
    result = validate(broken, event, case.triage, case.root, PatchitSettings(check_command="exit 3"))
    assert not result.passed
    compiled, check = result.checks[2], result.checks[3]
    assert not compiled.passed and "SyntaxError" in compiled.output
    assert not check.passed and "exit status 3" in check.output
    assert patch_snapshot(case.root) == before
    _no_leftovers(case.root)


def test_timeout_and_bounded_output(patch_nameerror):
    case = patch_nameerror
    event = case.event.model_copy(update={"code_path": None})
    proposal = propose_patch(case.evidence, case.triage, case.root)
    chatty = PatchitSettings(check_command="yes patchit | head -c 2000000; exit 1")
    result = validate(proposal, event, case.triage, case.root, chatty)
    assert not result.passed and len(result.checks[-1].output) < 5000
    slow = PatchitSettings(check_command="sleep 30", validation_timeout=1)
    result = validate(proposal, event, case.triage, case.root, slow)
    assert not result.passed and "timed out after 1 s" in result.checks[-1].output


def test_stale_patch_fails_to_apply(patch_nameerror):
    case = patch_nameerror
    proposal = propose_patch(case.evidence, case.triage, case.root)
    stale = proposal.model_copy(
        update={"diff": proposal.diff.replace(" def compute_total(prices):", " def compute(prices):")}
    )
    result = validate(stale, case.event, case.triage, case.root, SETTINGS)
    assert not result.passed and _names(result)[-1] == "apply" and not result.checks[-1].passed


def test_plain_directory_is_copied(patch_nameerror, tmp_path):
    case = patch_nameerror
    plain = tmp_path / "plain"
    shutil.copytree(case.root, plain, ignore=shutil.ignore_patterns(".git"))
    proposal = propose_patch(case.evidence, case.triage, plain)
    event = case.event.model_copy(update={"code_path": None})
    result = validate(
        proposal, event, case.triage, plain, PatchitSettings(check_command="grep -q 'total \\* 2' dags/orders.py")
    )
    assert result.passed, result.checks
    assert "return totl * 2" in (plain / "dags" / "orders.py").read_text()
