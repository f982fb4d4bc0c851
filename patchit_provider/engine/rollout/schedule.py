"""Waves against maintenance windows, the cutoff and the deadline.

Rules (AWS SSM's, stated in the contract): a wave starts only inside a window and only if it
can finish `cutoff_seconds` before that window ends; otherwise it waits for the next window
where it fits. Waves run one after another with `bake_seconds` between them; approvals are
assumed answered at once (a pause only moves the schedule later). When the next window where a
wave fits would end it after the deadline, the wave is scheduled at once, outside any window,
and the plan asks for an out-of-window approval rather than waiting silently past the deadline.
If even that misses the deadline, the plan is invalid.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from patchit_provider.engine.models import MaintenanceWindow, ScheduledWave

HORIZON = timedelta(days=366)  # how far ahead a window is searched for
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def occurrences(window: MaintenanceWindow, after: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) in UTC of the window's openings that end after `after` and start before
    `until`, in time order."""
    if window.start is not None and window.end is not None:
        if window.end > after and window.start < until:
            yield window.start.astimezone(timezone.utc), window.end.astimezone(timezone.utc)
        return
    if window.daily_start is None or window.daily_end is None:
        return
    zone = ZoneInfo(window.timezone)
    opens, closes = _hhmm(window.daily_start), _hhmm(window.daily_end)
    days = {WEEKDAYS.index(d.value) for d in window.days} or set(range(7))
    day: date = after.astimezone(zone).date() - timedelta(days=1)  # a window that opened yesterday may still be open
    last = until.astimezone(zone).date()
    while day <= last:
        if day.weekday() in days:
            start = datetime.combine(day, opens, zone)
            end = datetime.combine(day + timedelta(days=1) if closes <= opens else day, closes, zone)
            start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
            if end > after and start < until:
                yield start, end
        day += timedelta(days=1)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def next_fit(windows: Sequence[MaintenanceWindow], ready: datetime, seconds: int) -> tuple[datetime, int] | None:
    """The earliest (start, window index) at or after `ready` where a wave of `seconds` finishes
    before that window's cutoff; None when no window within HORIZON can hold it."""
    best: tuple[datetime, int] | None = None
    length = timedelta(seconds=seconds)
    for index, window in enumerate(windows):
        cutoff = timedelta(seconds=window.cutoff_seconds)
        for start, end in occurrences(window, ready, ready + HORIZON):
            if best is not None and start >= best[0]:
                break
            begin = max(start, ready)
            if begin + length <= end - cutoff:
                if best is None or begin < best[0]:
                    best = (begin, index)
                break
    return best


@dataclass
class Schedule:
    waves: list[ScheduledWave] = field(default_factory=list)
    finish: datetime | None = None
    problems: list[str] = field(default_factory=list)
    outside: list[int] = field(default_factory=list)  # waves scheduled outside every window
    first_reason: str = ""  # why the first of them cannot wait for a window

    @property
    def out_of_window_reason(self) -> str | None:
        if not self.outside:
            return None
        waves = ", ".join(str(i) for i in self.outside)
        return (
            f"{self.first_reason}; running wave{'s' if len(self.outside) > 1 else ''} {waves} outside the "
            "maintenance windows needs an out-of-window approval."
        )


def schedule_waves(
    wave_seconds: Sequence[int],
    bake_seconds: int,
    start: datetime,
    windows: Sequence[MaintenanceWindow],
    deadline: datetime | None,
) -> Schedule:
    result = Schedule()
    ready = start
    for index, seconds in enumerate(wave_seconds):
        if index:
            ready += timedelta(seconds=bake_seconds)
        length = timedelta(seconds=seconds)
        window: int | None = None
        outside = False
        if not windows:
            begin = ready
        else:
            fit = next_fit(windows, ready, seconds)
            if fit is not None and (deadline is None or fit[0] + length <= deadline):
                begin, window = fit
            elif deadline is None:
                result.problems.append(
                    f"Wave {index} needs {seconds} s but no maintenance window within {HORIZON.days} days of "
                    f"{_iso(ready)} leaves that much time before its cutoff."
                )
                return result
            else:
                begin, outside = ready, True
                where = (
                    f"the next window where it fits starts at {_iso(fit[0])}"
                    if fit
                    else (f"no window within {HORIZON.days} days can hold it")
                )
                if not result.outside:
                    result.first_reason = (
                        f"Wave {index} cannot finish inside a maintenance window before the deadline "
                        f"{_iso(deadline)} ({where})"
                    )
                result.outside.append(index)
        end = begin + length
        if deadline is not None and end > deadline:
            result.problems.append(
                f"Wave {index} would end at {_iso(end)}, after the deadline {_iso(deadline)}, even started as soon "
                f"as it may ({_iso(begin)}): the plan cannot finish in time (fewer waves, more concurrency, less "
                "bake time or a later deadline would help)."
            )
            return result
        result.waves.append(ScheduledWave(index=index, start=begin, end=end, window=window, out_of_window=outside))
        ready = end
    result.finish = ready
    return result


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
