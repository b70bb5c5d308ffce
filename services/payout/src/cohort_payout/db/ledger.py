"""Posting to the ledger: one transaction row, its entries, and the materialised balances."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.domain.ledger import Posting


async def post(conn: asyncpg.Connection, posting: Posting, now: dt.datetime) -> bool:
    """Record the posting once; False (and nothing written) if its idempotency key was posted."""
    return bool(await post_many(conn, [posting], now))


async def post_many(conn: asyncpg.Connection, postings: list[Posting], now: dt.datetime) -> int:
    """Record each posting whose key is new, in four statements whatever their number; returns how
    many were new. Balances move in the same transaction as their entries."""
    if not postings:
        return 0
    inserted = await conn.fetch(
        """INSERT INTO transactions (idempotency_key, kind, post_time)
           SELECT k, kind, $3 FROM unnest($1::text[], $2::text[]) AS t(k, kind)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING transaction_id, idempotency_key""",
        [p.idempotency_key for p in postings],
        [p.kind for p in postings],
        now,
    )
    new = {r["idempotency_key"]: r["transaction_id"] for r in inserted}
    entries = [(new[p.idempotency_key], e) for p in postings if p.idempotency_key in new for e in p.entries if e.amount]
    if not entries:
        return len(new)
    # Accounts in a fixed order: concurrent postings touching the same accounts never deadlock.
    names = sorted({(e.account, e.currency) for _, e in entries})
    rows = await conn.fetch(
        """INSERT INTO accounts (name, currency) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (name, currency) DO UPDATE SET name = EXCLUDED.name
           RETURNING account_id, name, currency""",
        [n for n, _ in names],
        [c for _, c in names],
    )
    ids = {(r["name"], r["currency"].strip()): r["account_id"] for r in rows}
    await conn.execute(
        """INSERT INTO entries (transaction_id, account_id, amount)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])""",
        [t for t, _ in entries],
        [ids[(e.account, e.currency)] for _, e in entries],
        [e.amount for _, e in entries],
    )
    await conn.execute(
        """UPDATE accounts a SET balance = a.balance + d.delta
           FROM (SELECT id, sum(amount) AS delta FROM unnest($1::bigint[], $2::bigint[]) AS x(id, amount) GROUP BY id) d
           WHERE a.account_id = d.id""",
        [ids[(e.account, e.currency)] for _, e in entries],
        [e.amount for _, e in entries],
    )
    return len(new)


async def balance(conn: asyncpg.Connection, account: str, currency: str) -> int:
    value = await conn.fetchval("SELECT balance FROM accounts WHERE name = $1 AND currency = $2", account, currency)
    return int(value or 0)


async def balances(conn: asyncpg.Connection, accounts: list[str], currency: str) -> list[int]:
    """Balances of several accounts at once, in the order asked (0 for an account never used)."""
    rows = await conn.fetch(
        "SELECT name, balance FROM accounts WHERE name = ANY($1::text[]) AND currency = $2", accounts, currency
    )
    found = {r["name"]: int(r["balance"]) for r in rows}
    return [found.get(a, 0) for a in accounts]


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
