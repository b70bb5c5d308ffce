"""Paced load through every service while faults happen: a lab with a preference project, experts
who acquire and submit (tasking), QA judging, payout crediting, intake counting, and the lab
reading its progress from intake.

Clients behave as a careful integration would: a call that fails for a transient reason is tried
again on the next replica, and a submission is retried with the same request id, so a reply lost
in a crash never becomes a second submission. What each call answered is counted by status code:
INTERNAL or UNKNOWN from a service under faults is a defect (the service did not say UNAVAILABLE)."""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import uuid
from dataclasses import dataclass, field

import grpc
from google.protobuf.duration_pb2 import Duration

from cohort.intake.v1 import projects_pb2, projects_pb2_grpc, tasks_pb2, tasks_pb2_grpc
from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.tokens import issue_token

from ..conftest import Onboarding, in_days
from .stack import ChaosStack

# What a client retries: the service or its dependencies were away, or the call timed out.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
LEASE = 60  # seconds: the shortest a project allows, so abandoned leases expire within a run
CALL_TIMEOUT = 5.0


Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


@dataclass
class LoadRecord:
    """What the clients saw."""

    acknowledged: set[str] = field(default_factory=set)  # submission ids the experts were given
    abandoned: int = 0  # leases the experts walked away from (the sweeper must expire them)
    refused: collections.Counter[str] = field(default_factory=collections.Counter)  # definitive non-OK answers
    codes: collections.Counter[str] = field(default_factory=collections.Counter)  # every failed attempt
    internal: list[str] = field(default_factory=list)  # INTERNAL/UNKNOWN answers, with their details
    retried_submits: int = 0  # submissions that needed more than one attempt
    progress_reads: int = 0


class Replicas:
    """Channels to every replica of a service, tried in turn."""

    def __init__(self, addresses: list[str]) -> None:
        self.channels = [grpc.aio.insecure_channel(a) for a in addresses]
        self._turn = itertools.count()

    def next(self) -> grpc.aio.Channel:
        return self.channels[next(self._turn) % len(self.channels)]

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class Load:
    """`await load.prepare()`, then `load.start()` … `await load.stop()`; `load.record`."""

    def __init__(self, stack: ChaosStack, *, experts: int, rate: float, tasks: int, abandon_share: float = 0.02):
        self.stack = stack
        self.experts = [f"exp_chaos{i:03d}" for i in range(experts)]
        self.rate = rate
        self.tasks = tasks
        self.abandon_share = abandon_share
        self.record = LoadRecord()
        self.project_id = ""
        with open(stack.env["COHORT_TOKEN_PRIVATE_KEY_FILE"]) as f:
            self._private_key = f.read()
        self._stop = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self.operator: Metadata = ()
        self.lab: Metadata = ()

    def _token(self, kind: str, subject: str) -> str:
        return issue_token(self._private_key, kind=kind, subject=subject)

    def replicas(self, service: str) -> Replicas:
        return Replicas([r.address for r in self.stack.members[service]])

    async def prepare(self) -> None:
        """A lab, its key, the experts, and an active project with `tasks` preference tasks,
        onboarded as the other cross-service tests do it."""
        onboard = Onboarding(self._private_key)
        self.operator = onboard.operator
        intake = self.replicas("intake")
        tasking = self.replicas("tasking")
        try:
            self.lab = await onboard.lab(intake.next(), "Chaos Lab")
            for expert_id in self.experts:
                await onboard.expert(tasking.next(), expert_id)
            self.project_id = await self._project(intake.next(), onboard)
        finally:
            await intake.close()
            await tasking.close()

    async def _project(self, intake: grpc.aio.Channel, onboard: Onboarding) -> str:
        project_id = await onboard.project(
            intake,
            self.lab,
            title="chaos",
            instructions_markdown="Pick the better answer.",
            target_accepted_items=self.tasks,
            max_overlap=1,
            review_sample_rate=0.0,
            budget_cap_minor=10**12,
            deadline=in_days(7),
            lease_duration=Duration(seconds=LEASE),
        )
        tasks = tasks_pb2_grpc.TaskServiceStub(intake)
        for start in range(0, self.tasks, 1000):
            batch = [
                tasks_pb2.NewTask(
                    task_id=f"t{i:06d}",
                    input=ttypes.TaskInput(
                        prompt=f"Q{i}: which answer explains reaction {i} correctly?",
                        # Shown in either order, drawn per task: experts who pick "a" do not pick by
                        # position (by parity, 40 experts taking tasks in turn each saw one order).
                        candidates=[
                            ttypes.Candidate(candidate_id=c, content=f"Answer {c} to Q{i}.")
                            for c in (("a", "b") if random.Random(i).random() < 0.5 else ("b", "a"))
                        ],
                    ),
                )
                for i in range(start, min(start + 1000, self.tasks))
            ]
            await tasks.AddTasks(tasks_pb2.AddTasksRequest(project_id=project_id, tasks=batch), metadata=self.lab)
        activate = projects_pb2.ActivateProjectRequest(project_id=project_id)
        await projects_pb2_grpc.ProjectServiceStub(intake).ActivateProject(activate, metadata=self.lab)
        return project_id

    def start(self) -> None:
        tasking = self.replicas("tasking")
        intake = self.replicas("intake")
        # Each expert offers rate/experts cycles a second: together `rate` cycles/s.
        pause = len(self.experts) / self.rate
        self._workers = [
            asyncio.create_task(self._expert(tasking, e, bearer(self._token("expert", e)), pause)) for e in self.experts
        ]
        self._workers.append(asyncio.create_task(self._lab_reader(intake)))
        self._channels = (tasking, intake)

    async def stop(self) -> None:
        """Stop starting cycles; let submissions in flight finish (they retry until answered)."""
        self._stop.set()
        await asyncio.gather(*self._workers)
        for replicas in self._channels:
            await replicas.close()

    def _failed(self, what: str, exc: grpc.aio.AioRpcError) -> None:
        self.record.codes[f"{what}:{exc.code().name}"] += 1
        if exc.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            self.record.internal.append(f"{what}: {exc.code().name}: {exc.details()}")

    async def _expert(self, tasking: Replicas, expert_id: str, md: Metadata, pause: float) -> None:
        rng = random.Random(expert_id)
        await asyncio.sleep(rng.uniform(0, pause))
        while not self._stop.is_set():
            lease = await self._acquire(tasking, md)
            if lease is None:
                await asyncio.sleep(0.2)
                continue
            if rng.random() < self.abandon_share:
                self.record.abandoned += 1
            else:
                await self._submit(tasking, md, lease)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)

    async def _acquire(self, tasking: Replicas, md: Metadata) -> work_pb2.Assignment | None:
        work = work_pb2_grpc.WorkServiceStub(tasking.next())
        try:
            reply = await work.AcquireTask(
                work_pb2.AcquireTaskRequest(project_id=self.project_id), metadata=md, timeout=CALL_TIMEOUT
            )
        except grpc.aio.AioRpcError as exc:
            self._failed("AcquireTask", exc)
            return None
        return reply.assignment if reply.HasField("assignment") else None

    async def _submit(self, tasking: Replicas, md: Metadata, lease: work_pb2.Assignment) -> None:
        request = work_pb2.SubmitTaskRequest(
            assignment_id=lease.assignment_id,
            payload=sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"])),
            request_id=str(uuid.uuid4()),
        )
        for attempt in itertools.count():
            work = work_pb2_grpc.WorkServiceStub(tasking.next())
            try:
                done = await work.SubmitTask(request, metadata=md, timeout=CALL_TIMEOUT)
            except grpc.aio.AioRpcError as exc:
                self._failed("SubmitTask", exc)
                if exc.code() in RETRYABLE:
                    await asyncio.sleep(min(0.2 * 2**attempt, 2.0))
                    continue
                # A definitive answer (the lease expired while the database was away, say).
                self.record.refused[exc.code().name] += 1
                return
            self.record.acknowledged.add(done.submission_id)
            self.record.retried_submits += attempt > 0
            return

    async def _lab_reader(self, intake: Replicas) -> None:
        """The lab reads its progress once a second from whichever intake replica answers."""
        while not self._stop.is_set():
            projects = projects_pb2_grpc.ProjectServiceStub(intake.next())
            try:
                await projects.GetProject(
                    projects_pb2.GetProjectRequest(project_id=self.project_id), metadata=self.lab, timeout=CALL_TIMEOUT
                )
                self.record.progress_reads += 1
            except grpc.aio.AioRpcError as exc:
                self._failed("GetProject", exc)
            await asyncio.sleep(1.0)
