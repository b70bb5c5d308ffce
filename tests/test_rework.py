"""Rework across all four services over real gRPC, Kafka and PostgreSQL: two experts deliver a
completed project's items; the lab's audit rejects one; QA upholds the dispute; tasking reopens
the task at revision 2 for experts who never held it (beyond the maximum overlap, in a completed
project); QA aggregates their answers alone; intake delivers the revision as a new item that
supersedes the disputed one without counting toward the target; payout pays the rework experts
from the platform's account and charges the lab nothing more."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest

from cohort.intake.v1 import (
    audits_pb2,
    audits_pb2_grpc,
    projects_pb2_grpc,
    tasks_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.qa.v1 import disputes_pb2, disputes_pb2_grpc
from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.testing import eventually

RATE = 100  # minor units per accepted submission (the test project's pay)


@pytest.fixture
async def platform(services, fast_experts):
    async with services("intake", "tasking", "payout", "qa", qa=fast_experts) as running:
        yield running


async def test_an_upheld_item_is_reworked_by_new_experts_and_redelivered_paid_by_the_platform(platform, onboard):
    intake, tasking, payout, qa = (platform[n] for n in ("intake", "tasking", "payout", "qa"))
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{intake.grpc_port}") as ic,
        grpc.aio.insecure_channel(f"127.0.0.1:{tasking.grpc_port}") as tc,
        grpc.aio.insecure_channel(f"127.0.0.1:{qa.grpc_port}") as qc,
    ):
        lab = await onboard.lab(ic)
        pid = await onboard.project(ic, lab, target_accepted_items=2, overlap=2, max_overlap=2)
        candidates = [ttypes.Candidate(candidate_id=c, content=f"Answer {c.upper()}") for c in "ab"]
        await tasks_pb2_grpc.TaskServiceStub(ic).AddTasks(
            tpb.AddTasksRequest(
                project_id=pid,
                tasks=[tpb.NewTask(task_id=t, input=ttypes.TaskInput(prompt=f"Which? {t}", candidates=candidates))
                       for t in ("t0", "t1")],
            ),
            metadata=lab,
        )  # fmt: skip
        await projects_pb2_grpc.ProjectServiceStub(ic).ActivateProject(
            ppb.ActivateProjectRequest(project_id=pid), metadata=lab
        )
        hook = await webhooks_pb2_grpc.WebhookServiceStub(ic).CreateEndpoint(
            webhooks_pb2.CreateEndpointRequest(
                endpoint=webhooks_pb2.Endpoint(
                    url="https://lab.example/hooks", event_types=["audit.item_reworked", "item.superseded"]
                )
            ),
            metadata=lab,
        )
        work = work_pb2_grpc.WorkServiceStub(tc)

        async def acquire(md):
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(project_id=pid), metadata=md)
            return reply.assignment if reply.HasField("assignment") else None

        async def answer(md, ranking: list[str]) -> str:
            assignment = await eventually(lambda: acquire(md), 30, "a task to lease")
            await work.SubmitTask(
                work_pb2.SubmitTaskRequest(
                    assignment_id=assignment.assignment_id,
                    payload=sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=ranking)),
                ),
                metadata=md,
            )
            return assignment.task_id

        first = [await onboard.expert(tc) for _ in range(2)]
        for _, md in first:
            assert {await answer(md, ["a", "b"]), await answer(md, ["a", "b"])} == {"t0", "t1"}

        async def intake_items():
            rows = await intake.pool.fetch(
                "SELECT item_id, task_id, revision, supersedes, record_json FROM items WHERE project_id = $1::uuid",
                uuid.UUID(pid),
            )
            return {r["item_id"]: r for r in rows}

        delivered = await eventually(lambda: _at_least(intake_items, 2), 60, "both items delivered")
        state = "SELECT state FROM projects WHERE project_id = $1::uuid"
        assert await eventually(lambda: _equals(intake.pool, state, pid, "completed"), 30) == "completed"
        await eventually(lambda: _equals(tasking.pool, state, pid, "completed"), 30, "tasking knows it completed")
        await eventually(lambda: _accepted(payout.pool, pid, rework=False, n=4), 60, "four answers paid")
        spend = await _balance(payout.pool, f"project:{pid}:spend")
        assert spend == 4 * RATE * 12 // 10, "each accepted answer at the rate plus the 20 % fee"

        # The lab audits the whole lot (2 items at AQL 10 are inspected in full) and rejects t0's item.
        audits = audits_pb2_grpc.AuditServiceStub(ic)
        audit = (
            await audits.CreateAudit(
                audits_pb2.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=10.0),
                metadata=lab,
            )
        ).audit
        disputed = next(i.item_id for i in audit.items if i.task_id == "t0")
        other = next(i.item_id for i in audit.items if i.task_id == "t1")
        await audits.RecordFindings(
            audits_pb2.RecordFindingsRequest(
                audit_id=audit.audit_id,
                findings=[
                    audits_pb2.ItemFinding(item_id=disputed, finding=audits_pb2.FINDING_REJECTED, reason="B is right"),
                    audits_pb2.ItemFinding(item_id=other, finding=audits_pb2.FINDING_ACCEPTED),
                ],
            ),
            metadata=lab,
        )
        disputes = disputes_pb2_grpc.DisputeServiceStub(qc)

        async def at_qa():
            listed = await disputes.ListDisputes(
                disputes_pb2.ListDisputesRequest(project_id=pid), metadata=onboard.operator
            )
            return listed.disputes or None

        await eventually(at_qa, 30, "the dispute at QA")
        decided = await disputes.DecideDispute(
            disputes_pb2.DecideDisputeRequest(item_id=disputed, uphold=True, comments="agreed: B is right"),
            metadata=onboard.operator,
        )
        assert decided.dispute.rework_revision == 2
        again = await disputes.DecideDispute(
            disputes_pb2.DecideDisputeRequest(item_id=disputed, uphold=True, comments="agreed: B is right"),
            metadata=onboard.operator,
        )
        assert again.dispute.rework_revision == 2, "a retried decision reopens nothing more"

        # New experts get the task at revision 2 although the project is completed and t0 already
        # had its maximum overlap; the first experts never see it again.
        rework = [await onboard.expert(tc) for _ in range(2)]
        for _, md in rework:
            assert await answer(md, ["b", "a"]) == "t0"
        for _, md in [*first, *rework]:
            assert await acquire(md) is None

        items = await eventually(lambda: _at_least(intake_items, 3), 60, "the rework delivered")
        (new,) = [r for i, r in items.items() if i not in delivered]
        assert (new["task_id"], new["revision"], str(new["supersedes"])) == ("t0", 2, disputed)
        record = json.loads(new["record_json"].splitlines()[0])
        assert (record["chosen"], record["metadata"]["revision"]) == ("Answer B", 2), "the rework's answer alone"
        assert record["metadata"]["supersedes_item_id"] == disputed
        before = json.loads(delivered[uuid.UUID(disputed)]["record_json"].splitlines()[0])["metadata"]["expert_ids"]
        after = record["metadata"]["expert_ids"]
        assert len(after) == 2 and not set(after) & set(before), "aggregated from the rework experts only"
        counted = "SELECT items_delivered FROM progress WHERE project_id = $1::uuid"
        assert await intake.pool.fetchval(counted, uuid.UUID(pid)) == 2, "a rework is no new item toward the target"

        shown = (await audits.GetAudit(audits_pb2.GetAuditRequest(audit_id=audit.audit_id), metadata=lab)).audit
        item = next(i for i in shown.items if i.item_id == disputed)
        assert (item.dispute, item.rework_revision) == (audits_pb2.ITEM_DISPUTE_STATE_UPHELD, 2)
        assert item.rework_item_id == str(new["item_id"])
        told = await intake.pool.fetch(
            "SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1::text::uuid AND event_type = $2",
            hook.endpoint.endpoint_id,
            "audit.item_reworked",
        )
        data = [json.loads(r["payload"])["data"] for r in told]
        assert data == [{"project_id": pid, "audit_id": audit.audit_id, "item_id": disputed,
                         "rework_item_id": str(new["item_id"]), "revision": 2}]  # fmt: skip
        superseded = await intake.pool.fetch(
            "SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1::text::uuid AND event_type = $2",
            hook.endpoint.endpoint_id,
            "item.superseded",
        )
        assert [json.loads(r["payload"])["data"] for r in superseded] == [
            {"project_id": pid, "item_id": str(new["item_id"]), "task_id": new["task_id"],
             "supersedes_item_id": disputed, "revision": 2}
        ]  # fmt: skip

        # Money: the rework experts are paid as for new work, by the platform; the lab's charge
        # for the project is what it was.
        await eventually(lambda: _accepted(payout.pool, pid, rework=True, n=2), 60, "the rework paid")
        assert await _balance(payout.pool, "platform:rework_spend") == 2 * RATE
        for expert_id, _ in rework:
            assert await _balance(payout.pool, f"expert:{expert_id}:payable") == -RATE
        assert await _balance(payout.pool, f"project:{pid}:spend") == spend
        assert await _balance(payout.pool, "platform:rework_committed") == 0
        unbalanced = await payout.pool.fetchval(
            """SELECT count(*) FROM (SELECT transaction_id FROM entries
                                     GROUP BY transaction_id HAVING sum(amount) <> 0) u"""
        )
        assert unbalanced == 0
        # Tasking completes the project again once the rework is final.
        assert await eventually(lambda: _equals(tasking.pool, state, pid, "completed"), 30) == "completed"


async def _at_least(read, n: int):
    found = await read()
    return found if len(found) >= n else None


async def _equals(pool, query: str, pid: str, wanted):
    value = await pool.fetchval(query, uuid.UUID(pid))
    return value if value == wanted else None


async def _balance(pool, account: str) -> int:
    return int(await pool.fetchval("SELECT coalesce(sum(balance), 0) FROM accounts WHERE name = $1", account))


async def _accepted(pool, pid: str, *, rework: bool, n: int) -> bool:
    found = await pool.fetchval(
        "SELECT count(*) FROM submissions WHERE project_id = $1::uuid AND rework = $2 AND state = 'accepted'",
        uuid.UUID(pid),
        rework,
    )
    assert found <= n, f"{found} accepted, expected {n}"
    return found == n
