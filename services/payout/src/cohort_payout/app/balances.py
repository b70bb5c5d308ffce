"""An expert's own money: balances per currency and the statement lines behind them."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.db import statements


async def balances(pool: asyncpg.Pool, expert_id: str) -> dict[str, dict[str, int]]:
    async with pool.acquire() as conn:
        return await statements.balances(conn, expert_id)


async def statement_page(
    pool: asyncpg.Pool, expert_id: str, before: tuple[dt.datetime, int] | None, limit: int
) -> list[statements.StatementLine]:
    """Newest first, strictly before the keyset position `before` when given."""
    async with pool.acquire() as conn:
        return await statements.lines(conn, expert_id, before, limit)
