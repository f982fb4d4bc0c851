"""Maintenance windows, SSM's cutoff rule, the deadline and the out-of-window approval, as a
person planning a night-time rollout would check them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from patchit_provider.engine.rollout import plan_rollout

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # a Tuesday


def spec(**extra):
    base = {
        "members": [{"id": f"run{i}"} for i in range(6)],
        "waves": [1, 2, "100%"],
        "max_concurrency": 1,
        "member_seconds": 600,
        "bake_seconds": 300,
    }
    return base | extra


def test_waves_wait_for_the_nightly_window():
    plan = plan_rollout(spec(windows=[{"daily_start": "22:00", "daily_end": "02:00"}]), now=NOW)
    assert plan.valid
    starts = [(s.start, s.end) for s in plan.schedule]
    assert starts[0] == (
        datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 22, 10, tzinfo=timezone.utc),
    )
    assert starts[1][0] == datetime(2026, 12, 1, 22, 15, tzinfo=timezone.utc)  # bake, same window
    assert all(s.window == 0 and not s.out_of_window for s in plan.schedule)
    assert plan.finish_at == datetime(2026, 12, 1, 23, 10, tzinfo=timezone.utc)
    assert plan.min_duration_seconds == 600 + 300 + 1200 + 300 + 1800  # windows never shorten or lengthen it


def test_a_wave_that_cannot_finish_before_the_cutoff_waits_for_the_next_window():
    # 22:00-00:00 with a 30 min cutoff: 90 min of room. Wave 2 (30 min) is ready at 22:45+..., so
    # it fits; make wave 2 too long for what is left and it must move to the next night.
    plan = plan_rollout(
        spec(
            members=[{"id": f"run{i}"} for i in range(8)],
            waves=[1, 2, 5],
            member_seconds=900,
            windows=[{"daily_start": "22:00", "daily_end": "00:00", "cutoff_seconds": 1800}],
        ),
        now=NOW,
    )
    assert plan.valid, plan.problems
    s0, s1, s2 = plan.schedule
    assert s0.start == datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc)
    assert s1.start == datetime(2026, 12, 1, 22, 20, tzinfo=timezone.utc) and s1.end.minute == 50
    # wave 2 needs 75 min; at 22:55 only 35 min are left before the 23:30 cutoff: it does not start
    assert s2.start == datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)
    assert s2.end == datetime(2026, 12, 2, 23, 15, tzinfo=timezone.utc)


def test_a_wave_longer_than_any_window_makes_the_plan_invalid():
    # 6 x 10 min in one wave = 60 min; the window is 60 min but the cutoff takes the last one
    fits = plan_rollout(spec(waves=["100%"], windows=[{"daily_start": "22:00", "daily_end": "23:00"}]), now=NOW)
    assert fits.valid and fits.schedule[0].end == datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc)
    plan = plan_rollout(
        spec(waves=["100%"], windows=[{"daily_start": "22:00", "daily_end": "23:00", "cutoff_seconds": 60}]), now=NOW
    )
    assert not plan.valid and plan.waves == []
    assert plan.problems == [
        (
            "Wave 0 needs 3600 s but no maintenance window within 366 days of 2026-12-01T12:00:00Z leaves that "
            "much time before its cutoff."
        )
    ]


def test_weekdays_and_time_zone_of_a_daily_window():
    # Saturdays 02:00-06:00 in Berlin (UTC+1 in December): the first is 2026-12-05 01:00 UTC
    plan = plan_rollout(
        spec(windows=[{"daily_start": "02:00", "daily_end": "06:00", "days": ["sat"], "timezone": "Europe/Berlin"}]),
        now=NOW,
    )
    assert plan.valid
    assert plan.schedule[0].start == datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


def test_one_off_windows_are_used_in_time_order():
    windows = [
        {"start": "2026-12-03T20:00:00Z", "end": "2026-12-03T23:00:00Z"},
        {"start": "2026-12-02T20:00:00Z", "end": "2026-12-02T20:30:00Z"},
    ]
    plan = plan_rollout(spec(windows=windows), now=NOW)
    assert plan.valid
    first, second, third = plan.schedule
    assert (first.window, first.start) == (1, datetime(2026, 12, 2, 20, 0, tzinfo=timezone.utc))
    # wave 1 (20 min) is ready at 20:15 but only 15 min remain: the next window
    assert (second.window, second.start) == (0, datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc))
    assert third.window == 0


def test_deadline_before_the_next_feasible_window_asks_for_an_out_of_window_approval():
    plan = plan_rollout(
        spec(windows=[{"daily_start": "22:00", "daily_end": "02:00"}], deadline="2026-12-01T18:00:00Z"), now=NOW
    )
    assert plan.valid
    assert plan.needs_out_of_window_approval
    assert plan.out_of_window_reason == (
        "Wave 0 cannot finish inside a maintenance window before the deadline 2026-12-01T18:00:00Z (the next window "
        "where it fits starts at 2026-12-01T22:00:00Z); running waves 0, 1, 2 outside the maintenance windows "
        "needs an out-of-window approval."
    )
    assert all(s.out_of_window and s.window is None for s in plan.schedule)
    assert [w.approval_before for w in plan.waves] == [True, False, False]  # asked before the first one
    assert plan.schedule[0].start == NOW and plan.finish_at <= datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)


def test_a_deadline_met_inside_the_windows_needs_no_approval():
    plan = plan_rollout(
        spec(windows=[{"daily_start": "22:00", "daily_end": "02:00"}], deadline="2026-12-02T01:00:00Z"), now=NOW
    )
    assert plan.valid and not plan.needs_out_of_window_approval and plan.out_of_window_reason is None


def test_a_deadline_that_cannot_be_met_even_out_of_window_makes_the_plan_invalid():
    plan = plan_rollout(spec(deadline="2026-12-01T12:30:00Z"), now=NOW)
    assert not plan.valid and plan.waves == []
    assert plan.problems[0].startswith(
        "Wave 1 would end at 2026-12-01T12:35:00Z, after the deadline 2026-12-01T12:30:00Z"
    )
    assert plan.worst_case_failures == 1  # the figures explain the refusal even though no wave is offered


def test_start_at_and_approval_points_are_carried_into_the_waves():
    start = NOW + timedelta(days=2)
    plan = plan_rollout(
        spec(start_at=start.isoformat(), approval_points=["before_first_wave", "before_promotion"]), now=NOW
    )
    assert plan.schedule[0].start == start
    assert [w.approval_before for w in plan.waves] == [True, True, False]


def test_window_and_deadline_mistakes_are_sentences():
    plan = plan_rollout(
        spec(
            windows=[
                {"daily_start": "22:00"},
                {"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"},
                {"daily_start": "22:00", "daily_end": "23:00", "timezone": "Mars/Olympus"},
                {"daily_start": "22:00", "daily_end": "23:00", "cutoff_seconds": 3600},
                {"daily_start": "25:00", "daily_end": "23:00"},
                {"start": "2026-12-02T00:00:00"},
            ],
        ),
        now=NOW,
    )
    assert not plan.valid
    assert plan.problems == [
        "windows[0]: a daily window needs both daily_start and daily_end.",
        "windows[1]: the window ends at or before it starts.",
        "windows[2]: unknown time zone 'Mars/Olympus'.",
        "windows[3]: the cutoff (3600 s) leaves no time in the window.",
        "windows[4].daily_start: String should match pattern '^([01]\\d|2[0-3]):[0-5]\\d$' (got '25:00').",
        "windows[5].start must carry a time zone, e.g. 2026-12-01T22:00:00Z (got '2026-12-02T00:00:00').",
    ]


def test_members_without_any_duration_cannot_be_checked_against_windows():
    plan = plan_rollout(
        {
            "members": [{"id": "a"}, {"id": "b", "seconds": 60}],
            "waves": [1],
            "windows": [{"daily_start": "22:00", "daily_end": "23:00"}],
        },
        now=NOW,
    )
    assert not plan.valid
    assert plan.problems == [
        (
            "1 member(s) have no duration estimate (no seconds, no duration_history, no member_seconds): a; "
            "the windows and the deadline cannot be checked."
        )
    ]
    unscheduled = plan_rollout({"members": [{"id": "a"}], "waves": [1]}, now=NOW)
    assert unscheduled.valid and unscheduled.min_duration_seconds == 0
    assert "counted as 0 seconds" in unscheduled.notes[0]


def test_a_daily_window_shortened_by_the_spring_dst_change_is_skipped_when_too_short():
    # 01:00-03:00 Europe/Berlin is 2 h, except on 2027-03-28 when clocks jump 02:00 -> 03:00 (1 h)
    plan = plan_rollout(
        {
            "members": [{"id": "a"}],
            "waves": [1],
            "member_seconds": 90 * 60,
            "start_at": "2027-03-27T12:00:00Z",
            "windows": [{"daily_start": "01:00", "daily_end": "03:00", "timezone": "Europe/Berlin"}],
        },
    )
    assert plan.valid
    # not 2027-03-28T00:00Z (a 1 h window that night): the next night, 01:00 CEST = 23:00 UTC
    assert plan.schedule[0].start == datetime(2027, 3, 28, 23, 0, tzinfo=timezone.utc)


def test_duration_estimates_given_per_member_and_their_precedence():
    members = [
        {"id": "own", "seconds": 5, "p90_seconds": 999},
        {"id": "given", "p50_seconds": 100, "p90_seconds": 300},
        {"id": "history", "task": "dag.load"},
        {"id": "only_p50", "p50_seconds": 40},
        {"id": "default"},
    ]
    spec = {
        "members": members,
        "waves": ["100%"],
        "member_seconds": 7,
        "duration_history": {"dag.load": [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]},
    }
    p90 = plan_rollout(spec, now=NOW)
    assert p90.member_seconds == {"own": 5, "given": 300, "history": 90, "only_p50": 40, "default": 7}
    assert "1 member duration(s) use the p50 instead of p90: no p90 was known." in p90.notes
    assert "1 member duration(s) estimated as the p90 of their duration history." in p90.notes
    p50 = plan_rollout(spec | {"duration_percentile": "p50"}, now=NOW)
    assert p50.member_seconds == {"own": 5, "given": 100, "history": 50, "only_p50": 40, "default": 7}
    assert p50.waves[0].seconds == 5 + 100 + 50 + 40 + 7  # one slot: one after another
