"""The external corpus (benchmarks/external/) stays what it claims to be.

Its accuracy figures mean something only if the held-out part is the one frozen before rules were
tuned and every case carries its source and a reason. These checks read files only: they never
run triage, so they cannot leak the held-out outcomes into anyone's rule writing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from patchit_provider.engine.taxonomy import Category, Remediation

ROOT = Path(__file__).resolve().parents[1] / "benchmarks" / "external"
PARTS = ("dev", "heldout")


def _part_of():
    spec = importlib.util.spec_from_file_location("part_of", ROOT / "part_of.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.part_of


def _cases() -> list[Path]:
    return sorted(case for part in PARTS for case in (ROOT / part).iterdir() if case.is_dir())


def test_the_corpus_is_large_enough_and_the_held_out_part_is_at_least_30_percent():
    cases = _cases()
    heldout = [case for case in cases if case.parent.name == "heldout"]
    assert len(cases) >= 250, f"{len(cases)} cases"
    assert len(heldout) / len(cases) >= 0.30, f"{len(heldout)} of {len(cases)} held out"


def test_every_case_sits_in_the_part_its_id_decides():
    part_of = _part_of()
    misplaced = [f"{case.parent.name}/{case.name}" for case in _cases() if part_of(case.name) != case.parent.name]
    assert not misplaced, misplaced


def test_the_held_out_part_is_byte_for_byte_the_frozen_one():
    # FROZEN.sha256: batch 1; FROZEN-<prefix>.sha256: each later batch, written when it was collected.
    heldout = ROOT / "heldout"
    frozen = {}
    for listing in sorted(heldout.glob("FROZEN*.sha256")):
        for line in listing.read_text(encoding="utf-8").splitlines():
            digest, name = line.split(maxsplit=1)
            frozen[name.removeprefix("./").removeprefix("heldout/")] = digest
    present = {
        str(path.relative_to(heldout)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in heldout.rglob("*")
        if path.is_file() and not (path.parent == heldout and path.name.startswith("FROZEN"))
    }
    assert sorted(present) == sorted(frozen), "files added to or removed from the frozen held-out part"
    changed = [name for name, digest in present.items() if frozen[name] != digest]
    assert not changed, f"held-out files changed after the freeze: {changed}"


def _label_problems(case: Path) -> list[str]:
    label = json.loads((case / "label.json").read_text(encoding="utf-8"))
    problems = []
    if label.get("category") not in {c.value for c in Category}:
        problems.append(f"category {label.get('category')!r} is not a taxonomy id")
    if label.get("remediation") not in {r.value for r in Remediation}:
        problems.append(f"remediation {label.get('remediation')!r} is not a taxonomy id")
    if not str(label.get("source", "")).startswith(("https://", "http://")):
        problems.append("no source address")
    if not str(label.get("reason", "")).strip():
        problems.append("no reason")
    if not (case / "log").read_text(encoding="utf-8", errors="replace").strip():
        problems.append("empty log")
    culprit = label.get("culprit")
    if culprit is not None and not culprit.get("path"):
        problems.append("a culprit without a path")
    return problems


def test_every_label_uses_the_taxonomy_and_names_its_source_and_reason():
    # One aggregate test (not one per case): test ids would print held-out case names.
    problems = {case.name: found for case in _cases() if (found := _label_problems(case))}
    assert not problems, f"{len(problems)} case(s) with label problems (ids only for dev): " + str(
        {name: found for name, found in problems.items() if _part_of()(name) == "dev"}
    )
