"""Payees at rest: the bank details sealed (`cohort_payout.sealing`); only the expert id, country,
currency and update time are clear."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.domain.payees import Payee
from cohort_payout.sealing import Sealer


async def upsert(conn: asyncpg.Connection, payee: Payee, sealer: Sealer, now: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO payees (expert_id, country, currency, sealed, update_time) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (expert_id) DO UPDATE SET country = EXCLUDED.country, currency = EXCLUDED.currency,
               sealed = EXCLUDED.sealed, update_time = EXCLUDED.update_time""",
        payee.expert_id,
        payee.country,
        payee.currency,
        sealer.seal(payee),
        now,
    )


async def get_many(
    conn: asyncpg.Connection, expert_ids: list[str], sealer: Sealer
) -> dict[str, tuple[Payee, dt.datetime]]:
    rows = await conn.fetch("SELECT * FROM payees WHERE expert_id = ANY($1::text[])", expert_ids)
    return {
        r["expert_id"]: (
            sealer.open(r["expert_id"], r["country"], r["currency"].strip(), r["sealed"]),
            r["update_time"],
        )
        for r in rows
    }
