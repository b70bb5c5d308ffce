"""QA throughput and aggregation time (`make bench-qa`).

1. Verdicts/s through QA's consumer on the running stack: publishes, as intake and tasking would,
   a project (ProjectActivated + TasksAdded) and N SubmissionCreated events, then times how long QA
   takes until every submission is decided or queued for review (checks, gold, sampling, verdict
   events in the outbox, aggregation of completed tasks, quality updates). `--kind sft` exercises
   the free-text checks (copy, pace, MinHash near-duplicates); `--kind preference` the ranking
   checks, position bias and the reliability-weighted aggregation of every completed task.
2. Aggregation time of a 100k-judgment project: a Dawid-Skene fit (in process, numpy) over
   synthetic judgments with known truth, cold and warm-started, and its accuracy.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import time
import uuid

import asyncpg
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import projects_pb2 as project_events
from cohort.events.v1 import submissions_pb2
from cohort.events.v1 import tasks_pb2 as task_events
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_qa.domain import dawid_skene
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.kafka import make_producer

PREFIX = os.environ.get("COHORT_TOPIC_PREFIX", "")
KINDS = {"sft": types.DATA_KIND_SFT_DEMONSTRATION, "preference": types.DATA_KIND_PREFERENCE}
WORDS = (
    "enthalpy",
    "entropy",
    "catalyst",
    "equilibrium",
    "kinetics",
    "reaction",
    "molecule",
    "bond",
    "energy",
    "solvent",
    "acid",
    "base",
    "oxidation",
    "reduction",
    "electron",
    "orbital",
    "ligand",
    "spectrum",
    "isomer",
    "polymer",
)


def headers(kind: str) -> list[tuple[str, bytes]]:
    return EventAttributes(str(uuid.uuid4()), kind, "/bench", dt.datetime.now(dt.UTC)).to_headers()


def answer(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(60))


async def throughput(kind: str, n: int, overlap: int, review_rate: float) -> None:
    rng = random.Random(7)
    pid = str(uuid.uuid4())
    tasks = n // overlap
    producer = make_producer(os.environ["COHORT_KAFKA_BOOTSTRAP"], "bench-qa")
    await producer.start()
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"], server_settings={"search_path": "qa"})
    try:
        added = task_events.TasksAdded(
            project_id=pid,
            tasks=[
                task_events.AddedTask(
                    task_id=f"t{i}",
                    input=ttypes.TaskInput(
                        prompt=f"Question {i}: which answer is better?",
                        # "a" is the better answer; shown first or second at random, as tasking would.
                        candidates=[
                            ttypes.Candidate(candidate_id=c, content=f"Answer {c}.")
                            for c in (("a", "b") if i % 2 else ("b", "a"))
                        ],
                    ),
                )
                for i in range(tasks)
            ],
        )
        for start in range(0, tasks, 2000):
            chunk = task_events.TasksAdded(project_id=pid, tasks=added.tasks[start : start + 2000])
            await producer.send(
                PREFIX + "cohort.intake.tasks.v1",
                chunk.SerializeToString(),
                key=pid.encode(),
                headers=headers("cohort.events.v1.TasksAdded"),
            )
        project = project_events.ProjectActivated(
            project_id=pid,
            lab_id=str(uuid.uuid4()),
            data_kind=KINDS[kind],
            domain="chemistry.physical",
            rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1, scale_min=1, scale_max=5)]),
            overlap=overlap,
            max_overlap=overlap,
            review_sample_rate=review_rate,
        )
        await producer.send_and_wait(
            PREFIX + "cohort.intake.projects.v1",
            project.SerializeToString(),
            key=pid.encode(),
            headers=headers("cohort.events.v1.ProjectActivated"),
        )
        known = False
        while not known:  # QA has the project and every task's input
            await asyncio.sleep(0.2)
            known = await conn.fetchval(
                """SELECT count(*) = $2 AND EXISTS (SELECT 1 FROM projects WHERE project_id = $1::uuid)
                   FROM tasks WHERE project_id = $1::uuid AND input IS NOT NULL""",
                pid,
                tasks,
            )
        now = Timestamp()
        now.FromDatetime(dt.datetime.now(dt.UTC))
        events = []
        for i in range(n):
            task = f"t{i % tasks}"
            if kind == "sft":
                payload = sub.SubmissionPayload(sft=sub.SftSubmission(response=answer(rng)))
            else:
                first = "a" if rng.random() < 0.8 else "b"
                payload = sub.SubmissionPayload(
                    preference=sub.PreferenceSubmission(ranking=[first, "b" if first == "a" else "a"])
                )
            created = submissions_pb2.SubmissionCreated(
                submission_id=str(uuid.uuid4()),
                project_id=pid,
                task_id=task,
                submit_time=now,
                expert_id=f"exp_bench{rng.randrange(300):04d}",
                assignment_id=str(uuid.uuid4()),
                payload=payload,
                acquire_time=now,
                active_seconds=900,
            )
            events.append((task, created.SerializeToString()))
        t0 = time.perf_counter()
        for task, value in events:
            await producer.send(
                PREFIX + "cohort.tasking.submissions.v1",
                value,
                key=task.encode(),
                headers=headers("cohort.events.v1.SubmissionCreated"),
            )
        await producer.flush()
        published = time.perf_counter() - t0
        done = 0
        while done < n and time.perf_counter() - t0 < 900:
            await asyncio.sleep(0.25)
            done = await conn.fetchval(
                "SELECT count(*) FROM submissions WHERE project_id = $1::uuid AND state <> 'waiting'", pid
            )
        elapsed = time.perf_counter() - t0
        summary = await conn.fetch(
            "SELECT state, count(*) AS n FROM submissions WHERE project_id = $1::uuid GROUP BY state ORDER BY state",
            pid,
        )
        items = await conn.fetchval("SELECT count(*) FROM items WHERE project_id = $1::uuid", pid)
    finally:
        await conn.close()
        await producer.stop()
    states = ", ".join(f"{r['state']} {r['n']}" for r in summary)
    print(
        f"qa ({kind}, overlap {overlap}, review rate {review_rate}): {done} submissions judged in {elapsed:.1f} s "
        f"({published:.1f} s to publish) = {done / elapsed:,.0f} submissions/s; {states}; {items} items finalized"
    )


def aggregation(judgments: int, per_item: int, experts: int, classes: int) -> None:
    rng = np.random.default_rng(11)
    n_items = judgments // per_item
    truth = rng.integers(0, classes, n_items)
    accuracy = rng.uniform(0.55, 0.95, experts)
    items = np.repeat(np.arange(n_items), per_item)
    workers = rng.integers(0, experts, len(items))
    right = rng.random(len(items)) < accuracy[workers]
    wrong = (truth[items] + rng.integers(1, classes, len(items))) % classes
    labels = np.where(right, truth[items], wrong)
    t0 = time.perf_counter()
    cold = dawid_skene.fit(items, workers, labels, n_items=n_items, n_workers=experts, n_classes=classes)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = dawid_skene.fit(
        items,
        workers,
        labels,
        n_items=n_items,
        n_workers=experts,
        n_classes=classes,
        initial_confusion=cold.confusion,
        initial_priors=cold.priors,
    )
    warm_s = time.perf_counter() - t0
    majority = np.argmax(dawid_skene.majority_posteriors(items, labels, n_items, classes), axis=1)
    print(
        f"aggregation: {len(items):,} judgments ({n_items:,} items x {per_item}, {experts} experts, "
        f"{classes} classes): "
        f"Dawid-Skene cold {cold_s:.2f} s ({cold.iterations} it), warm {warm_s:.2f} s ({warm.iterations} it); "
        f"accuracy {float((cold.labels == truth).mean()):.4f} vs majority {float((majority == truth).mean()):.4f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--kind", choices=sorted(KINDS), default="preference")
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--review-rate", type=float, default=0.05)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-aggregation", action="store_true")
    args = parser.parse_args()
    if not args.skip_aggregation:
        aggregation(100_000, 5, 500, 2)
    if not args.skip_throughput:
        await throughput(args.kind, args.submissions, args.overlap, args.review_rate)


if __name__ == "__main__":
    asyncio.run(main())
