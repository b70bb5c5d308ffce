"""AddTasks ingestion rate against a running intake (`make up`, then `make bench-intake`).

Creates a lab, a key and a preference project, then adds N tasks in batches of 1,000 over one
gRPC channel, with C batches in flight, and prints tasks/s. Batches of one project serialise on
its row lock, so concurrency uses several projects (one per in-flight stream), as several labs
or uploads would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from pathlib import Path

import grpc

from cohort.intake.v1 import (
    labs_pb2,
    labs_pb2_grpc,
    projects_pb2,
    projects_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
)
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.tokens import issue_token

PROMPT = "Compare the two answers about nucleophilic substitution and rank them. " * 4


def spec() -> projects_pb2.ProjectSpec:
    from google.protobuf.timestamp_pb2 import Timestamp

    deadline = Timestamp()
    deadline.FromSeconds(int(time.time()) + 30 * 86400)
    return projects_pb2.ProjectSpec(
        title="bench",
        data_kind=types.DATA_KIND_PREFERENCE,
        domain="chemistry.organic",
        instructions_markdown="rank",
        target_accepted_items=100_000,
        overlap=1,
        rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1.0, scale_min=1, scale_max=5)]),
        pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=100)),
        currency_code="EUR",
        budget_cap_minor=10**12,
        deadline=deadline,
    )


def batch(start: int, size: int, gold_every: int) -> list[tasks_pb2.NewTask]:
    out = []
    for i in range(start, start + size):
        task = tasks_pb2.NewTask(
            task_id=f"task-{i:07d}",
            input=ttypes.TaskInput(
                prompt=f"{PROMPT} #{i}",
                candidates=[
                    ttypes.Candidate(candidate_id="a", content=f"SN2 proceeds with inversion ({i})."),
                    ttypes.Candidate(candidate_id="b", content=f"SN1 proceeds via a carbocation ({i})."),
                ],
                metadata={"source": "bench", "n": str(i)},
            ),
        )
        if gold_every and i % gold_every == 0:
            task.gold.CopyFrom(ttypes.GoldReference(ranking=["a", "b"]))
        out.append(task)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:15051")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--gold-every", type=int, default=10)
    args = parser.parse_args()
    private = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()  # noqa: ASYNC240 - once, at start
    operator = (("authorization", "Bearer " + issue_token(private, kind="operator", subject="bench")),)
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    async with grpc.aio.insecure_channel(args.target, options=options) as channel:
        admin = labs_pb2_grpc.LabAdminServiceStub(channel)
        lab = (
            await admin.CreateLab(
                labs_pb2.CreateLabRequest(request_id=str(uuid.uuid4()), display_name="bench"),
                metadata=operator,
            )
        ).lab
        key = await admin.CreateApiKey(
            labs_pb2.CreateApiKeyRequest(lab_id=lab.lab_id, display_name="bench"), metadata=operator
        )
        md = (("authorization", f"Bearer {key.secret}"),)
        projects = projects_pb2_grpc.ProjectServiceStub(channel)
        pids = [
            (
                await projects.CreateProject(
                    projects_pb2.CreateProjectRequest(request_id=str(uuid.uuid4()), spec=spec()), metadata=md
                )
            ).project.project_id
            for _ in range(args.concurrency)
        ]
        tasks = tasks_pb2_grpc.TaskServiceStub(channel)
        per_stream = args.tasks // args.concurrency
        prepared = [
            [batch(s * per_stream + b, args.batch, args.gold_every) for b in range(0, per_stream, args.batch)]
            for s in range(args.concurrency)
        ]
        latencies: list[float] = []

        async def stream(pid: str, batches: list[list[tasks_pb2.NewTask]]) -> int:
            added = 0
            for b in batches:
                t0 = time.perf_counter()
                reply = await tasks.AddTasks(
                    tasks_pb2.AddTasksRequest(project_id=pid, tasks=b), metadata=md, timeout=60
                )
                latencies.append(time.perf_counter() - t0)
                added += reply.added_count
            return added

        t0 = time.perf_counter()
        added = sum(await asyncio.gather(*(stream(pid, b) for pid, b in zip(pids, prepared, strict=True))))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"AddTasks: {added} tasks in {elapsed:.2f} s = {added / elapsed:,.0f} tasks/s "
        f"(batches of {args.batch}, {args.concurrency} in flight, gold every {args.gold_every}; "
        f"batch latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
