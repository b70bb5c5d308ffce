"""Wakes progress watchers when their project's counters change (LISTEN intake_progress).

One listening connection per process fans notifications out to the streams watching each
project. Watchers also re-read on a timeout, so a lost notification only delays an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict

import asyncpg

from cohort_intake.db.progress import CHANNEL


class ProgressHub:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    async def run(self, pool: asyncpg.Pool) -> None:
        """Listen until cancelled."""
        async with pool.acquire() as conn:
            await conn.add_listener(CHANNEL, self._on_notify)
            try:
                await asyncio.Event().wait()
            finally:
                with contextlib.suppress(asyncpg.InterfaceError, OSError):
                    await conn.remove_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        for event in self._waiters.get(payload, ()):
            event.set()

    async def wait(self, project_id: uuid.UUID, seconds: float) -> None:
        """Return when the project changed, or after `seconds`."""
        key = str(project_id)
        event = asyncio.Event()
        self._waiters[key].add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self._waiters[key].discard(event)
            if not self._waiters[key]:
                del self._waiters[key]
