"""Qualification screening across intake, tasking, QA and payout over real gRPC and Kafka: a lab
adds a screening test to its project, experts answer it, QA scores the answers against the gold
and decides, and routing admits only those who passed. Screening answers earn nothing and count
as no progress."""

from __future__ import annotations

import uuid

import grpc
import pytest

from cohort.intake.v1 import delivery_pb2, delivery_pb2_grpc, projects_pb2_grpc, tasks_pb2_grpc
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes

CANDIDATES = [ttypes.Candidate(candidate_id="a", content="A"), ttypes.Candidate(candidate_id="b", content="B")]


def _task(task_id: str, screening: bool = False) -> tpb.NewTask:
    task = tpb.NewTask(
        task_id=task_id, input=ttypes.TaskInput(prompt=f"Which is right? {task_id}", candidates=CANDIDATES)
    )
    if screening:
        task.screening = True
        task.gold.ranking.extend(["a", "b"])  # the right first choice is "a"
    return task


def _rank(first: str) -> sub.SubmissionPayload:
    other = "b" if first == "a" else "a"
    return sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=[first, other]))


async def test_only_experts_who_pass_the_screening_test_get_real_work(services, eventually, fast_experts, onboard):
    async with services("intake", "tasking", "qa", "payout", qa=fast_experts) as running:
        intake, tasking, qa, payout = (running[n] for n in ("intake", "tasking", "qa", "payout"))
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{intake.grpc_port}") as ic,
            grpc.aio.insecure_channel(f"127.0.0.1:{tasking.grpc_port}") as tc,
        ):
            lab_md = await onboard.lab(ic)
            pid = await onboard.project(
                ic,
                lab_md,
                title="Screened preferences",
                qualifications=types.Qualifications(
                    fields=["chemistry"], screening=types.Screening(tasks=2, pass_share=1.0)
                ),
                target_accepted_items=2,
            )
            projects = projects_pb2_grpc.ProjectServiceStub(ic)
            tasks = tasks_pb2_grpc.TaskServiceStub(ic)
            await tasks.AddTasks(tpb.AddTasksRequest(project_id=pid, tasks=[_task("t1"), _task("t2")]), metadata=lab_md)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab_md)
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "needs 2 screening tasks and the project has 0" in refused.value.details()
            screening_tasks = [_task(f"s{i}", screening=True) for i in range(3)]
            await tasks.AddTasks(tpb.AddTasksRequest(project_id=pid, tasks=screening_tasks), metadata=lab_md)
            await projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab_md)
            delivery = delivery_pb2_grpc.DeliveryServiceStub(ic)

            async def progress() -> delivery_pb2.ProjectProgress:
                watch = delivery.WatchProgress(delivery_pb2.WatchProgressRequest(project_id=pid), metadata=lab_md)
                first = await watch.read()
                watch.cancel()
                return first.progress

            assert (await progress()).tasks_total == 2, "screening tasks are not work to deliver"

            experts = {name: await onboard.expert(tc, f"exp_{name}{uuid.uuid4().hex[:8]}") for name in ("good", "bad")}
            work = work_pb2_grpc.WorkServiceStub(tc)

            async def offered(creds):
                reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=creds)
                return reply.assignment if reply.HasField("assignment") else None

            for name, answer in (("good", "a"), ("bad", "b")):
                for _ in range(2):
                    got = await eventually(lambda creds=experts[name][1]: offered(creds))
                    assert got.task_id.startswith("s"), "the test comes first"
                    await work.SubmitTask(
                        work_pb2.SubmitTaskRequest(assignment_id=got.assignment_id, payload=_rank(answer)),
                        metadata=experts[name][1],
                    )

            async def decided(expert_id):
                return await qa.pool.fetchrow(
                    "SELECT passed, correct, answered FROM qualifications WHERE expert_id = $1", expert_id
                )

            good = await eventually(lambda: decided(experts["good"][0]))
            bad = await eventually(lambda: decided(experts["bad"][0]))
            assert (good["passed"], good["correct"], good["answered"]) == (True, 2, 2)
            assert (bad["passed"], bad["correct"], bad["answered"]) == (False, 0, 2)

            real = await eventually(lambda: offered(experts["good"][1]))
            assert real.task_id in {"t1", "t2"}, "a pass opens the real tasks"

            async def closed_to_bad():
                eligible = await work.ListEligibleProjects(
                    work_pb2.ListEligibleProjectsRequest(), metadata=experts["bad"][1]
                )
                return pid not in [p.project_id for p in eligible.projects]

            await eventually(closed_to_bad)
            assert await offered(experts["bad"][1]) is None

            # Screening answers got no verdict, earned nothing and counted as no submissions.
            assert await qa.pool.fetchval("SELECT count(*) FROM submissions") == 0
            assert await payout.pool.fetchval("SELECT count(*) FROM submissions") == 0
            assert (await progress()).submissions_received == 0
