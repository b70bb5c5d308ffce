"""DisputeService over real gRPC, PostgreSQL and Kafka: a lab's rejected item arrives from intake,
QA staff decide it once, and the decision is published for intake."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import items_pb2
from cohort.qa.v1 import disputes_pb2 as pb
from cohort_runtime.testing import eventually


async def _disputed(qa, project_id: str, task_id: str = "t1", reason: str = "wrong ranking") -> str:
    item_id = str(uuid.uuid4())
    when = Timestamp()
    when.GetCurrentTime()
    event = items_pb2.ItemDisputed(
        project_id=project_id, task_id=task_id, item_id=item_id, audit_id=str(uuid.uuid4()), reason=reason,
        dispute_time=when,
    )  # fmt: skip
    await qa.events.send("cohort.intake.audits.v1", project_id, event)
    await qa.events.send("cohort.intake.audits.v1", project_id, event)  # redelivered: one dispute

    async def arrived():
        return await qa.pool.fetchval("SELECT count(*) FROM disputes WHERE item_id = $1::text::uuid", item_id) or None

    assert await eventually(arrived, 20, "the dispute") == 1
    return item_id


async def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details() or ""


async def test_a_dispute_is_decided_once_and_the_decision_published(qa):
    stub = qa.disputes
    project_id = str(uuid.uuid4())
    first = await _disputed(qa, project_id, "t1")
    second = await _disputed(qa, project_id, "t2", "cites a retracted paper")
    listed = (await stub.ListDisputes(pb.ListDisputesRequest(project_id=project_id), metadata=qa.operator)).disputes
    assert [d.item_id for d in listed] == [first, second] and all(d.state == pb.DISPUTE_STATE_OPEN for d in listed)
    page = await stub.ListDisputes(pb.ListDisputesRequest(project_id=project_id, page_size=1), metadata=qa.operator)
    rest = await stub.ListDisputes(
        pb.ListDisputesRequest(project_id=project_id, page_size=1, page_token=page.next_page_token),
        metadata=qa.operator,
    )
    assert [d.item_id for d in [*page.disputes, *rest.disputes]] == [first, second] and not rest.next_page_token
    wrong_state = pb.ListDisputesRequest(
        project_id=project_id, state=pb.DISPUTE_STATE_UPHELD, page_token=page.next_page_token
    )
    assert (await _code(stub.ListDisputes(wrong_state, metadata=qa.operator)))[0] == grpc.StatusCode.INVALID_ARGUMENT
    shown = (await stub.GetDispute(pb.GetDisputeRequest(item_id=second), metadata=qa.operator)).dispute
    assert (shown.task_id, shown.lab_reason) == ("t2", "cites a retracted paper")

    upheld = await stub.DecideDispute(
        pb.DecideDisputeRequest(item_id=first, uphold=True, comments="agreed: candidate b is unsafe"),
        metadata=qa.operator,
    )
    assert upheld.dispute.state == pb.DISPUTE_STATE_UPHELD and upheld.dispute.decided_by == "op"
    again = await stub.DecideDispute(
        pb.DecideDisputeRequest(item_id=first, uphold=True, comments="agreed: candidate b is unsafe"),
        metadata=qa.operator,
    )
    assert again.dispute.decide_time == upheld.dispute.decide_time, "the same decision again: no-op"
    code, details = await _code(
        stub.DecideDispute(pb.DecideDisputeRequest(item_id=first, uphold=False, comments="no"), metadata=qa.operator)
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "final" in details
    await stub.DecideDispute(
        pb.DecideDisputeRequest(item_id=second, uphold=False, comments="the paper was retracted after delivery"),
        metadata=qa.operator,
    )
    decided = await qa.pool.fetch("SELECT payload FROM outbox WHERE topic = 'cohort.qa.disputes.v1' ORDER BY id")
    messages = [items_pb2.DisputeDecided.FromString(r["payload"]) for r in decided]
    assert [(m.item_id, m.upheld) for m in messages] == [(first, True), (second, False)]
    left = (await stub.ListDisputes(pb.ListDisputesRequest(project_id=project_id), metadata=qa.operator)).disputes
    assert left == []
    dismissed = await stub.ListDisputes(
        pb.ListDisputesRequest(project_id=project_id, state=pb.DISPUTE_STATE_DISMISSED), metadata=qa.operator
    )
    assert [d.item_id for d in dismissed.disputes] == [second]


async def test_bad_decisions_and_callers_are_refused(qa):
    stub = qa.disputes
    item_id = await _disputed(qa, str(uuid.uuid4()))
    for request, field in (
        (pb.DecideDisputeRequest(item_id=item_id, uphold=True, comments="  "), "comments"),
        (pb.DecideDisputeRequest(item_id="nope", uphold=True, comments="x"), "item_id"),
    ):
        code, details = await _code(stub.DecideDispute(request, metadata=qa.operator))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and field in details
    assert (await _code(stub.GetDispute(pb.GetDisputeRequest(item_id=str(uuid.uuid4())), metadata=qa.operator)))[
        0
    ] == grpc.StatusCode.NOT_FOUND
    expert = qa.token("expert", "exp_someone1", "reviewer")
    code, _ = await _code(stub.ListDisputes(pb.ListDisputesRequest(), metadata=expert))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    state = await qa.pool.fetchval("SELECT state FROM disputes WHERE item_id = $1::text::uuid", item_id)
    assert state == "open", "nothing refused changed the dispute"
