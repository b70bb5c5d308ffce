"""Keeping tasking's copy of labs current from intake's events."""

from __future__ import annotations

import asyncpg

from cohort_tasking.db import labs as repo
from cohort_tasking.domain.labs import KnownLab


async def record_lab(conn: asyncpg.Connection, lab: KnownLab) -> None:
    """Runs inside the inbox transaction of the LabCreated event."""
    await repo.upsert(conn, lab)
