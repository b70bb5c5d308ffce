"""The four services together over real gRPC and Kafka: a lab's project flows to tasking and QA,
an expert works a task, QA checks it and queues it for review, a reviewer accepts it, QA's verdict
reaches payout and intake and the finalized item reaches the lab, which sees the submission, the
verdict, the spend and the item."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from cohort.intake.v1 import delivery_pb2, delivery_pb2_grpc, projects_pb2_grpc, tasks_pb2_grpc
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.qa.v1 import reviews_pb2, reviews_pb2_grpc
from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes


@pytest.fixture
async def platform(services, fast_experts):
    async with services("intake", "tasking", "payout", "qa", qa=fast_experts) as running:
        yield [running[name] for name in ("intake", "tasking", "payout", "qa")]


async def test_a_task_goes_from_lab_to_expert_to_ledger_and_back_to_the_lab(platform, eventually, onboard, token_keys):
    intake, tasking, payout, qa = platform
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{intake.grpc_port}") as ic,
        grpc.aio.insecure_channel(f"127.0.0.1:{tasking.grpc_port}") as tc,
        grpc.aio.insecure_channel(f"127.0.0.1:{qa.grpc_port}") as qc,
    ):
        lab_md = await onboard.lab(ic)
        pid = await onboard.project(
            ic,
            lab_md,
            title="SFT chemistry",
            data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
            qualifications=types.Qualifications(fields=["chemistry"], languages=["en"]),
            instructions_markdown="Write the ideal answer.",
            review_sample_rate=1.0,
            rubric=types.Rubric(criteria=[types.RubricCriterion(name="correct", weight=1, scale_min=1, scale_max=5)]),
            pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=2000), review_rate_minor=300),
        )
        projects = projects_pb2_grpc.ProjectServiceStub(ic)
        await tasks_pb2_grpc.TaskServiceStub(ic).AddTasks(
            tpb.AddTasksRequest(
                project_id=pid,
                tasks=[tpb.NewTask(task_id="q1", input=ttypes.TaskInput(prompt="Why does SN2 invert configuration?"))],
            ),
            metadata=lab_md,
        )
        await projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab_md)

        expert_id, expert = await onboard.expert(tc)
        # A reviewer registered in tasking: QA routes reviews by the profile tasking publishes.
        reviewer_id, reviewer = await onboard.expert(tc, reviewer=True)
        work = work_pb2_grpc.WorkServiceStub(tc)

        async def leased():
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=expert)
            return reply.assignment if reply.HasField("assignment") else None

        assignment = await eventually(leased)
        assert (assignment.project_id, assignment.input.prompt) == (pid, "Why does SN2 invert configuration?")
        submitted = await work.SubmitTask(
            work_pb2.SubmitTaskRequest(
                assignment_id=assignment.assignment_id,
                payload=sub.SubmissionPayload(
                    sft=sub.SftSubmission(response="Backside attack through a trigonal bipyramidal transition state.")
                ),
            ),
            metadata=expert,
        )

        # Every submission of this project is reviewed: QA's checks pass it on to the review queue.
        reviews = reviews_pb2_grpc.ReviewServiceStub(qc)

        async def review_offered():
            try:
                reply = await reviews.AcquireReview(reviews_pb2.AcquireReviewRequest(project_id=pid), metadata=reviewer)
            except grpc.aio.AioRpcError as err:
                # Tasking may hear of the project before QA does; QA knows nothing of it until then.
                if err.code() == grpc.StatusCode.NOT_FOUND:
                    return None
                raise
            return reply.review if reply.HasField("review") else None

        review = await eventually(review_offered)
        assert review.submission_id == submitted.submission_id
        assert review.input.prompt == "Why does SN2 invert configuration?"
        await reviews.SubmitReview(
            reviews_pb2.SubmitReviewRequest(
                review_id=review.review_id, scores={"correct": 5}, verdict=reviews_pb2.REVIEW_VERDICT_ACCEPT
            ),
            metadata=reviewer,
        )

        async def payable():
            value = await payout.pool.fetchval(
                "SELECT balance FROM accounts WHERE name = $1 AND currency = 'EUR'", f"expert:{expert_id}:payable"
            )
            return value

        assert await eventually(payable) == -2000, "the expert is owed the rate, once"

        async def reviewer_payable():
            return await payout.pool.fetchval(
                "SELECT balance FROM accounts WHERE name = $1 AND currency = 'EUR'", f"expert:{reviewer_id}:payable"
            )

        assert await eventually(reviewer_payable) == -300, "the reviewer is owed the review rate, once"

        async def lab_sees_it():
            # The stream ends when the project completes (its one item delivered), which may come
            # before the review's spend update: watch again until the figures are all in.
            while True:
                stream = delivery_pb2_grpc.DeliveryServiceStub(ic).WatchProgress(
                    delivery_pb2.WatchProgressRequest(project_id=pid), metadata=lab_md
                )
                async for reply in stream:
                    p = reply.progress
                    # 2,000 earning + 300 review, each with the 20 % platform fee.
                    if p.submissions_accepted == 1 and p.spent_minor == 2760:
                        stream.cancel()
                        return p
                await asyncio.sleep(0.2)

        progress = await asyncio.wait_for(lab_sees_it(), 45)
        assert (progress.submissions_received, progress.tasks_queued, progress.committed_minor) == (1, 0, 0)

        # The finalized item reaches the lab: the reviewed answer, pseudonymous ids, the review score.
        async def exported():
            items = []
            async for reply in delivery_pb2_grpc.DeliveryServiceStub(ic).ExportItems(
                delivery_pb2.ExportItemsRequest(project_id=pid), metadata=lab_md
            ):
                items.extend(reply.items)
            return items

        (item,) = await eventually(exported)
        record = json.loads(item.record_json)
        assert item.task_id == "q1"
        assert record["messages"][-1] == {
            "role": "assistant",
            "content": "Backside attack through a trigonal bipyramidal transition state.",
        }
        assert record["metadata"]["expert_ids"] == onboard.lab_sees(lab_md, expert_id)
        assert record["metadata"]["quality"]["reviewer_scores"] == [5.0]
