"""An expert's balances and statement lines, read from their own accounts only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

BUCKETS = ("pending", "payable", "in_transit", "paid")


async def balances(conn: asyncpg.Connection, expert_id: str) -> dict[str, dict[str, int]]:
    """currency -> bucket -> amount owed (credit balances shown as positive)."""
    rows = await conn.fetch(
        "SELECT name, currency, balance FROM accounts WHERE name = ANY($1::text[])",
        [f"expert:{expert_id}:{b}" for b in BUCKETS],
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        bucket = r["name"].rsplit(":", 1)[1]
        out.setdefault(r["currency"].strip(), dict.fromkeys(BUCKETS, 0))[bucket] = -int(r["balance"])
    return out


@dataclass(frozen=True)
class StatementLine:
    """One leg of a posting on one of the expert's accounts, as the expert sees it: `amount_minor`
    is positive when money moved into the bucket."""

    transaction_id: int
    kind: str
    post_time: dt.datetime
    bucket: str
    currency: str
    amount_minor: int


async def lines(
    conn: asyncpg.Connection, expert_id: str, before: tuple[dt.datetime, int] | None, limit: int
) -> list[StatementLine]:
    rows = await conn.fetch(
        """SELECT t.transaction_id, t.kind, t.post_time, a.name, a.currency, e.amount
           FROM accounts a
           JOIN entries e ON e.account_id = a.account_id
           JOIN transactions t ON t.transaction_id = e.transaction_id
           WHERE a.name = ANY($1::text[])
             AND ($2::timestamptz IS NULL OR (t.post_time, t.transaction_id) < ($2, $3))
           ORDER BY t.post_time DESC, t.transaction_id DESC, a.name
           LIMIT $4""",
        [f"expert:{expert_id}:{b}" for b in BUCKETS],
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [
        StatementLine(
            transaction_id=r["transaction_id"],
            kind=r["kind"],
            post_time=r["post_time"],
            bucket=r["name"].rsplit(":", 1)[1],
            currency=r["currency"].strip(),
            amount_minor=-int(r["amount"]),
        )
        for r in rows
    ]
