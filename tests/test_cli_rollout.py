"""`patchit rollout plan` as ../shared/cli-contract.md defines it, run as a user would: the
console script on spec files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PATCHIT = [sys.executable, "-m", "patchit_provider.cli"]

# The contract's example spec, verbatim.
CONTRACT_SPEC = {
    "members": [{"id": "orders_daily", "criticality": 1}, {"id": "finance_close", "criticality": 5}],
    "waves": [1, "10%", "50%", "100%"],
    "max_errors": "10%",
    "max_concurrency": 4,
    "bake_seconds": 600,
    "member_seconds": 120,
}


def _plan(tmp_path: Path, spec, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "spec.json"
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    return _run("rollout", "plan", str(path), *args)


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PATCHIT, *args], input=stdin, capture_output=True, timeout=120, check=False)


def test_the_contract_example(tmp_path: Path):
    proc = _plan(tmp_path, CONTRACT_SPEC, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert proc.stdout.decode().count("\n") == 1  # exactly one JSON object
    assert out["valid"] is True and out["problems"] == []
    assert [{"index": w["index"], "members": w["members"]} for w in out["waves"]] == [
        {"index": 0, "members": ["orders_daily"]},
        {"index": 1, "members": ["finance_close"]},
    ]
    assert out["max_errors"] == 0  # 10% of 2 members, rounded down
    # The contract's formula: max_errors + max_concurrency = 4, capped at the 2 members. (The
    # contract's example output shows 4, which its own formula and cap do not give.)
    assert out["worst_case_failures"] == 2
    assert out["min_duration_seconds"] == 840  # 120 + 600 bake + 120
    assert list(out)[:6] == ["valid", "problems", "waves", "max_errors", "worst_case_failures", "min_duration_seconds"]


def test_worst_case_is_budget_plus_concurrency_when_members_allow(tmp_path: Path):
    spec = CONTRACT_SPEC | {"members": [{"id": f"dag_{i}", "criticality": i % 2} for i in range(30)]}
    out = json.loads(_plan(tmp_path, spec, "--json").stdout)
    # sizes: 1, then 10% of 30 = 3, 50% = 15, then 100% takes the 11 left
    assert [len(w["members"]) for w in out["waves"]] == [1, 3, 15, 11]
    assert out["waves"][0]["members"] == ["dag_0"]  # least critical first, ties by id
    assert out["max_errors"] == 3 and out["worst_case_failures"] == 7
    assert out["min_duration_seconds"] == (1 + 1 + 4 + 3) * 120 + 3 * 600


def test_an_impossible_spec_gives_valid_false_and_one_sentence_per_problem(tmp_path: Path):
    spec = {"members": [{"id": "a"}, {"id": "a"}], "waves": [0, "150%"], "max_concurrency": 0, "bake_seconds": -1}
    proc = _plan(tmp_path, spec, "--json")
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert out["valid"] is False and out["waves"] == []
    assert out["problems"] == [
        "members: member ids must be unique; repeated: a.",
        "waves[0]: a wave needs at least 1 member (got 0).",
        "waves[1]: a wave's percentage must be above 0% and at most 100% (got 150%).",
        "max_concurrency must be at least 1 (got 0).",
        "bake_seconds must be at least 0 (got -1).",
    ]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"members": [], "waves": [1]}, "members: the spec has no members: there is nothing to roll out."),
        ({"members": [{"id": "a"}], "waves": [1], "member_seconds": -5}, "member_seconds must be at least 0 (got -5)."),
        ({"members": [{"id": "a"}]}, "waves is required."),
        (
            {"members": [{"id": "a"}], "waves": ["ten"]},
            "waves[0] must be a whole count or a percentage like \"10%\" (got 'ten').",
        ),
        (
            {"members": [{"id": "a"}], "waves": [1], "max_errors": "101%"},
            "max_errors: the error budget cannot exceed 100% (got 101%).",
        ),
        ([1, 2], "The spec must be a JSON object, not list."),
    ],
)
def test_invalid_specs(tmp_path: Path, spec, problem):
    proc = _plan(tmp_path, spec, "--json")
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["valid"] is False and out["waves"] == []
    assert out["problems"] == [problem]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"members": [', "is not valid JSON"),
        ('{"members": [], "waves": [NaN]}', "is not valid JSON: NaN is not a JSON number"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
    ],
)
def test_unreadable_input_exits_2_with_a_message(tmp_path: Path, content, message):
    path = tmp_path / "spec.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    proc = _run("rollout", "plan", str(path), "--json")
    assert proc.returncode == 2 and proc.stdout == b""
    assert message in proc.stderr.decode()
    missing = _run("rollout", "plan", str(tmp_path / "nope.json"), "--json")
    assert missing.returncode == 2 and b"cannot read the spec" in missing.stderr and missing.stdout == b""


def test_standard_input_extra_keys_and_the_text_view(tmp_path: Path):
    spec = CONTRACT_SPEC | {"owner": "data-platform", "windows": [], "deadline": None}
    proc = _run("rollout", "plan", "-", "--json", "--now", "2026-12-01T12:00:00Z", stdin=json.dumps(spec).encode())
    out = json.loads(proc.stdout)
    assert out["valid"] is True and "Unknown key 'owner' ignored." in out["notes"]
    assert out["schedule"][0]["start"] == "2026-12-01T12:00:00Z" and out["finish_at"] == "2026-12-01T12:14:00Z"
    text = _plan(tmp_path, CONTRACT_SPEC)
    assert text.returncode == 0
    lines = text.stdout.decode().splitlines()
    assert lines[0] == "valid plan: 2 wave(s), 2 member(s)"
    assert "orders_daily" in lines[1] and "finance_close" in lines[2]
    assert "worst case 2 failed member(s); min duration 840 s" in lines[3]
