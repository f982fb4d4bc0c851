"""OSV records: validated against the shipped OSV schema, refused whole with the reason."""

from __future__ import annotations

import json
from copy import deepcopy

import pytest

from patchit_provider.engine.vulns.osv import load_osv_dir, parse_record

BASE = {
    "id": "GHSA-h5c8-rqwp-cp95",
    "modified": "2024-01-11T15:20:48Z",
    "aliases": ["CVE-2024-22195"],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.3"}]}],
        }
    ],
}


def record(**changes):
    raw = deepcopy(BASE)
    raw.update(changes)
    return raw


def test_a_valid_record_is_read_with_its_fixed_versions():
    parsed, skips = parse_record(record(), "a.json")
    assert skips == [] and parsed is not None
    advisory = parsed.advisory_by_package["jinja2"]
    assert advisory.fixed == ["3.1.3"] and advisory.aliases == ["CVE-2024-22195"]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"modified": "yesterday"}, "modified"),
        ({"id": "NOPE-1"}, "id"),
        ({"affected": [{"package": {"ecosystem": "PyPI"}, "ranges": []}]}, "'name' is a required property"),
        (
            {
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "x"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}],
                    }
                ]
            },
            "events",
        ),
        (
            {
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "x"},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "1"}, {"last_affected": "2"}],
                            }
                        ],
                    }
                ]
            },
            "affected/0/ranges/0",
        ),
        ({"severity": [{"type": "CVSS_V3", "score": "9.8"}]}, "severity/0/score"),
        ({"unexpected": 1}, "Additional properties are not allowed"),
    ],
)
def test_a_record_that_does_not_validate_is_refused_with_the_reason(changes, reason):
    parsed, skips = parse_record(record(**changes), "bad.json")
    assert parsed is None and len(skips) == 1
    assert skips[0].kind == "refused" and "does not validate against the OSV schema" in skips[0].reason
    assert reason in skips[0].reason


def test_a_vector_the_cvss_specification_rejects_refuses_the_record():
    # the schema's pattern accepts an incomplete v3 vector; the cvss library does not score it
    parsed, skips = parse_record(record(severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L"}]), "v.json")
    assert parsed is None and skips[0].kind == "refused" and "CVSS" in skips[0].reason


def test_a_range_that_is_not_pep_440_refuses_the_record_rather_than_guessing():
    bad = record(
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "x"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not a version"}]}],
            }
        ]
    )
    parsed, skips = parse_record(bad, "r.json")
    assert parsed is None and "not a PEP 440 version" in skips[0].reason


def test_unknown_ecosystem_entries_are_skipped_and_the_pypi_entry_kept():
    mixed = record(affected=[{"package": {"ecosystem": "Zigistry", "name": "zap"}}, *BASE["affected"]])
    parsed, skips = parse_record(mixed, "m.json")
    assert parsed is not None and list(parsed.entries) == ["jinja2"]
    assert [s.reason for s in skips] == ["unknown ecosystem 'Zigistry' (not in the OSV schema): skipped"]


def test_both_cvss_versions_are_stored_and_a_package_severity_counts():
    both = record(
        severity=[
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"},
        ]
    )
    advisory = parse_record(both, "b.json")[0].advisory_by_package["jinja2"]
    assert (advisory.cvss_v3.base_score, advisory.cvss_v4.base_score) == (9.8, 8.7)
    per_package = record(
        affected=[
            {
                **BASE["affected"][0],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"}],
            }
        ]
    )
    assert parse_record(per_package, "p.json")[0].advisory_by_package["jinja2"].cvss_v3.base_score == 4.4


def test_the_folder_is_read_recursively_and_a_non_object_is_refused(tmp_path):
    (tmp_path / "PyPI").mkdir()
    (tmp_path / "PyPI" / "GHSA-h5c8-rqwp-cp95.json").write_text(json.dumps(BASE))
    (tmp_path / "list.json").write_text("[1, 2]")
    db = load_osv_dir(tmp_path)
    assert [r.raw["id"] for r in db.records] == ["GHSA-h5c8-rqwp-cp95"]
    assert db.by_id["CVE-2024-22195"].raw["id"] == "GHSA-h5c8-rqwp-cp95"
    assert [(s.item, s.reason) for s in db.skipped] == [("list.json", "not a JSON object")]


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_osv_dir(tmp_path / "nope")


def test_a_pypi_entry_with_only_git_ranges_is_reported_as_unmatchable():
    git_only = record(
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "https://github.com/psf/requests",
                        "events": [{"introduced": "0"}, {"fixed": "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"}],
                    }
                ],
            },
            *BASE["affected"],
        ]
    )
    parsed, skips = parse_record(git_only, "g.json")
    assert list(parsed.entries) == ["jinja2"]
    assert skips[0].reason == "no ECOSYSTEM range and no versions list: no PyPI version can be matched"
