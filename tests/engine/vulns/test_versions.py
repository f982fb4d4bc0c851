"""OSV range semantics with PEP 440 ordering (string comparison would get these wrong)."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from patchit_provider.engine.vulns.versions import (
    RangeError,
    check_entry,
    entry_affects,
    smallest_fix,
)


def entry(*events, versions=()):
    return {"ranges": [{"type": "ECOSYSTEM", "events": list(events)}], "versions": list(versions)}


@pytest.mark.parametrize(
    "version, affected",
    [
        ("1.9", True),
        ("1.10", False),
        ("1.10.1", False),
        ("1.2", True),
        ("0.9", False),
        ("2.0rc1", False),
    ],
)
def test_introduced_fixed_is_pep_440_ordered(version, affected):
    # "1.10" < "1.9" as strings; as versions 1.9 < 1.10
    assert entry_affects(Version(version), entry({"introduced": "1.0"}, {"fixed": "1.10"})) is affected


def test_prereleases_of_the_fix_are_still_affected():
    fixed_54 = entry({"introduced": "0"}, {"fixed": "5.4"})
    assert entry_affects(Version("5.4b2"), fixed_54) and not entry_affects(Version("5.4"), fixed_54)


def test_last_affected_includes_that_version_only():
    e = entry({"introduced": "4.2"}, {"last_affected": "4.2.7"})
    assert entry_affects(Version("4.2.7"), e) and not entry_affects(Version("4.2.8"), e)
    assert not entry_affects(Version("4.1"), e)


def test_several_introduced_fixed_pairs_in_one_range():
    e = entry({"introduced": "2.0.0"}, {"fixed": "2.0.7"}, {"introduced": "0"}, {"fixed": "1.26.18"})
    assert [entry_affects(Version(v), e) for v in ("1.26.17", "1.26.18", "1.30", "2.0.6", "2.0.7")] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_limit_bounds_the_range():
    e = entry({"introduced": "0"}, {"limit": "3.0"})
    assert entry_affects(Version("2.9"), e) and not entry_affects(Version("3.1"), e)


def test_versions_list_counts_without_ranges_and_other_range_types_do_not():
    assert entry_affects(Version("1.0.0"), {"versions": ["1.0.0"]})
    git_only = {"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]}
    assert not entry_affects(Version("1.0"), git_only)


def test_a_non_pep_440_event_is_an_error():
    with pytest.raises(RangeError):
        check_entry(entry({"introduced": "0"}, {"fixed": "abc def"}))


def test_smallest_fix_skips_fixes_still_affected_by_another_advisory():
    first = entry({"introduced": "0"}, {"fixed": "3.1.3"})
    second = entry({"introduced": "0"}, {"fixed": "3.1.4"})
    fixed, why = smallest_fix(Version("3.1.2"), [first, second], SpecifierSet())
    assert fixed == Version("3.1.4") and "3.1.3 (still affected)" in why


def test_smallest_fix_respects_constraints_and_never_goes_down():
    e = entry(
        {"introduced": "0"},
        {"fixed": "1.26.19"},
        {"introduced": "2.0.0"},
        {"fixed": "2.2.2"},
        {"introduced": "2.3"},
        {"fixed": "2.5"},
    )
    assert smallest_fix(Version("2.0.7"), [e], SpecifierSet())[0] == Version("2.2.2")
    assert smallest_fix(Version("2.0.7"), [e], SpecifierSet("!=2.2.2"))[0] == Version("2.5")
    assert smallest_fix(Version("2.0.7"), [e], SpecifierSet("<2.2"))[0] is None
    assert smallest_fix(Version("2.5"), [e], SpecifierSet()) == (
        None,
        "no applying advisory names a fixed version above the installed one",
    )
