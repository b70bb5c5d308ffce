"""Operators set where experts are paid; the details stay sealed at rest."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.db import payees as repo
from cohort_payout.domain.payees import Payee
from cohort_payout.sealing import Sealer
from cohort_runtime.domain_errors import NotFoundError, StateConflict


def require(sealer: Sealer | None) -> Sealer:
    if sealer is None:
        raise StateConflict(
            "payee details cannot be stored or read: COHORT_PAYOUT_PAYEE_KEY is not configured", "payees", "NO_KEY"
        )
    return sealer


async def set_payee(pool: asyncpg.Pool, sealer: Sealer | None, payee: Payee) -> tuple[Payee, dt.datetime]:
    sealer = require(sealer)
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        await repo.upsert(conn, payee, sealer, now)
    return payee, now


async def get_payee(pool: asyncpg.Pool, sealer: Sealer | None, expert_id: str) -> tuple[Payee, dt.datetime]:
    sealer = require(sealer)
    async with pool.acquire() as conn:
        found = await repo.get_many(conn, [expert_id], sealer)
    if expert_id not in found:
        raise NotFoundError("payee", expert_id)
    return found[expert_id]
