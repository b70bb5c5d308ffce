"""Payout runs and payouts."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_payout.domain.runs import Run


def _run(r: asyncpg.Record, count: int = 0, total: int = 0) -> Run:
    return Run(
        r["run_id"],
        r["request_id"],
        r["currency"].strip(),
        r["cutoff"],
        r["min_amount"],
        r["state"],
        r["complete_time"],
        count,
        total,
    )


async def by_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> Run | None:
    r = await conn.fetchrow("SELECT * FROM payout_runs WHERE request_id = $1", request_id)
    return _run(r) if r else None


async def latest(conn: asyncpg.Connection, currency: str) -> Run | None:
    r = await conn.fetchrow("SELECT * FROM payout_runs WHERE currency = $1 ORDER BY create_time DESC LIMIT 1", currency)
    return _run(r) if r else None


async def insert(conn: asyncpg.Connection, run: Run, now: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO payout_runs (run_id, request_id, currency, cutoff, min_amount, state, create_time)
           VALUES ($1, $2, $3, $4, $5, 'running', $6)""",
        run.run_id,
        run.request_id,
        run.currency,
        run.cutoff,
        run.min_amount,
        now,
    )


async def get(conn: asyncpg.Connection, run_id: uuid.UUID) -> Run | None:
    r = await conn.fetchrow("SELECT * FROM payout_runs WHERE run_id = $1", run_id)
    if r is None:
        return None
    totals = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM payouts WHERE run_id = $1", run_id
    )
    return _run(r, totals["n"], int(totals["total"]))


async def page(
    conn: asyncpg.Connection, currency: str | None, before: tuple[dt.datetime, uuid.UUID] | None, size: int
) -> list[Run]:
    """Up to size + 1 runs (the extra one says a next page exists) by cut-off, newest first, with
    their totals; `before` is the (cutoff, run_id) of the last run of the previous page."""
    rows = await conn.fetch(
        """SELECT r.*, t.n, t.total FROM payout_runs r
           CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total
                               FROM payouts p WHERE p.run_id = r.run_id) t
           WHERE ($1::text IS NULL OR r.currency = $1)
             AND ($2::timestamptz IS NULL OR (r.cutoff, r.run_id) < ($2, $3::uuid))
           ORDER BY r.cutoff DESC, r.run_id DESC LIMIT $4""",
        currency,
        before and before[0],
        before and before[1],
        size + 1,
    )
    return [_run(r, r["n"], int(r["total"])) for r in rows]


async def running(conn: asyncpg.Connection) -> list[uuid.UUID]:
    return [r["run_id"] for r in await conn.fetch("SELECT run_id FROM payout_runs WHERE state = 'running'")]


async def select_candidates(conn: asyncpg.Connection, run: Run) -> int:
    """Fix who the run pays: experts owed at least the minimum at the cut-off. The balance at the
    cut-off is the account's balance (the materialised sum of its entries) minus what was posted
    after the cut-off: the cost follows the experts and the few late entries, not the history."""
    status: str = await conn.execute(
        """WITH later AS (
               SELECT e.account_id, sum(e.amount) AS amount
               FROM transactions t JOIN entries e ON e.transaction_id = t.transaction_id
               WHERE t.post_time > $2 GROUP BY e.account_id)
           INSERT INTO run_candidates (run_id, expert_id, amount)
           SELECT $4, split_part(a.name, ':', 2), -(a.balance - coalesce(l.amount, 0))
           FROM accounts a LEFT JOIN later l ON l.account_id = a.account_id
           WHERE a.name LIKE 'expert:%:payable' AND a.currency = $1
             AND -(a.balance - coalesce(l.amount, 0)) >= $3""",
        run.currency,
        run.cutoff,
        run.min_amount,
        run.run_id,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def unpaid_candidates(
    conn: asyncpg.Connection, run_id: uuid.UUID, after_expert: str, limit: int
) -> list[tuple[str, int]]:
    rows = await conn.fetch(
        """SELECT c.expert_id, c.amount FROM run_candidates c
           WHERE c.run_id = $1 AND c.expert_id > $2
             AND NOT EXISTS (SELECT 1 FROM payouts p WHERE p.run_id = c.run_id AND p.expert_id = c.expert_id)
           ORDER BY c.expert_id LIMIT $3""",
        run_id,
        after_expert,
        limit,
    )
    return [(r["expert_id"], int(r["amount"])) for r in rows]


async def insert_payouts(conn: asyncpg.Connection, run_id: uuid.UUID, payouts: list[tuple[str, int]]) -> None:
    await conn.execute(
        """INSERT INTO payouts (run_id, expert_id, amount, state)
           SELECT $1, e, a, 'in_transit' FROM unnest($2::text[], $3::bigint[]) AS x(e, a)
           ON CONFLICT DO NOTHING""",
        run_id,
        [e for e, _ in payouts],
        [a for _, a in payouts],
    )


async def complete(conn: asyncpg.Connection, run_id: uuid.UUID, now: dt.datetime) -> None:
    await conn.execute(
        "UPDATE payout_runs SET state = 'completed', complete_time = $2 WHERE run_id = $1 AND state = 'running'",
        run_id,
        now,
    )


async def lock_payout(conn: asyncpg.Connection, run_id: uuid.UUID, expert_id: str) -> tuple[int, str] | None:
    r = await conn.fetchrow(
        "SELECT amount, state FROM payouts WHERE run_id = $1 AND expert_id = $2 FOR UPDATE", run_id, expert_id
    )
    return (r["amount"], r["state"]) if r else None


async def set_payout_state(
    conn: asyncpg.Connection, run_id: uuid.UUID, expert_id: str, state: str, reason: str
) -> None:
    await conn.execute(
        "UPDATE payouts SET state = $3, reason = $4 WHERE run_id = $1 AND expert_id = $2",
        run_id,
        expert_id,
        state,
        reason,
    )


async def in_transit(conn: asyncpg.Connection, run_id: uuid.UUID) -> list[tuple[str, int]]:
    rows = await conn.fetch(
        "SELECT expert_id, amount FROM payouts WHERE run_id = $1 AND state = 'in_transit' ORDER BY expert_id", run_id
    )
    return [(r["expert_id"], r["amount"]) for r in rows]
