"""WorkService and ExpertAdminService over real gRPC, PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import grpc
import pytest
from prometheus_client import CollectorRegistry

from cohort.events.v1 import experts_pb2 as expert_events
from cohort.events.v1 import submissions_pb2 as sub_events
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc
from cohort.tasking.v1 import work_pb2 as pb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort_runtime.testing import eventually
from cohort_tasking.app import experts as experts_app
from cohort_tasking.metrics import TaskingGauges

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


async def test_submit_with_acquire_next_leases_the_next_task_in_the_same_call(tasking):
    pid = await tasking.project(tasks=3, overlap=1)
    _expert, creds = await tasking.register()
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(
                assignment_id=a.assignment_id, payload=RANK_BA, acquire_next=pb.AcquireTaskRequest(project_id="nope")
            ),
            metadata=creds,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "acquire_next.project_id" in err.value.details()
    state = await tasking.pool.fetchval(
        "SELECT state FROM assignments WHERE assignment_id = $1::text::uuid", a.assignment_id
    )
    assert state == "active", "a rejected request stores nothing"

    seen = [a.task_id]
    for _ in range(2):
        reply = await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=a.assignment_id, payload=RANK_BA, acquire_next=pb.AcquireTaskRequest()),
            metadata=creds,
        )
        a = reply.next_assignment
        assert reply.submission_id and a.state == pb.ASSIGNMENT_STATE_ACTIVE and a.project_id == pid
        assert a.task_id not in seen and [c.candidate_id for c in a.input.candidates] == ["a", "b"]
        seen.append(a.task_id)
    last = await tasking.work.SubmitTask(
        pb.SubmitTaskRequest(
            assignment_id=a.assignment_id, payload=RANK_BA, acquire_next=pb.AcquireTaskRequest(project_id=pid)
        ),
        metadata=creds,
    )
    assert last.submission_id and not last.HasField("next_assignment"), "no task left: the submission alone"
    stored = await tasking.pool.fetch("SELECT task_id FROM submissions ORDER BY submit_time")
    assert [r["task_id"] for r in stored] == seen
    live = await tasking.pool.fetchval("SELECT count(*) FROM assignments WHERE state = 'active'")
    assert live == 0


async def test_a_submit_whose_next_lease_fails_still_reports_the_submission(tasking, monkeypatch):
    """The database failing between the stored submission and the next lease (simulated: an outage
    cannot be timed between two statements here) must not hide the submission from the expert."""
    import asyncpg

    from cohort_tasking.api import work as work_api

    await tasking.project(tasks=2, overlap=1)
    _expert, creds = await tasking.register()
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment

    async def outage(*_args, **_kwargs):
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(work_api.app, "acquire", outage)
    reply = await tasking.work.SubmitTask(
        pb.SubmitTaskRequest(assignment_id=a.assignment_id, payload=RANK_BA, acquire_next=pb.AcquireTaskRequest()),
        metadata=creds,
    )
    assert reply.submission_id and not reply.HasField("next_assignment")
    stored = await tasking.pool.fetchval(
        "SELECT count(*) FROM submissions WHERE submission_id = $1::text::uuid", reply.submission_id
    )
    assert stored == 1


async def test_release_and_expiry_return_the_slot(tasking):
    pid = await tasking.project(tasks=1, overlap=1, lease_seconds=1)
    _e1, c1 = await tasking.register()
    _e2, c2 = await tasking.register()
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c1)).assignment
    assert not (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c2)).HasField("assignment")
    tasking.clock.advance(1.5)  # the lease runs out; the sweeper (every 0.2 s) returns the slot

    async def reopened():
        reply = await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=c2)
        return reply.assignment if reply.HasField("assignment") else None

    b = await eventually(reopened, within=10, what="the expired lease's slot leased to the second expert")
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
        # Exactly as for a missing assignment: whether an id exists is not told to other experts.
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert "another expert" not in (err.value.details() or "")
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
    await tasking.admin.CreateCohort(
        experts_pb2.CreateCohortRequest(cohort=experts_pb2.Cohort(cohort_id="nov", display_name="November")),
        metadata=tasking.operator,
    )
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


async def test_quality_updates_gate_routing_and_suspensions_end_leases(tasking):
    from google.protobuf.timestamp_pb2 import Timestamp

    from cohort.events.v1 import quality_pb2

    pid = await tasking.project(tasks=3, overlap=1, qualifications=types.Qualifications(minimum_quality=0.8))
    expert, creds = await tasking.register()

    def update(mean: float, upper: float, suspended: bool, seconds: int) -> quality_pb2.ExpertQualityUpdated:
        ts = Timestamp()
        ts.FromDatetime(dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds))
        return quality_pb2.ExpertQualityUpdated(
            expert_id=expert,
            domain="chemistry.organic",
            mean=mean,
            upper=upper,
            suspended=suspended,
            as_of=ts,
            reasons=["gold accuracy 0.41"] if suspended else [],
        )

    async def eligible() -> bool:
        got = await tasking.work.ListEligibleProjects(pb.ListEligibleProjectsRequest(), metadata=creds)
        return pid in [p.project_id for p in got.projects]

    async def barred() -> bool:
        return not await eligible()

    assert await eligible(), "an unmeasured expert counts at the prior's bound, 0.98 >= 0.8"
    # Confidently below the minimum (the whole interval under 0.8): barred.
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.7, 0.78, False, 10))
    await eventually(barred)
    # Below it on average but not confidently: routed, so the estimate can still move either way.
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.74, 0.9, False, 12))
    await eventually(eligible)
    # An update without a bound gates on its mean.
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.7, 0.0, False, 14))
    await eventually(barred)
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.9, 0.0, False, 15))
    await eventually(eligible)
    a = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
    assert a.project_id == pid and a.instructions_markdown == "rank"

    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.3, 0.4, True, 5))  # older: ignored
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, update(0.3, 0.4, True, 20))

    async def lease_ended() -> bool:
        state = await tasking.pool.fetchval(
            "SELECT state FROM assignments WHERE assignment_id = $1::text::uuid", a.assignment_id
        )
        return state == "released"

    await eventually(lease_ended)
    assert not await eligible()
    assert await tasking.pool.fetchval("SELECT mean FROM expert_quality WHERE expert_id = $1", expert) == pytest.approx(
        0.3
    )


async def test_extra_judgments_add_slots_up_to_the_maximum(tasking):
    from cohort.events.v1 import quality_pb2

    pid = await tasking.project(tasks=1, overlap=1, max_overlap=3)
    sent = await tasking.events.send(
        "cohort.qa.requests.v1", pid, quality_pb2.ExtraJudgmentsRequested(project_id=pid, task_id="t0", additional=5)
    )
    await tasking.handled(sent)
    assert await tasking.pool.fetchval("SELECT count(*) FROM slots WHERE project_id = $1::text::uuid", pid) == 3


async def test_replacements_of_rejected_answers_go_beyond_the_maximum_up_to_twice_it(tasking):
    from cohort.events.v1 import quality_pb2

    pid = await tasking.project(tasks=1, overlap=1, max_overlap=3)

    async def ask(additional: int, replaces_rejected: bool) -> tuple[int, int]:
        request = quality_pb2.ExtraJudgmentsRequested(
            project_id=pid, task_id="t0", additional=additional, replaces_rejected=replaces_rejected
        )
        await tasking.handled(await tasking.events.send("cohort.qa.requests.v1", pid, request))
        row = await tasking.pool.fetchrow(
            """SELECT count(*) AS total, count(*) FILTER (WHERE replaces_rejected) AS replacements
               FROM slots WHERE project_id = $1::text::uuid""",
            pid,
        )
        return row["total"], row["replacements"]

    assert await ask(2, True) == (3, 2), "two rejected answers replaced: they do not use up the maximum"
    assert await ask(5, False) == (5, 2), "adaptive overlap still stops at 3 slots that are not replacements"
    assert await ask(5, True) == (6, 3), "replacements stop at the ceiling, twice the maximum overlap"
    assert await ask(1, True) == (6, 3)


async def test_experts_edit_only_their_own_editable_fields(tasking):
    expert, creds = await tasking.register(skills=["nmr"])
    other, other_creds = await tasking.register()
    stub = experts_pb2_grpc.ProfileServiceStub(tasking.channel)
    mine = (await stub.GetMyProfile(experts_pb2.GetMyProfileRequest(), metadata=creds)).expert
    assert (mine.expert_id, list(mine.skills)) == (expert, ["nmr"])
    updated = (
        await stub.UpdateMyProfile(
            experts_pb2.UpdateMyProfileRequest(
                skills=["nmr", "hplc"], languages=["en", "fr"], timezone="Europe/Paris", weekly_hours=30
            ),
            metadata=creds,
        )
    ).expert
    assert (list(updated.languages), updated.weekly_hours, updated.degree) == (["en", "fr"], 30, mine.degree)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UpdateMyProfile(
            experts_pb2.UpdateMyProfileRequest(weekly_hours=500, languages=["!!"]), metadata=creds
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expert.weekly_hours" in err.value.details() and "expert.languages[0]" in err.value.details()
    theirs = (await stub.GetMyProfile(experts_pb2.GetMyProfileRequest(), metadata=other_creds)).expert
    assert theirs.expert_id == other and list(theirs.skills) == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetMyProfile(experts_pb2.GetMyProfileRequest(), metadata=tasking.operator)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_every_profile_change_is_published_for_review_routing(tasking):
    """Registration, a status change and a self-service edit each publish the whole routing profile
    (QA routes reviews by it), in order, keyed by the expert, with no personal data beyond the id."""
    lab = str(uuid.uuid4())
    expert, creds = await tasking.register(blocked_lab_ids=[lab], reviewer=True, skills=["nmr"])
    await tasking.admin.SetExpertStatus(
        experts_pb2.SetExpertStatusRequest(expert_id=expert, status=experts_pb2.EXPERT_STATUS_SUSPENDED),
        metadata=tasking.operator,
    )
    await experts_pb2_grpc.ProfileServiceStub(tasking.channel).UpdateMyProfile(
        experts_pb2.UpdateMyProfileRequest(languages=["en", "fr"], timezone="Europe/Paris", weekly_hours=10),
        metadata=creds,
    )
    rows = await tasking.pool.fetch(
        "SELECT topic, key, payload FROM outbox WHERE event_type = 'cohort.events.v1.ExpertProfileChanged' ORDER BY id"
    )
    changes = [expert_events.ExpertProfileChanged.FromString(r["payload"]) for r in rows if r["key"] == expert.encode()]
    assert {r["topic"] for r in rows} == {"cohort.tasking.experts.v1"}
    assert [(c.active, list(c.languages)) for c in changes] == [(True, ["en"]), (False, ["en"]), (False, ["en", "fr"])]
    first = changes[0]
    assert (first.expert_id, list(first.blocked_lab_ids), first.reviewer, list(first.fields)) == (
        expert,
        [lab],
        True,
        ["chemistry.organic"],
    )
    assert first.degree == types.DEGREE_LEVEL_DOCTORATE and first.HasField("change_time")
    assert (
        changes[0].change_time.ToDatetime()
        <= changes[1].change_time.ToDatetime()
        <= changes[2].change_time.ToDatetime()
    )


async def test_experts_registered_before_profiles_were_published_are_announced_once(tasking):
    """An expert row as an older tasking left it (never announced) is published by the startup
    job, exactly once however often it runs."""
    old = f"exp_{uuid.uuid4().hex[:12]}"
    await tasking.pool.execute(
        """INSERT INTO experts VALUES ($1, 4, '{chemistry}', '{}', '{en}', 'DE', 'UTC', 10, '{}', true,
           'active', now(), now())""",
        old,
    )
    # The service's own startup job may be running still and take it first (SKIP LOCKED lets the
    # others pass it by until it commits): either way, once.
    await asyncio.gather(*(experts_app.announce_profiles(tasking.pool, batch=1) for _ in range(3)))

    async def published():
        return await tasking.pool.fetch(
            "SELECT payload FROM outbox WHERE event_type = 'cohort.events.v1.ExpertProfileChanged' AND key = $1",
            old.encode(),
        )

    payloads = await eventually(published, 10, "the old expert's profile published")
    assert await experts_app.announce_profiles(tasking.pool) == 0
    assert len(await published()) == 1
    (announced,) = [expert_events.ExpertProfileChanged.FromString(r["payload"]) for r in payloads]
    assert (announced.expert_id, announced.reviewer, announced.active) == (old, True, True)


async def test_gold_lasts_every_expert_sees_each_gold_task_once(tasking):
    """One gold task among three, gold drawn first on every lease: each of five experts is served
    it (overlap 1 would have used it up after one), none twice; then ordinary work; a released
    gold lease does not put the task back in anyone's queue."""
    pid = await tasking.project(tasks=3, overlap=1, gold_every=3, gold_rate=1.0)
    ranking = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"]))
    experts = [await tasking.register() for _ in range(5)]
    work = tasking.work
    for i, (_expert, creds) in enumerate(experts):
        first = (await work.AcquireTask(pb.AcquireTaskRequest(project_id=pid), metadata=creds)).assignment
        assert first.task_id == "t0", "the gold task, to every expert"
        if i == 0:
            await work.ReleaseTask(pb.ReleaseTaskRequest(assignment_id=first.assignment_id), metadata=creds)
        else:
            await work.SubmitTask(
                pb.SubmitTaskRequest(assignment_id=first.assignment_id, payload=ranking), metadata=creds
            )
    _, creds = experts[1]
    nxt = (await work.AcquireTask(pb.AcquireTaskRequest(project_id=pid), metadata=creds)).assignment
    assert nxt.task_id in {"t1", "t2"}, "gold seen once: ordinary work next"
    _, creds = experts[0]
    again = (await work.AcquireTask(pb.AcquireTaskRequest(project_id=pid), metadata=creds)).assignment
    assert again.task_id in {"t1", "t2"}, "a gold task released unanswered is not served to its expert again"
    slots = await tasking.pool.fetch("SELECT open FROM slots WHERE project_id = $1::text::uuid AND task_id = 't0'", pid)
    assert len(slots) == 5 and not any(r["open"] for r in slots), "a slot per gold lease, none reopened"

    registry = CollectorRegistry()
    await TaskingGauges(registry).refresh(tasking.pool)

    def gauge(name: str) -> float | None:
        return registry.get_sample_value(f"cohort_tasking_gold_{name}", {"project_id": pid})

    assert (gauge("pool"), gauge("exposure_ratio")) == (1, 1.0)
    assert gauge("unseen_min") == 0, "the pool has run dry for these experts"


async def test_tasks_added_to_an_active_project_get_their_slots_once(tasking):
    pid = await tasking.project(tasks=3, overlap=2)
    # A later batch repeats t2 (intake re-sending) beside two new tasks; then one more batch.
    first = await tasking.add_tasks(pid, ["t2", "t3", "t4"])
    second = await tasking.add_tasks(pid, ["t5"])
    await tasking.handled(first, second)
    per_task = dict(
        await tasking.pool.fetch(
            "SELECT task_id, count(*) FROM slots WHERE project_id = $1::text::uuid GROUP BY task_id", pid
        )
    )
    assert per_task == {f"t{i}": 2 for i in range(6)}


async def test_finalized_items_stop_routing_their_tasks(tasking):
    from cohort.events.v1 import items_pb2

    pid = await tasking.project(tasks=3, overlap=2)
    done = ["t0", "t2"]
    for task_id in done:  # sent back to back: consumed as one batch when fetched together
        await tasking.events.send(
            "cohort.qa.items.v1",
            pid,
            items_pb2.ItemFinalized(project_id=pid, task_id=task_id, item_id=str(uuid.uuid4())),
        )

    async def closed() -> bool:
        return not await tasking.pool.fetchval(
            "SELECT count(*) FROM slots WHERE project_id = $1::text::uuid AND task_id = ANY($2::text[]) AND open",
            pid,
            done,
        )

    await eventually(closed)
    for _ in range(2):  # t1's two slots, and then nothing
        _expert, creds = await tasking.register()
        got = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
        assert got.task_id == "t1"
    _expert, creds = await tasking.register()
    assert not (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).HasField("assignment")


async def test_a_retried_submit_with_its_request_id_returns_the_first_submission(tasking):
    """A reply lost on the way back: the retry learns its work is in, and nothing is stored twice."""
    await tasking.project(tasks=2, overlap=1)
    _expert, creds = await tasking.register()
    lease = (await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)).assignment
    key = str(uuid.uuid4())
    request = pb.SubmitTaskRequest(assignment_id=lease.assignment_id, payload=RANK_BA, request_id=key)
    first = await tasking.work.SubmitTask(request, metadata=creds)
    retry = await tasking.work.SubmitTask(request, metadata=creds)
    assert retry.submission_id == first.submission_id
    stored = await tasking.pool.fetchval(
        "SELECT count(*) FROM submissions WHERE assignment_id = $1", uuid.UUID(lease.assignment_id)
    )
    events = await tasking.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'cohort.events.v1.SubmissionCreated'"
    )
    assert (stored, events) == (1, 1)

    other = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=lease.assignment_id, payload=other, request_id=key), metadata=creds
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS, "same key, other content"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=lease.assignment_id, payload=RANK_BA, request_id="nope"),
            metadata=creds,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
