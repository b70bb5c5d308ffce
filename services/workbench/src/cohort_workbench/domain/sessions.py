"""Session lifetime: an idle expiry that moves with use, under an absolute one that never does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    absolute: dt.timedelta
    # A session's idle expiry is written back at most this often: a page view that moves it by
    # less than this is not worth a database write.
    touch_every: dt.timedelta = dt.timedelta(minutes=1)

    def new(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """(idle expiry, absolute expiry) of a session made now."""
        return min(now + self.idle, now + self.absolute), now + self.absolute

    def is_live(self, idle_expire: dt.datetime, expire: dt.datetime, now: dt.datetime) -> bool:
        return now < idle_expire and now < expire

    def touched(self, idle_expire: dt.datetime, expire: dt.datetime, now: dt.datetime) -> dt.datetime | None:
        """The new idle expiry after a use at `now`, or None when it need not be written."""
        moved = min(now + self.idle, expire)
        return moved if moved - idle_expire >= self.touch_every else None
