"""Adaptive overlap across QA and tasking over real Kafka: split judgments make QA request one more,
tasking opens one more slot (up to the maximum overlap), a third expert fills it, QA finalizes the
item, and nobody is offered the task again."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import projects_pb2 as project_events
from cohort.events.v1 import tasks_pb2 as task_events
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc, work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.tokens import issue_token


@pytest.fixture
async def tasking_and_qa(services, fast_experts):
    async with services("tasking", "qa", qa=fast_experts) as running:
        yield running["tasking"], running["qa"]


async def test_split_preferences_get_one_more_judgment_then_the_item_is_final(
    tasking_and_qa, eventually, token_keys, events
):
    tasking, qa = tasking_and_qa
    operator = (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op")),)
    pid = str(uuid.uuid4())
    deadline, lease = Timestamp(), Duration()
    deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    lease.FromTimedelta(dt.timedelta(minutes=10))
    await events.send(
        "cohort.intake.tasks.v1",
        pid,
        task_events.TasksAdded(
            project_id=pid,
            tasks=[
                task_events.AddedTask(
                    task_id="t0",
                    input=ttypes.TaskInput(
                        prompt="Which proof is clearer?",
                        candidates=[
                            ttypes.Candidate(candidate_id="a", content="Proof A"),
                            ttypes.Candidate(candidate_id="b", content="Proof B"),
                        ],
                    ),
                )
            ],
        ),
    )
    await events.send(
        "cohort.intake.projects.v1",
        pid,
        project_events.ProjectActivated(
            project_id=pid,
            lab_id=str(uuid.uuid4()),
            data_kind=types.DATA_KIND_PREFERENCE,
            domain="mathematics.algebra",
            qualifications=types.Qualifications(fields=["mathematics"]),
            target_accepted_items=1,
            overlap=2,
            max_overlap=3,
            pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=100)),
            currency_code="EUR",
            budget_cap_minor=10**6,
            deadline=deadline,
            lease_duration=lease,
        ),
    )
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{tasking.grpc_port}") as channel,
    ):
        admin = experts_pb2_grpc.ExpertAdminServiceStub(channel)
        work = work_pb2_grpc.WorkServiceStub(channel)

        async def expert(name: str):
            expert_id = f"exp_{name}{uuid.uuid4().hex[:6]}"
            await admin.RegisterExpert(
                experts_pb2.RegisterExpertRequest(
                    expert=experts_pb2.ExpertProfile(
                        expert_id=expert_id,
                        degree=types.DEGREE_LEVEL_DOCTORATE,
                        fields=["mathematics.algebra"],
                        languages=["en"],
                    )
                ),
                metadata=operator,
            )
            return (("authorization", "Bearer " + issue_token(token_keys[0], kind="expert", subject=expert_id)),)

        async def acquire(md):
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(project_id=pid), metadata=md)
            return reply.assignment if reply.HasField("assignment") else None

        async def work_once(md, ranking: list[str]) -> None:
            assignment = await eventually(lambda: acquire(md))
            await work.SubmitTask(
                work_pb2.SubmitTaskRequest(
                    assignment_id=assignment.assignment_id,
                    payload=sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=ranking)),
                ),
                metadata=md,
            )

        first, second, third, fourth = [await expert(n) for n in ("one", "two", "three", "four")]
        await work_once(first, ["a", "b"])
        await work_once(second, ["b", "a"])

        async def requested():
            return await qa.pool.fetchval(
                "SELECT target_overlap FROM tasks WHERE project_id = $1::text::uuid AND task_id = 't0'", pid
            )

        assert await eventually(requested) == 3
        # Tasking opens the third slot (the project's maximum) on QA's request.
        await work_once(third, ["a", "b"])

        async def finalized():
            return await qa.pool.fetchval("SELECT count(*) FROM items WHERE project_id = $1::text::uuid", pid)

        assert await eventually(finalized) == 1

        slots = await tasking.pool.fetchval("SELECT count(*) FROM slots WHERE project_id = $1::text::uuid", pid)
        assert slots == 3, "one extra slot, up to the maximum overlap, never more"
        assert await acquire(fourth) is None
