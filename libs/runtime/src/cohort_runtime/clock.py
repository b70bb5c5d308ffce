"""The time services read, injectable so that tests move it instead of sleeping.

Application code takes a `Clock` (the system clock in production); tests pass a `ManualClock`
and advance it past a lease's end, say, rather than waiting for the wall clock. Standard library
only, so domain and application modules may import it.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


SYSTEM_CLOCK: Clock = SystemClock()


class ManualClock:
    """A clock that stands still until told to move; for tests and simulations."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime.now(dt.UTC)
        if start.tzinfo is None:
            raise ValueError("a ManualClock needs a timezone-aware start")
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move forward by `seconds` (never backward) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backward")
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now
