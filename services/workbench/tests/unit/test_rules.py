"""The workbench's own rules: passwords, session expiry, sign-in throttling."""

from __future__ import annotations

import datetime as dt

from cohort_workbench.domain.passwords import password_problems
from cohort_workbench.domain.sessions import SessionPolicy
from cohort_workbench.domain.throttle import ThrottlePolicy

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_passwords_need_length_and_unguessability() -> None:
    assert password_problems("short", []) == ["Use at least 10 characters."]
    assert password_problems("password123", []), "a top common password"
    assert password_problems("ann.smith.2026", ["ann.smith"]), "the sign-in name counts as known"
    assert password_problems("quiet-harbour-lantern-47", ["ann"]) == []
    assert password_problems("x" * 300, []) == ["Use at most 256 characters."]


def test_sessions_expire_when_idle_and_at_their_absolute_end() -> None:
    policy = SessionPolicy(idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=2))
    idle, absolute = policy.new(T0)
    assert (idle, absolute) == (T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=2))
    assert policy.is_live(idle, absolute, T0 + dt.timedelta(minutes=29))
    assert not policy.is_live(idle, absolute, T0 + dt.timedelta(minutes=30))
    # Use moves the idle expiry, never past the absolute one, and not for a few seconds' difference.
    assert policy.touched(idle, absolute, T0 + dt.timedelta(seconds=10)) is None
    moved = policy.touched(idle, absolute, T0 + dt.timedelta(minutes=20))
    assert moved == T0 + dt.timedelta(minutes=50)
    assert policy.touched(T0 + dt.timedelta(seconds=7170), absolute, T0 + dt.timedelta(minutes=110)) is None
    assert policy.touched(T0 + dt.timedelta(minutes=100), absolute, T0 + dt.timedelta(minutes=110)) == absolute


def test_throttle_locks_after_the_limit_within_the_window_only() -> None:
    policy = ThrottlePolicy(limit=3, window=dt.timedelta(minutes=15), lockout=dt.timedelta(minutes=10))
    count = None
    for minute in range(3):
        count = policy.after_failure(count, T0 + dt.timedelta(minutes=minute))
    assert count is not None and count.failures == 3
    assert policy.locked_until(count, T0 + dt.timedelta(minutes=5)) == T0 + dt.timedelta(minutes=12)
    assert policy.locked_until(count, T0 + dt.timedelta(minutes=12)) is None, "the lockout ends"
    spread = None
    for minute in (0, 10, 20):  # the third failure falls in a new window
        spread = policy.after_failure(spread, T0 + dt.timedelta(minutes=minute))
    assert spread is not None and spread.failures == 1 and spread.locked_until is None
