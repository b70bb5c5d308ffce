"""Payout-run time for N experts (`make bench-payout`), against the local PostgreSQL.

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
    args = parser.parse_args()
    dsn = os.environ["COHORT_DATABASE_URL"]
    schema = f"bench_payout_{uuid.uuid4().hex[:8]}"
    pool = await migrated_pool(
        dsn, schema, service="payout", migrations_dir=PayoutSettings.model_fields["migrations_dir"].default
    )
    try:
        t0 = time.perf_counter()
        earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
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
        done = await runs.execute(pool, run_id)
        took = time.perf_counter() - t0
        print(
            f"payout run: {done.payout_count:,} payouts ({done.total:,} minor units) in {took:.1f} s = "
            f"{done.payout_count / took:,.0f} payouts/s ({done.state})"
        )
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
