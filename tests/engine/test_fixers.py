"""Fixers on real tracebacks of the fixture repository's bugs."""

import subprocess

from patchit_provider.engine.models import Culprit, FileEdit
from patchit_provider.engine.patching import apply_edits, diff_stats, propose_patch
from patchit_provider.engine.taxonomy import Category, Remediation


def test_did_you_mean_name_error(patch_nameerror, patch_snapshot):
    case = patch_nameerror
    assert "Did you mean: 'total'?" in case.event.error.traceback
    before = patch_snapshot(case.root)
    proposal = propose_patch(case.evidence, case.triage, case.root)
    assert proposal is not None and proposal.producer == "fixer:did_you_mean"
    assert proposal.files == ["dags/orders.py"]
    assert "-    return totl * 2\n+    return total * 2\n" in proposal.diff
    assert "`totl` is replaced by `total`" in proposal.rationale
    new = apply_edits(case.root, proposal.edits)["dags/orders.py"]
    assert new == (case.root / "dags" / "orders.py").read_text().replace("return totl * 2", "return total * 2")
    assert patch_snapshot(case.root) == before
    applied = subprocess.run(["git", "apply", "--check", "-"], input=proposal.diff, text=True, cwd=case.root)
    assert applied.returncode == 0


def test_fallback_to_innermost_frame_without_culprit(patch_nameerror):
    case = patch_nameerror
    triage = case.triage.model_copy(update={"culprit": None})
    proposal = propose_patch(case.evidence, triage, case.root)
    assert proposal is not None and "+    return total * 2\n" in proposal.diff


def test_missing_stdlib_import(patch_repo, patch_tracebacks, patch_case):
    case = patch_case(patch_repo, patch_tracebacks["dump_report"], "dump_report")
    assert "NameError: name 'json' is not defined" in case.event.error.traceback
    proposal = propose_patch(case.evidence, case.triage, case.root)
    assert proposal is not None and proposal.producer == "fixer:missing_stdlib_import"
    assert "import pendulum\n+import json\n" not in proposal.diff  # after the LAST top-level import
    assert " from airflow.sdk import DAG, task\n+import json\n" in proposal.diff
    assert diff_stats(proposal.diff) == (1, 1, 1, 0)


def test_attribute_error_in_plain_module(patch_repo, patch_tracebacks, patch_case):
    case = patch_case(patch_repo, patch_tracebacks["shout"], None)
    assert "Did you mean: 'upper'?" in case.event.error.traceback
    proposal = propose_patch(case.evidence, case.triage, case.root)
    assert proposal is not None
    assert "-    return word.uper()\n+    return word.upper()\n" in proposal.diff


def test_only_code_on_the_culprit_line_changes(patch_nameerror):
    case = patch_nameerror
    dag = case.root / "dags" / "orders.py"
    # the same wrong name in a string and a comment on that line, and elsewhere in the file, stays
    dag.write_text(dag.read_text().replace("return totl * 2", "return totl * 2  # totl 'totl'") + "# totl\n")
    proposal = propose_patch(case.evidence, case.triage, case.root)
    assert "+    return total * 2  # totl 'totl'\n" in proposal.diff
    assert diff_stats(proposal.diff) == (1, 1, 1, 1)


def test_no_patch_when_evidence_does_not_hold(patch_nameerror):
    case = patch_nameerror
    # the culprit line no longer shows the fault (repository moved on): no guess
    moved = case.triage.model_copy(update={"culprit": Culprit(path="dags/orders.py", line=5)})
    assert propose_patch(case.evidence, moved, case.root) is None
    # not a patch remediation, or a category that must never be patched
    retry = case.triage.model_copy(update={"remediation": Remediation.RETRY})
    assert propose_patch(case.evidence, retry, case.root) is None
    data = case.triage.model_copy(update={"category": Category.DATA_QUALITY})
    assert propose_patch(case.evidence, data, case.root) is None
    # the hint is only in the traceback: the message alone is not enough
    bare = case.evidence.model_copy(update={"error": case.evidence.error.model_copy(update={"traceback": None})})
    assert propose_patch(bare, case.triage, case.root) is None


def test_line_edit_search_is_unique(patch_nameerror):
    case = patch_nameerror
    dag = case.root / "dags" / "orders.py"
    text = dag.read_text()
    # the culprit line now also appears in another function: the edit needs context to be unique
    dag.write_text(text + "\n\ndef other(prices):\n    total = 0\n    return totl * 2\n")
    proposal = propose_patch(case.evidence, case.triage, case.root)
    assert proposal is not None
    edit: FileEdit = proposal.edits[0]
    assert edit.search.count("\n") > 1
    new = apply_edits(case.root, proposal.edits)["dags/orders.py"]
    assert new.count("return totl * 2") == 1 and new.count("return total * 2") == 1
