"""The cost of QA's refit pass (every 10 s) finding projects to refit, against a long history
(`make bench-history-scans`), on the local PostgreSQL.

Builds a QA schema with one active preference project and `--finished` completed ones, each with
`--judgments` accepted judgments, then times `stale_projects` (best and median of 5). The schema
is dropped afterwards.
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

from cohort_qa.db import models as repo
from cohort_runtime.testing import migrated_pool

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "qa" / "migrations"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--finished", type=int, default=100)
    parser.add_argument("--judgments", type=int, default=10_000)
    args = parser.parse_args()
    schema = f"bench_stale_{uuid.uuid4().hex[:8]}"
    pool = await migrated_pool(os.environ["COHORT_DATABASE_URL"], schema, service="qa", migrations_dir=MIGRATIONS)
    try:
        async with pool.acquire() as conn:
            for n in range(args.finished + 1):
                pid = uuid.uuid4()
                await conn.execute(
                    """INSERT INTO projects (project_id, lab_id, data_kind, domain, overlap, max_overlap,
                           review_sample_rate, minimum_quality, criteria, rubric_version, instructions_version, state)
                       VALUES ($1, $2, 'preference', 'chemistry', 3, 5, 0, 0, '[]', 1, 1, $3)""",
                    pid,
                    uuid.uuid4(),
                    "active" if n == 0 else "completed",
                )
                await conn.execute(
                    """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold,
                                                active_seconds, submit_time, state, top_choice)
                       SELECT gen_random_uuid(), $1, 't' || (g / 3), 'exp_' || (g % 500), '', false, 10, now(),
                              'accepted', 'a'
                       FROM generate_series(1, $2) g""",
                    pid,
                    args.judgments,
                )
            await conn.execute("ANALYZE")
            judgments = await conn.fetchval("SELECT count(*) FROM submissions")
            times = []
            for _ in range(5):
                started = time.perf_counter()
                stale = await repo.stale_projects(conn, 50)
                times.append((time.perf_counter() - started) * 1000)
        print(f"QA refit pass: {judgments:,} judgments in {args.finished} finished projects and 1 active; "
              f"{len(stale)} to refit; best {min(times):.1f} ms, median {statistics.median(times):.1f} ms")  # fmt: skip
        figures = {"best_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1)}
        print(json.dumps({"bench": "qa_stale_projects", "judgments": judgments, "to_refit": len(stale), **figures}))
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
