"""The known_labs table."""

from __future__ import annotations

import asyncpg

from cohort_tasking.domain.labs import KnownLab


async def upsert(conn: asyncpg.Connection, lab: KnownLab) -> None:
    await conn.execute(
        """INSERT INTO known_labs (lab_id, display_name, create_time) VALUES ($1, $2, $3)
           ON CONFLICT (lab_id) DO UPDATE SET display_name = EXCLUDED.display_name""",
        lab.lab_id,
        lab.display_name,
        lab.create_time,
    )
