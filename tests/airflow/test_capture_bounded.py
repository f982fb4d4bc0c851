"""capture.bounded.run_within: the one time bound of capture (store, triage, the whole capture)."""

from __future__ import annotations

import time

from patchit_provider.capture.bounded import run_within


def test_slow_work_is_abandoned_at_the_bound():
    started = time.monotonic()
    done = run_within(lambda: time.sleep(5), 0.3, "slow")
    assert not done.finished and time.monotonic() - started < 2


def test_errors_come_back_never_raise_even_system_exit():
    def exits():
        raise SystemExit(3)

    done = run_within(exits, 2, "exits")
    assert done.finished and isinstance(done.error, SystemExit)
    done = run_within(lambda: 1 / 0, 2, "fails")
    assert isinstance(done.error, ZeroDivisionError)


def test_a_finished_work_hands_back_its_value():
    done = run_within(lambda: "inc-1", 2, "quick")
    assert done.finished and done.value == "inc-1" and done.error is None
