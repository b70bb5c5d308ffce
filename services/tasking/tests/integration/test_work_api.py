"""WorkService and ExpertAdminService over real gRPC, PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import grpc
import pytest

from cohort.events.v1 import submissions_pb2 as sub_events
from cohort.tasking.v1 import experts_pb2
from cohort.tasking.v1 import work_pb2 as pb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub

RANK_BA = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["b", "a"], rationale="b is right"))


async def test_acquire_submit_loop(tasking):
    pid = await tasking.project(tasks=3, overlap=2)
    expert, creds = await tasking.register()
    first = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
    assert first.project_id == pid and first.state == pb.ASSIGNMENT_STATE_ACTIVE
    assert [c.candidate_id for c in first.input.candidates] == ["a", "b"]
    again = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
    assert again.assignment_id == first.assignment_id, "a retried acquire returns the live lease"

    wrong = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "a"]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=first.assignment_id, payload=wrong), metadata=creds
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    sft = sub.SubmissionPayload(sft=sub.SftSubmission(response="x"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=first.assignment_id, payload=sft), metadata=creds
        )
    assert "expects a preference submission" in err.value.details()

    done = await tasking.work.SubmitTask(
        pb.SubmitTaskRequest(assignment_id=first.assignment_id, payload=RANK_BA), metadata=creds
    )
    row = await tasking.pool.fetchrow(
        "SELECT payload FROM outbox WHERE event_type = 'cohort.events.v1.SubmissionCreated' ORDER BY id DESC LIMIT 1"
    )
    event = sub_events.SubmissionCreated.FromString(bytes(row["payload"]))
    assert (event.submission_id, event.expert_id, event.task_id) == (done.submission_id, expert, first.task_id)
    assert list(event.payload.preference.ranking) == ["b", "a"]
    assert event.data_kind == types.DATA_KIND_PREFERENCE

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=first.assignment_id, payload=RANK_BA), metadata=creds
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, "a second submit changes nothing"

    seen = {first.task_id}
    for _ in range(2):
        a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
        assert a.task_id not in seen, "never two slots of one task for one expert"
        seen.add(a.task_id)
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=a.assignment_id, payload=RANK_BA), metadata=creds
        )
    nothing = await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)
    assert not nothing.HasField("assignment"), "every task done once by this expert: nothing left for them"
    _other, other_creds = await tasking.register()
    assert (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=other_creds)).HasField("assignment")
    mine = await tasking.work.ListMyAssignments(pb.ListMyAssignmentsRequest(page_size=2), metadata=creds)
    assert len(mine.assignments) == 2 and mine.next_page_token


async def test_release_and_expiry_return_the_slot(tasking):
    pid = await tasking.project(tasks=1, overlap=1, lease_seconds=1)
    _e1, c1 = await tasking.register()
    _e2, c2 = await tasking.register()
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c1)).assignment
    assert not (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c2)).HasField("assignment")
    await asyncio.sleep(1.6)  # the lease runs out; the sweeper (every 0.2 s) returns the slot
    b = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c2)).assignment
    assert b.task_id == a.task_id and b.assignment_id != a.assignment_id
    for call in (
        lambda: tasking.work.Heartbeat(pb.HeartbeatRequest(assignment_id=a.assignment_id), metadata=c1),
        lambda: tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=a.assignment_id, payload=RANK_BA), metadata=c1
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call()
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "expired" in err.value.details()
    expired = await tasking.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'cohort.events.v1.AssignmentExpired'"
    )
    assert expired == 1
    await tasking.work.ReleaseTask(pb.ReleaseTaskRequest(assignment_id=b.assignment_id), metadata=c2)
    _e3, c3 = await tasking.register()
    assert (
        await tasking.work.AcquireTask(pb.AcquireTaskRequest(project_id=pid), metadata=c3)
    ).assignment.task_id == a.task_id


async def test_credentials_and_ownership(tasking):
    await tasking.project(tasks=2, overlap=1)
    owner, creds = await tasking.register()
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
    _thief, thief = await tasking.register()
    for call in (
        lambda: tasking.work.Heartbeat(pb.HeartbeatRequest(assignment_id=a.assignment_id), metadata=thief),
        lambda: tasking.work.ReleaseTask(pb.ReleaseTaskRequest(assignment_id=a.assignment_id), metadata=thief),
        lambda: tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=a.assignment_id, payload=RANK_BA), metadata=thief
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call()
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    from cohort_runtime.tokens import generate_keypair, issue_token

    cases = [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        (tasking.expert_md(owner, ttl=dt.timedelta(seconds=-5)), grpc.StatusCode.UNAUTHENTICATED),
        (
            (("authorization", "Bearer " + issue_token(generate_keypair()[0], kind="expert", subject=owner)),),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        (tasking.operator, grpc.StatusCode.PERMISSION_DENIED),
        (tasking.expert_md("exp_notregistered"), grpc.StatusCode.PERMISSION_DENIED),
    ]
    for metadata, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=metadata)
        assert err.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.admin.GetExpert(experts_pb2.GetExpertRequest(expert_id=owner), metadata=creds)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await tasking.work.Heartbeat(pb.HeartbeatRequest(assignment_id=a.assignment_id), metadata=creds)).HasField(
        "expire_time"
    )


async def test_eligibility_walls_cohorts_and_suspension(tasking):
    lab = uuid.uuid4()
    pid = await tasking.project(
        tasks=2,
        overlap=1,
        lab_id=str(lab),
        qualifications=types.Qualifications(fields=["chemistry"], cohort_ids=["nov"]),
    )
    walled, walled_creds = await tasking.register(blocked_lab_ids=[str(lab)])
    member, member_creds = await tasking.register()
    outsider, outsider_creds = await tasking.register(fields=["physics.quantum"])
    await tasking.admin.AddToCohort(
        experts_pb2.AddToCohortRequest(cohort_id="nov", expert_ids=[walled, member, outsider]),
        metadata=tasking.operator,
    )
    assert not (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=walled_creds)).HasField("assignment")
    assert not (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=outsider_creds)).HasField("assignment")
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=member_creds)).assignment
    assert a.project_id == pid
    await tasking.admin.SetExpertStatus(
        experts_pb2.SetExpertStatusRequest(expert_id=member, status=experts_pb2.EXPERT_STATUS_SUSPENDED),
        metadata=tasking.operator,
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=member_creds)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    open_slots = await tasking.pool.fetchval(
        "SELECT count(*) FROM slots WHERE open AND project_id = $1::text::uuid", pid
    )
    assert open_slots == 2, "suspension returned the member's lease to the queue"


async def test_concurrent_acquirers_never_share_a_slot(tasking):
    await tasking.project(tasks=15, overlap=2)  # 30 slots
    experts = [await tasking.register() for _ in range(40)]
    results = await asyncio.gather(
        *(tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds) for _e, creds in experts)
    )
    leased = [r.assignment for r in results if r.HasField("assignment")]
    assert len(leased) == 30, "every slot leased, none left idle while experts wait"
    slots = await tasking.pool.fetch("SELECT slot_id FROM assignments WHERE state = 'active'")
    assert len({r["slot_id"] for r in slots}) == 30
    holders = await tasking.pool.fetch("SELECT expert_id, task_id FROM assignments WHERE state = 'active'")
    assert len({(r["expert_id"], r["task_id"]) for r in holders}) == 30
    assert len({r["expert_id"] for r in holders}) == 30, "one live lease per expert"
    released = [
        tasking.work.ReleaseTask(pb.ReleaseTaskRequest(assignment_id=r.assignment.assignment_id), metadata=creds)
        for r, (_e, creds) in zip(results, experts, strict=True)
        if r.HasField("assignment")
    ]
    await asyncio.gather(*released)
    assert await tasking.pool.fetchval("SELECT count(*) FROM slots WHERE open") == 30, "no slot lost"
