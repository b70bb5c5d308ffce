"""Lease arithmetic: expiry and tracked active time."""

from __future__ import annotations

import datetime as dt


def active_seconds_after_beat(
    active_seconds: int, last_beat: dt.datetime, now: dt.datetime, lease: dt.timedelta, cap_seconds: int
) -> int:
    """Active time grows by the time since the last beat, but by at most one lease (a gap longer
    than a lease was not work) and never beyond the per-task cap (0: no cap)."""
    gained = min(max((now - last_beat).total_seconds(), 0.0), lease.total_seconds())
    total = active_seconds + int(gained)
    return min(total, cap_seconds) if cap_seconds else total
