"""AuditService over real gRPC, PostgreSQL and Kafka: lots, ISO 2859-1 samples, findings,
decisions, disputes to QA, and what a lab may not do."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from cohort.events.v1 import items_pb2
from cohort.intake.v1 import audits_pb2 as pb
from cohort.intake.v1 import audits_pb2_grpc
from cohort_runtime.testing import eventually

from .test_webhooks import item, project_with_tasks


async def _delivered(intake, lab, events, count: int, first: int = 0, pid: str | None = None) -> str:
    pid = pid or await project_with_tasks(intake, lab, target=count)
    for i in range(first, first + count):
        await events.send("cohort.qa.items.v1", pid, item(pid, f"t{i}"))

    async def all_in():
        n = await intake.pool.fetchval("SELECT count(*) FROM items WHERE project_id = $1::text::uuid", pid)
        return n if n == first + count else None

    await eventually(all_in, 30, f"{first + count} items delivered")
    return pid


async def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details() or ""


def _finding(item_id: str, rejected: bool = False, reason: str = "") -> pb.ItemFinding:
    finding = pb.FINDING_REJECTED if rejected else pb.FINDING_ACCEPTED
    return pb.ItemFinding(item_id=item_id, finding=finding, reason=reason)


async def test_a_lot_is_sampled_per_iso_2859_1_and_decided_from_the_findings(intake, events):
    _lab_id, lab = await intake.new_lab()
    stub = audits_pb2_grpc.AuditServiceStub(intake.channel)
    pid = await _delivered(intake, lab, events, 60, pid=await project_with_tasks(intake, lab, target=70))
    request = pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=2.5)
    audit = (await stub.CreateAudit(request, metadata=lab)).audit
    # Lot of 60 is letter E (13); at AQL 2.5 E's cell points down to F: 20 items, Ac 1, Re 2.
    assert (audit.lot_size, audit.plan.code_letter, audit.plan.sample_size) == (60, "E", 20)
    assert (audit.plan.acceptance_number, audit.plan.rejection_number) == (1, 2)
    assert audit.decision == pb.AUDIT_DECISION_PENDING
    sampled = [i.item_id for i in audit.items]
    project_items = {
        str(r["item_id"])
        for r in await intake.pool.fetch("SELECT item_id FROM items WHERE project_id = $1::text::uuid", pid)
    }
    assert len(set(sampled)) == 20 and set(sampled) <= project_items

    again = (await stub.CreateAudit(request, metadata=lab)).audit
    assert again.audit_id == audit.audit_id and [i.item_id for i in again.items] == sampled
    changed = pb.CreateAuditRequest(request_id=request.request_id, project_id=pid, aql_percent=1.0)
    assert (await _code(stub.CreateAudit(changed, metadata=lab)))[0] == grpc.StatusCode.FAILED_PRECONDITION
    fresh = pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=2.5)
    code, details = await _code(stub.CreateAudit(fresh, metadata=lab))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "since the project's last audit" in details

    bad, good = sampled[0], sampled[1:]
    half = await stub.RecordFindings(
        pb.RecordFindingsRequest(
            audit_id=audit.audit_id, findings=[_finding(bad, True, "ranking ignores the safety criterion")]
        ),
        metadata=lab,
    )
    assert (half.audit.rejected_count, half.audit.decision) == (1, pb.AUDIT_DECISION_PENDING)
    done = await stub.RecordFindings(
        pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=[_finding(i) for i in good]), metadata=lab
    )
    assert (done.audit.accepted_count, done.audit.rejected_count) == (19, 1)
    assert done.audit.decision == pb.AUDIT_DECISION_ACCEPTED and done.audit.HasField("decide_time")

    disputes = await intake.pool.fetch(
        "SELECT key, payload FROM outbox WHERE topic = 'cohort.intake.audits.v1' AND event_type = $1",
        "cohort.events.v1.ItemDisputed",
    )
    assert len(disputes) == 1 and disputes[0]["key"] == pid.encode()
    disputed = items_pb2.ItemDisputed.FromString(disputes[0]["payload"])
    assert (disputed.item_id, disputed.audit_id, disputed.reason) == (
        bad,
        audit.audit_id,
        "ranking ignores the safety criterion",
    )
    assert disputed.task_id.startswith("t")

    # A finding is final: the same again changes nothing, another is refused.
    same = pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=[_finding(bad, True, "again")])
    assert (await stub.RecordFindings(same, metadata=lab)).audit.rejected_count == 1
    flip = pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=[_finding(bad)])
    assert (await _code(stub.RecordFindings(flip, metadata=lab)))[0] == grpc.StatusCode.FAILED_PRECONDITION
    count = await intake.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'cohort.intake.audits.v1'")
    assert count == 1, "no second dispute for the same item"

    # Ten more delivered: a new lot of only those; lot 10 is B (3), down to C at 2.5: 5 items, Ac 0.
    await _delivered(intake, lab, events, 10, first=60, pid=pid)
    second = (
        await stub.CreateAudit(
            pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=2.5), metadata=lab
        )
    ).audit
    assert (second.lot_size, second.plan.sample_size, second.plan.acceptance_number) == (10, 5, 0)
    assert not {i.item_id for i in second.items} & set(sampled)
    one_bad = pb.RecordFindingsRequest(
        audit_id=second.audit_id, findings=[_finding(second.items[0].item_id, True, "hallucinated citation")]
    )
    rejected = (await stub.RecordFindings(one_bad, metadata=lab)).audit
    assert rejected.decision == pb.AUDIT_DECISION_REJECTED, "Re reached: decided at once"
    listed = (await stub.ListAudits(pb.ListAuditsRequest(project_id=pid), metadata=lab)).audits
    assert [a.audit_id for a in listed] == [second.audit_id, audit.audit_id] and not listed[0].items
    first_page = await stub.ListAudits(pb.ListAuditsRequest(project_id=pid, page_size=1), metadata=lab)
    second_page = await stub.ListAudits(
        pb.ListAuditsRequest(project_id=pid, page_size=1, page_token=first_page.next_page_token), metadata=lab
    )
    assert [a.audit_id for a in [*first_page.audits, *second_page.audits]] == [second.audit_id, audit.audit_id]
    assert second_page.next_page_token == ""
    lots = await intake.pool.fetchval("SELECT count(*) FROM audit_lots")
    assert lots == 70, "every delivered item in exactly one lot"


async def test_bad_findings_and_other_labs_are_refused_and_change_nothing(intake, events):
    _a, lab = await intake.new_lab("A")
    _b, other = await intake.new_lab("B")
    stub = audits_pb2_grpc.AuditServiceStub(intake.channel)
    pid = await _delivered(intake, lab, events, 8)
    code, details = await _code(
        stub.CreateAudit(
            pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=3.0), metadata=lab
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "aql_percent" in details
    audit = (
        await stub.CreateAudit(
            pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=10.0), metadata=lab
        )
    ).audit
    first = audit.items[0].item_id
    for findings, field in (
        ([_finding(first, True, "  ")], "findings[0].reason"),
        ([_finding(str(uuid.uuid4()))], "findings[0].item_id"),
        ([_finding(first), _finding(first)], "findings[1].item_id"),
        ([pb.ItemFinding(item_id=first)], "findings[0].finding"),
        ([_finding("not-a-uuid")], "findings[0].item_id"),
        ([], "findings"),
    ):
        code, details = await _code(
            stub.RecordFindings(pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=findings), metadata=lab)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and field in details, (field, details)
    # A valid finding beside an invalid one is not recorded either.
    mixed = [_finding(first), _finding(str(uuid.uuid4()))]
    await _code(stub.RecordFindings(pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=mixed), metadata=lab))
    shown = (await stub.GetAudit(pb.GetAuditRequest(audit_id=audit.audit_id), metadata=lab)).audit
    assert shown.accepted_count == 0 and all(i.finding == pb.FINDING_UNSPECIFIED for i in shown.items)

    for call in (
        stub.GetAudit(pb.GetAuditRequest(audit_id=audit.audit_id), metadata=other),
        stub.ListAudits(pb.ListAuditsRequest(project_id=pid), metadata=other),
        stub.RecordFindings(
            pb.RecordFindingsRequest(audit_id=audit.audit_id, findings=[_finding(first)]), metadata=other
        ),
        stub.CreateAudit(
            pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=1.0), metadata=other
        ),
    ):
        assert (await _code(call))[0] == grpc.StatusCode.NOT_FOUND


async def test_concurrent_audits_of_one_project_never_share_an_item(intake, events):
    _lab_id, lab = await intake.new_lab()
    stub = audits_pb2_grpc.AuditServiceStub(intake.channel)
    pid = await _delivered(intake, lab, events, 30)

    async def attempt():
        request = pb.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=1.0)
        try:
            return (await stub.CreateAudit(request, metadata=lab)).audit
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return None

    made = [a for a in await asyncio.gather(*(attempt() for _ in range(4))) if a is not None]
    assert len(made) == 1 and made[0].lot_size == 30
    assert await intake.pool.fetchval("SELECT count(DISTINCT audit_id) FROM audit_lots") == 1
