"""Closing a bonus period: the rule applied once, its bonuses posted once each."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.db import bonuses as repo
from cohort_payout.db import ledger
from cohort_payout.domain import bonuses
from cohort_payout.domain.bonuses import Award, BonusRule
from cohort_runtime.domain_errors import Conflict


async def close_period(pool: asyncpg.Pool, rule: BonusRule) -> list[Award]:
    now = dt.datetime.now(dt.UTC)
    rule.validate(now)
    async with pool.acquire() as conn, conn.transaction():
        recorded = await repo.record_period(conn, rule, now)
        if recorded != rule:
            raise Conflict(f"bonus period {rule.period_id!r} was already closed with another rule")
        # Decided work is stamped when payout decides it and the period ended before now, so the
        # stats of a closed period never change: a second close computes and posts nothing new.
        awarded = bonuses.awards(rule, await repo.period_stats(conn, rule))
        await ledger.post_many(conn, [bonuses.posting(rule, a) for a in awarded], now)
    return awarded
