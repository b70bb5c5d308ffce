"""Payout-run time for N experts (`make bench-payout`), against the local PostgreSQL.

`--history K`: first a ledger with a past, K earlier postings per expert that net to zero, so that
what grows with the ledger's age shows (candidates fixed at the cut-off are timed apart).

Set-up: N experts' payable balances posted straight through the ledger code (one posting each,
as accepted work would make them) into a schema of the benchmark's own. Then one payout run is
executed by the real code path and timed. Prints seconds and payouts/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid

from cohort_payout.app import runs
from cohort_payout.config import PayoutSettings
from cohort_payout.db import ledger
from cohort_payout.db import runs as repo
from cohort_payout.domain.ledger import expert_account, move
from cohort_runtime.testing import migrated_pool


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experts", type=int, default=100_000)
    parser.add_argument(
        "--history", type=int, default=0, help="earlier postings per expert (a ledger with a past), before the seed"
    )
    args = parser.parse_args()
    dsn = os.environ["COHORT_DATABASE_URL"]
    schema = f"bench_payout_{uuid.uuid4().hex[:8]}"
    pool = await migrated_pool(
        dsn, schema, service="payout", migrations_dir=PayoutSettings.model_fields["migrations_dir"].default
    )
    try:
        earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        if args.history:
            await _history(pool, args.experts, args.history, earlier - dt.timedelta(days=1))
        t0 = time.perf_counter()
        for start in range(0, args.experts, 5000):
            async with pool.acquire() as c, c.transaction():
                seeds = [
                    move(
                        f"seed:{i}",
                        "seed",
                        "EUR",
                        1000 + i % 500,
                        "project:bench:spend",
                        expert_account(f"exp_bench{i:07d}", "payable"),
                    )
                    for i in range(start, min(start + 5000, args.experts))
                ]
                await ledger.post_many(c, seeds, earlier)
        print(f"set-up: {args.experts:,} payable balances posted in {time.perf_counter() - t0:.1f} s")
        run_id = uuid.uuid4()
        t0 = time.perf_counter()
        async with pool.acquire() as c, c.transaction():
            run = repo.Run(run_id, uuid.uuid4(), "EUR", dt.datetime.now(dt.UTC), 100, "running", None)
            await repo.insert(c, run, dt.datetime.now(dt.UTC))
            await repo.select_candidates(c, run)
        selected = time.perf_counter() - t0
        done = await runs.execute(pool, run_id)
        took = time.perf_counter() - t0
        print(
            f"payout run: {done.payout_count:,} payouts ({done.total:,} minor units) in {took:.1f} s = "
            f"{done.payout_count / took:,.0f} payouts/s ({done.state}); candidates fixed in {selected:.2f} s"
        )
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def _history(pool, experts: int, per_expert: int, when: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """A ledger with a past: per expert, `per_expert` postings (rounded up to even) alternately
    crediting and debiting 1.00 against the project, so balances stay as the seed leaves them (the
    materialised balances, 0 here, still equal the sums of entries) while the entries pile up."""
    t0 = time.perf_counter()
    per_expert += per_expert % 2
    async with pool.acquire() as c, c.transaction():
        await c.execute(
            """INSERT INTO accounts (name, currency)
               SELECT format('expert:exp_bench%s:payable', lpad(i::text, 7, '0')), 'EUR'
               FROM generate_series(0, $1 - 1) i
               UNION ALL SELECT 'project:bench:spend', 'EUR'""",
            experts,
        )
        await c.execute(
            """CREATE TEMP TABLE history ON COMMIT DROP AS
               SELECT a.account_id, CASE WHEN k % 2 = 0 THEN 100 ELSE -100 END AS amount,
                      format('history:%s:%s', a.account_id, k) AS key
               FROM accounts a, generate_series(1, $1) k WHERE a.name LIKE 'expert:exp_bench%'""",
            per_expert,
        )
        await c.execute(
            "INSERT INTO transactions (idempotency_key, kind, post_time) SELECT key, 'history', $1 FROM history", when
        )
        await c.execute(
            """INSERT INTO entries (transaction_id, account_id, amount)
               SELECT t.transaction_id, h.account_id, h.amount
               FROM history h JOIN transactions t ON t.idempotency_key = h.key
               UNION ALL
               SELECT t.transaction_id, p.account_id, -h.amount
               FROM history h JOIN transactions t ON t.idempotency_key = h.key
               JOIN accounts p ON p.name = 'project:bench:spend'"""
        )
    async with pool.acquire() as c:
        await c.execute("ANALYZE")
        entries = await c.fetchval("SELECT count(*) FROM entries")
    took = time.perf_counter() - t0
    print(f"history: {entries:,} entries ({per_expert} postings per expert, netting to zero) in {took:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
