"""Bands from computed scores; the record's label only without a vector; deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from patchit_provider.engine.models import Advisory
from patchit_provider.engine.vulns.severity import (
    VectorError,
    band,
    deadline,
    overall,
    score_vector,
)


@pytest.mark.parametrize(
    "score, expected",
    [
        (0.0, "none"),
        (0.1, "low"),
        (3.9, "low"),
        (4.0, "medium"),
        (6.9, "medium"),
        (7.0, "high"),
        (8.9, "high"),
        (9.0, "critical"),
        (10.0, "critical"),
    ],
)
def test_cvss_qualitative_scale(score, expected):
    assert band(score) == expected


def test_scores_are_computed_from_vectors():
    assert score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").base_score == 9.8
    assert score_vector("CVSS:3.0/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N").version == "3.0"
    assert score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").base_score == 9.3
    with pytest.raises(VectorError):
        score_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P")  # CVSS v2 is not scored


def test_v4_wins_inside_a_record_and_the_highest_record_wins():
    v3 = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")  # 9.8
    v4 = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N")  # 8.7
    both = Advisory(id="GHSA-1", package="x", cvss_v3=v3, cvss_v4=v4)
    low = Advisory(id="GHSA-2", package="x", cvss_v3=score_vector("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"))
    best, severity, source = overall([low, both])
    assert (best.base_score, severity, source) == (8.7, "high", "cvss_v4")


def test_database_label_only_without_any_vector():
    labelled = Advisory(id="GHSA-3", package="x", database_severity="CRITICAL")
    scored = Advisory(
        id="GHSA-4",
        package="x",
        cvss_v3=score_vector("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"),
        database_severity="CRITICAL",
    )
    assert overall([labelled])[1:] == ("critical", "database")
    assert overall([labelled, scored])[1:] == ("medium", "cvss_v3")  # a vector exists: the label is not used
    assert overall([Advisory(id="PYSEC-1", package="x")]) == (None, "unknown", "none")
    assert overall([Advisory(id="PYSEC-2", package="x", database_severity="whatever")])[1] == "unknown"


def test_deadlines_default_and_configured():
    today = date(2026, 12, 2)
    assert [deadline(s, today).isoformat() for s in ("critical", "high", "medium", "low", "unknown", "none")] == [
        "2026-12-17",
        "2027-01-01",
        "2027-03-02",
        "2027-05-31",
        "2027-05-31",
        "2027-05-31",
    ]
    assert deadline("critical", today, {"critical": 3}) == date(2026, 12, 5)
