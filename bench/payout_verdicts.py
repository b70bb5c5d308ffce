"""Verdict postings per second through payout's consumer (`make bench-verdicts`).

Publishes, as tasking and QA would, N SubmissionCreated then N SubmissionAccepted events for one
project (after its ProjectActivated) to the running stack's topics, and times how long payout takes
until all N earnings are accepted in its ledger (pending + accepted postings, inbox claims,
outbox spend events). Prints accepted postings/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from cohort.events.v1 import submissions_pb2, verdicts_pb2
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.kafka import make_producer

sys.path.insert(0, str(Path(__file__).parent))
from tasking_acquire import activated

# The stack may run with a topic namespace (COHORT_TOPIC_PREFIX); publish into the same one.
PREFIX = os.environ.get("COHORT_TOPIC_PREFIX", "")


def headers(kind: str) -> list[tuple[str, bytes]]:
    return EventAttributes(str(uuid.uuid4()), kind, "/bench", dt.datetime.now(dt.UTC)).to_headers()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=20_000)
    args = parser.parse_args()
    pid = str(uuid.uuid4())
    producer = make_producer(os.environ["COHORT_KAFKA_BOOTSTRAP"], "bench-verdicts")
    await producer.start()
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"], server_settings={"search_path": "payout"})
    try:
        await producer.send_and_wait(
            PREFIX + "cohort.intake.projects.v1",
            activated(pid, 1).SerializeToString(),
            key=pid.encode(),
            headers=headers("cohort.events.v1.ProjectActivated"),
        )
        subs = [str(uuid.uuid4()) for _ in range(args.submissions)]
        for i, sid in enumerate(subs):
            created = submissions_pb2.SubmissionCreated(
                submission_id=sid, project_id=pid, task_id=f"t{i}", expert_id=f"exp_bench{i % 500:05d}"
            )
            await producer.send(
                PREFIX + "cohort.tasking.submissions.v1",
                created.SerializeToString(),
                key=f"t{i}".encode(),
                headers=headers("cohort.events.v1.SubmissionCreated"),
            )
        t0 = time.perf_counter()
        for i, sid in enumerate(subs):
            verdict = verdicts_pb2.SubmissionAccepted(submission_id=sid, project_id=pid, task_id=f"t{i}")
            await producer.send(
                PREFIX + "cohort.qa.verdicts.v1",
                verdict.SerializeToString(),
                key=f"t{i}".encode(),
                headers=headers("cohort.events.v1.SubmissionAccepted"),
            )
        await producer.flush()
        published = time.perf_counter() - t0
        done = 0
        while done < args.submissions and time.perf_counter() - t0 < 600:
            await asyncio.sleep(0.5)
            done = await conn.fetchval(
                "SELECT count(*) FROM submissions WHERE project_id = $1::uuid AND state = 'accepted'", pid
            )
        elapsed = time.perf_counter() - t0
    finally:
        await conn.close()
        await producer.stop()
    print(
        f"payout: {done} verdicts posted in {elapsed:.1f} s after publishing ({published:.1f} s to publish) = "
        f"{done / elapsed:,.0f} accepted postings/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
