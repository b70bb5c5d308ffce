"""The cost of tasking's gold-exposure gauges (refreshed every 15 s on every replica) against a
large work history (`make bench-history-scans`), on the local PostgreSQL.

Builds a tasking schema with `--projects` active projects of `--tasks` tasks (1 % gold) and
`--experts` experts who each held `--held` of each project's tasks, then times the gauges' query
(best and median of 5) and prints its plan's top. The schema is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from pathlib import Path

from cohort_runtime.testing import migrated_pool
from cohort_tasking.metrics import GOLD_EXPOSURE

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "tasking" / "migrations"


async def build(conn, projects: int, tasks: int, experts: int, held: int) -> int:  # type: ignore[no-untyped-def]
    for _ in range(projects):
        pid = uuid.uuid4()
        await conn.execute(
            """INSERT INTO projects (project_id, lab_id, state, activated, update_time)
               VALUES ($1, $2, 'active', '', now())""",
            pid,
            uuid.uuid4(),
        )
        await conn.execute(
            """INSERT INTO tasks (project_id, task_id, input, is_gold, is_screening)
               SELECT $1, 't' || g, '', g % 100 = 0, false FROM generate_series(1, $2) g""",
            pid,
            tasks,
        )
        # Each expert holds `held` tasks spread over the project (a fixed pseudo-random walk).
        await conn.execute(
            """INSERT INTO expert_tasks (expert_id, project_id, task_id, is_gold)
               SELECT 'exp_' || e, $1, 't' || n, n % 100 = 0
               FROM generate_series(1, $2) e, generate_series(1, $3) k,
                    LATERAL (SELECT 1 + ((e * 7919 + k * 104729) % $4) AS n) x
               ON CONFLICT DO NOTHING""",
            pid,
            experts,
            held,
            tasks,
        )
    await conn.execute(
        """INSERT INTO expert_project_counts (expert_id, project_id, submissions)
           SELECT expert_id, project_id, count(*) FROM expert_tasks GROUP BY 1, 2"""
    )
    await conn.execute("ANALYZE")
    count: int = await conn.fetchval("SELECT count(*) FROM expert_tasks")
    return count


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=40_000)
    parser.add_argument("--experts", type=int, default=600)
    parser.add_argument("--held", type=int, default=200)
    args = parser.parse_args()
    schema = f"bench_gold_{uuid.uuid4().hex[:8]}"
    pool = await migrated_pool(os.environ["COHORT_DATABASE_URL"], schema, service="tasking", migrations_dir=MIGRATIONS)
    try:
        async with pool.acquire() as conn:
            rows = await build(conn, args.projects, args.tasks, args.experts, args.held)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                await conn.fetch(GOLD_EXPOSURE)
                times.append((time.perf_counter() - started) * 1000)
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + GOLD_EXPOSURE)
        print("\n".join(r[0] for r in plan[:8]))
        print(f"gold-exposure gauges: {rows:,} expert_tasks rows, best {min(times):.1f} ms, "
              f"median {statistics.median(times):.1f} ms per refresh")  # fmt: skip
        print(json.dumps({"bench": "tasking_gold_gauges", "expert_tasks": rows, "best_ms": round(min(times), 1),
                          "median_ms": round(statistics.median(times), 1), **vars(args)}))  # fmt: skip
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
