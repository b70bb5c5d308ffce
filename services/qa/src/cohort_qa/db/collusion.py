"""Suspected colluding pairs, recorded for review."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_qa.domain.collusion import SuspectPair


async def record(
    conn: asyncpg.Connection, project_id: uuid.UUID, suspects: list[SuspectPair], now: dt.datetime
) -> None:
    """Each pair once per project (the first flag is kept)."""
    await conn.executemany(
        """INSERT INTO collusion_flags (project_id, expert_a, expert_b, shared, agreed, expected, p_value, flagged_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
        [(project_id, *s.experts, s.shared, s.agreed, s.expected, s.p_value, now) for s in suspects],
    )
