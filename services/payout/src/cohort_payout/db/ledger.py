"""Posting to the ledger: one transaction row, its entries, and the materialised balances."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.domain.ledger import Posting


async def post(conn: asyncpg.Connection, posting: Posting, now: dt.datetime) -> bool:
    """Record the posting once; False (and nothing written) if its idempotency key was posted."""
    transaction_id = await conn.fetchval(
        """INSERT INTO transactions (idempotency_key, kind, post_time) VALUES ($1, $2, $3)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING transaction_id""",
        posting.idempotency_key,
        posting.kind,
        now,
    )
    if transaction_id is None:
        return False
    entries = [e for e in posting.entries if e.amount != 0]
    if not entries:
        return True
    # Accounts in a fixed order: two postings touching the same accounts never deadlock.
    entries.sort(key=lambda e: (e.account, e.currency))
    rows = await conn.fetch(
        """INSERT INTO accounts (name, currency) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (name, currency) DO UPDATE SET name = EXCLUDED.name
           RETURNING account_id, name, currency""",
        [e.account for e in entries],
        [e.currency for e in entries],
    )
    ids = {(r["name"], r["currency"].strip()): r["account_id"] for r in rows}
    await conn.executemany(
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES ($1, $2, $3)",
        [(transaction_id, ids[(e.account, e.currency)], e.amount) for e in entries],
    )
    await conn.executemany(
        "UPDATE accounts SET balance = balance + $2 WHERE account_id = $1",
        [(ids[(e.account, e.currency)], e.amount) for e in entries],
    )
    return True


async def balance(conn: asyncpg.Connection, account: str, currency: str) -> int:
    value = await conn.fetchval("SELECT balance FROM accounts WHERE name = $1 AND currency = $2", account, currency)
    return int(value or 0)


async def unbalanced_transactions(conn: asyncpg.Connection) -> int:
    """Transactions whose entries do not sum to zero per currency (must always be 0)."""
    value = await conn.fetchval(
        """SELECT count(*) FROM (
             SELECT e.transaction_id FROM entries e JOIN accounts a USING (account_id)
             GROUP BY e.transaction_id, a.currency HAVING sum(e.amount) <> 0) bad"""
    )
    return int(value)


async def drifted_balances(conn: asyncpg.Connection) -> int:
    """Accounts whose materialised balance differs from the sum of their entries (must be 0)."""
    value = await conn.fetchval(
        """SELECT count(*) FROM accounts a
           WHERE a.balance <> coalesce((SELECT sum(amount) FROM entries e WHERE e.account_id = a.account_id), 0)"""
    )
    return int(value)
