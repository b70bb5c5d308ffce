"""Acquire+submit throughput and acquire latency against a running tasking (`make bench-tasking`).

Set-up: 50 active projects announced through Kafka as intake would (ProjectActivated), and their
open slots written straight into tasking's tables (tasks + slots, N in all): feeding a million
tasks through TasksAdded is intake's benchmark, not this one. E simulated experts are registered
through the admin API. Two phases, each D seconds:

- saturation: every expert loops AcquireTask -> SubmitTask without pause (E calls in flight):
  the most cycles/s tasking sustains. Latency here is mostly queueing (Little's law: E / rate).
- paced: the same experts, each pausing between cycles so that together they offer R cycles/s
  (default: 60 % of the saturation rate): acquire latency p50/p95/p99 at that load.

The projects are cancelled afterwards (ProjectCancelled), so runs do not pile up active projects
that later runs would evaluate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import projects_pb2 as project_events
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc, work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.kafka import make_producer
from cohort_runtime.tokens import issue_token

sys.path.insert(0, str(Path(__file__).parent))
from cpu import CpuMeter, describe, stack_processes

PAYLOAD = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["b", "a"]))
INPUT = ttypes.TaskInput(
    prompt="Which answer explains SN2 inversion better?",
    candidates=[ttypes.Candidate(candidate_id="a", content="A"), ttypes.Candidate(candidate_id="b", content="B")],
).SerializeToString()


# The stack may run with a topic namespace (COHORT_TOPIC_PREFIX); publish into the same one.
PREFIX = os.environ.get("COHORT_TOPIC_PREFIX", "")


def activated(pid: str, priority: int) -> project_events.ProjectActivated:
    deadline, lease = Timestamp(), Duration()
    deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    lease.FromTimedelta(dt.timedelta(minutes=30))
    return project_events.ProjectActivated(
        project_id=pid,
        lab_id=str(uuid.uuid4()),
        data_kind=types.DATA_KIND_PREFERENCE,
        domain="chemistry.organic",
        rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1, scale_min=1, scale_max=5)]),
        target_accepted_items=10**6,
        overlap=1,
        max_overlap=1,
        gold_rate=0.1,
        pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=100)),
        currency_code="EUR",
        budget_cap_minor=10**12,
        deadline=deadline,
        priority=priority,
        lease_duration=lease,
    )


async def announce(pids: list[str], message: Callable[[int, str], Message]) -> None:
    """Publish one project event per project, as intake would."""
    producer = make_producer(os.environ["COHORT_KAFKA_BOOTSTRAP"], "bench")
    await producer.start()
    try:
        for i, pid in enumerate(pids):
            m = message(i, pid)
            attrs = EventAttributes(str(uuid.uuid4()), m.DESCRIPTOR.full_name, "/bench", dt.datetime.now(dt.UTC))
            await producer.send_and_wait(
                PREFIX + "cohort.intake.projects.v1",
                m.SerializeToString(),
                key=pid.encode(),
                headers=attrs.to_headers(),
            )
    finally:
        await producer.stop()


async def seed(args: argparse.Namespace, pids: list[str]) -> None:
    await announce(pids, lambda i, pid: activated(pid, i % 5))
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"], server_settings={"search_path": "tasking"})
    try:
        for _ in range(300):  # tasking consumes the announcements within seconds
            if await conn.fetchval("SELECT count(*) FROM projects WHERE project_id = ANY($1::uuid[])", pids) == len(
                pids
            ):
                break
            await asyncio.sleep(0.2)
        per = args.slots // len(pids)
        t0 = time.perf_counter()
        for pid in pids:
            await conn.execute(
                """INSERT INTO tasks (project_id, task_id, input, is_gold, slotted)
                   SELECT $1::uuid, 't' || g, $2, g % 10 = 0, true FROM generate_series(1, $3) g""",
                pid,
                INPUT,
                per,
            )
            await conn.execute(
                """INSERT INTO slots (project_id, task_id, is_gold)
                   SELECT $1::uuid, 't' || g, g % 10 = 0 FROM generate_series(1, $2) g""",
                pid,
                per,
            )
        await conn.execute("ANALYZE slots; ANALYZE tasks")
        took = time.perf_counter() - t0
        print(f"set-up: {per * len(pids):,} open slots in {len(pids)} projects written in {took:.1f} s")
    finally:
        await conn.close()


def percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    return f"acquire p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms"


async def run_phase(
    experts: list[tuple[work_pb2_grpc.WorkServiceStub, tuple]], seconds: float, pause: float
) -> tuple[int, float, list[float]]:
    """Every expert (their tasking stub and credentials) loops acquire -> submit, pausing `pause`
    seconds (jittered) between cycles."""
    latencies: list[float] = []
    cycles = 0
    stop_at = time.perf_counter() + seconds
    rng = random.Random(7)

    async def expert_loop(work: work_pb2_grpc.WorkServiceStub, md: tuple) -> None:
        nonlocal cycles
        if pause:  # spread the experts' first calls over one pause
            await asyncio.sleep(rng.uniform(0, pause))
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=md, timeout=10)
            latencies.append(time.perf_counter() - t0)
            if not reply.HasField("assignment"):
                await asyncio.sleep(0.05)
                continue
            await work.SubmitTask(
                work_pb2.SubmitTaskRequest(assignment_id=reply.assignment.assignment_id, payload=PAYLOAD),
                metadata=md,
                timeout=10,
            )
            cycles += 1
            if pause:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)

    t0 = time.perf_counter()
    await asyncio.gather(*(expert_loop(work, md) for work, md in experts))
    return cycles, time.perf_counter() - t0, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--target", default="127.0.0.1:15052", help="tasking address; several, comma-separated, share the experts"
    )
    parser.add_argument("--slots", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--experts", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--rate", type=float, default=0, help="paced phase's offered cycles/s (0: 60%% of saturation)")
    args = parser.parse_args()
    private = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()  # noqa: ASYNC240 - once, at start
    pids = [str(uuid.uuid4()) for _ in range(args.projects)]
    await seed(args, pids)
    operator = (("authorization", "Bearer " + issue_token(private, kind="operator", subject="bench")),)
    try:
        async with contextlib.AsyncExitStack() as stack:
            channels = [await stack.enter_async_context(grpc.aio.insecure_channel(t)) for t in args.target.split(",")]
            admin = experts_pb2_grpc.ExpertAdminServiceStub(channels[0])
            works = [work_pb2_grpc.WorkServiceStub(c) for c in channels]
            creds = []
            for n in range(args.experts):
                eid = f"exp_{uuid.uuid4().hex[:16]}"
                await admin.RegisterExpert(
                    experts_pb2.RegisterExpertRequest(
                        expert=experts_pb2.ExpertProfile(
                            expert_id=eid, degree=types.DEGREE_LEVEL_MASTER, fields=["chemistry"], languages=["en"]
                        )
                    ),
                    metadata=operator,
                )
                token = issue_token(private, kind="expert", subject=eid, ttl=dt.timedelta(hours=2))
                creds.append((works[n % len(works)], (("authorization", "Bearer " + token),)))
            where = f"{args.experts} experts over {args.slots:,} slots in {args.projects} projects"
            meter = CpuMeter(stack_processes())
            meter.start()
            cycles, elapsed, latencies = await run_phase(creds, args.seconds, 0.0)
            cores = meter.stop()
            saturation = cycles / elapsed
            print(f"saturation: {saturation:,.0f} acquire+submit cycles/s with {where}; {percentiles(latencies)}")
            print(f"CPU at saturation: {describe(cores, saturation)}")
            rate = args.rate or 0.6 * saturation
            # Each expert's cycle: the pause plus about one acquire and one submit at this load.
            pause = max(0.0, args.experts / rate)
            cycles, elapsed, latencies = await run_phase(creds, args.seconds, pause)
            print(
                f"paced: {rate:,.0f} cycles/s offered, {cycles / elapsed:,.0f} achieved with {where}; "
                f"{percentiles(latencies)}"
            )
    finally:
        await announce(
            pids, lambda _i, pid: project_events.ProjectCancelled(project_id=pid, reason="benchmark finished")
        )


if __name__ == "__main__":
    asyncio.run(main())
