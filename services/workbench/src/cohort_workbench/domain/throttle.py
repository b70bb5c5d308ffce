"""Sign-in throttling: a fixed window of failures per key, then a lockout.

Keys are an account ("account:<name>") or a client address ("address:<ip>"); each has its own
limit. A correct password while locked is still refused, so guessing cannot continue through a
lockout, and the message says when to try again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureCount:
    failures: int
    window_start: dt.datetime
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class ThrottlePolicy:
    limit: int
    window: dt.timedelta
    lockout: dt.timedelta

    def locked_until(self, count: FailureCount | None, now: dt.datetime) -> dt.datetime | None:
        if count is None or count.locked_until is None or count.locked_until <= now:
            return None
        return count.locked_until

    def after_failure(self, count: FailureCount | None, now: dt.datetime) -> FailureCount:
        if count is None or now - count.window_start >= self.window:
            count = FailureCount(0, now, None)
        failures = count.failures + 1
        locked = now + self.lockout if failures >= self.limit else count.locked_until
        return FailureCount(failures, count.window_start, locked)
