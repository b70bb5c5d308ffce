"""What an expert reads of their own verdicts."""

from __future__ import annotations

import asyncpg

from cohort_qa.db import verdicts as repo

# The api maps these rows without reaching into storage.
VerdictRow = repo.VerdictRow


async def page_for_expert(pool: asyncpg.Pool, expert_id: str, before: int | None, limit: int) -> list[VerdictRow]:
    """The expert's verdicts, newest first, older than the page position `before` when given."""
    async with pool.acquire() as conn:
        return await repo.page_for_expert(conn, expert_id, before, limit)
