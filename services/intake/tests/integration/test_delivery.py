"""Progress and delivery, driven by real events on Kafka as tasking, QA and payout will send them."""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import items_pb2, spend_pb2, submissions_pb2, verdicts_pb2
from cohort.events.v1 import projects_pb2 as project_events
from cohort.intake.v1 import delivery_pb2 as pb
from cohort.intake.v1 import labs_pb2
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.types.v1 import projects_pb2 as types
from cohort_runtime import testing

from ..spec_factory import valid_spec
from .test_projects_api import create
from .test_tasks_api import preference_task


@pytest.fixture
async def active_project(intake):
    _lab_id, lab = await intake.new_lab()
    spec = valid_spec(data_kind=types.DATA_KIND_PREFERENCE, target_accepted_items=2, overlap=1, max_overlap=1)
    project = await create(intake, lab, spec)
    pid = project.project_id
    await intake.tasks.AddTasks(
        tpb.AddTasksRequest(project_id=pid, tasks=[preference_task(f"t{i}") for i in range(3)]), metadata=lab
    )
    await intake.projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab)
    return pid, lab


def item(pid: str, task_id: str, ranking: list[str], agreement: float = 0.8) -> items_pb2.ItemFinalized:
    return items_pb2.ItemFinalized(
        project_id=pid,
        task_id=task_id,
        item_id=str(uuid.uuid4()),
        preference=items_pb2.PreferenceResult(ranking=ranking),
        quality=items_pb2.ItemQuality(agreement=agreement, confidence=0.9, reviewer_scores=[4.5]),
        expert_ids=["exp_7f3a", "exp_91bc"],
        instructions_version=1,
        rubric_version=1,
    )


async def next_matching(stream, predicate, within: float = 30.0) -> pb.ProjectProgress:
    async def scan() -> pb.ProjectProgress:
        async for reply in stream:
            if predicate(reply.progress):
                return reply.progress
        raise AssertionError("stream ended before the expected progress")

    return await asyncio.wait_for(scan(), within)


async def test_progress_streams_as_events_arrive_and_ends_when_complete(intake, events, active_project):
    pid, lab = active_project
    stream = intake.delivery.WatchProgress(pb.WatchProgressRequest(project_id=pid), metadata=lab)
    first = await next_matching(stream, lambda p: True)
    assert (first.state, first.tasks_total, first.tasks_queued, first.items_delivered) == (
        ppb.PROJECT_STATE_ACTIVE,
        3,
        3,
        0,
    )
    sub = str(uuid.uuid4())
    await events.send(
        "cohort.tasking.submissions.v1",
        "t0",
        submissions_pb2.SubmissionCreated(submission_id=sub, project_id=pid, task_id="t0"),
    )
    p = await next_matching(stream, lambda p: p.submissions_received == 1)
    assert (p.tasks_queued, p.submissions_pending) == (2, 1)
    await events.send(
        "cohort.qa.verdicts.v1",
        "t0",
        verdicts_pb2.SubmissionAccepted(submission_id=sub, project_id=pid, task_id="t0"),
    )
    await events.send(
        "cohort.qa.verdicts.v1",
        "t1",
        verdicts_pb2.SubmissionRejected(
            submission_id=str(uuid.uuid4()), project_id=pid, task_id="t1", reasons=["too_short"]
        ),
    )
    p = await next_matching(stream, lambda p: p.submissions_accepted == 1 and p.submissions_rejected == 1)

    first_item = item(pid, "t0", ["b", "a"], agreement=0.6)
    event_id = await events.send("cohort.qa.items.v1", pid, first_item)
    await events.send("cohort.qa.items.v1", pid, first_item, event_id=event_id)  # redelivered
    await events.send("cohort.qa.items.v1", pid, first_item)  # re-sent under a new event id: same item id
    p = await next_matching(stream, lambda p: p.items_delivered >= 1)
    assert p.items_delivered == 1
    await events.send("cohort.qa.items.v1", pid, item(pid, "t1", ["a", "b"], agreement=1.0))
    final = await next_matching(stream, lambda p: p.state == ppb.PROJECT_STATE_COMPLETED)
    assert final.items_delivered == 2
    assert final.mean_agreement == pytest.approx(0.8)
    assert [r async for r in stream] == [], "the stream ends once the project is complete"
    types_published = [
        r["event_type"]
        for r in await intake.pool.fetch("SELECT event_type FROM outbox WHERE key = $1::text::bytea ORDER BY id", pid)
    ]
    assert types_published[-1] == "cohort.events.v1.ProjectCompleted"


async def test_export_renders_training_records_and_resumes_from_a_cursor(intake, events, active_project):
    pid, lab = active_project
    sent = [item(pid, f"t{i}", ["b", "a"]) for i in range(3)]
    for message in sent:
        await events.send("cohort.qa.items.v1", pid, message)

    async def exported(**kw) -> list[pb.ExportItemsResponse]:
        return [r async for r in intake.delivery.ExportItems(pb.ExportItemsRequest(project_id=pid, **kw), metadata=lab)]

    for _ in range(300):
        chunks = await exported()
        if sum(len(c.items) for c in chunks) == 3:
            break
        await asyncio.sleep(0.1)
    items = [i for c in chunks for i in c.items]
    assert [i.item_id for i in items] == [m.item_id for m in sent]
    record = json.loads(items[0].record_json)
    assert record["prompt"] == "Which is better?"
    assert (record["chosen"], record["rejected"]) == ("B", "A")
    shown = record["metadata"]["expert_ids"]
    assert len(shown) == 2 and all(s.startswith("xp_") for s in shown), "a lab sees pseudonyms, not expert ids"
    assert record["metadata"]["quality"]["agreement"] == 0.8
    assert "name" not in json.dumps(record["metadata"]) and "@" not in items[0].record_json

    first_only = await exported(item_ids=[sent[0].item_id])
    assert [i.item_id for c in first_only for i in c.items] == [sent[0].item_id]
    resumed = await exported(item_ids=[sent[0].item_id], cursor=first_only[-1].cursor)
    assert [i for c in resumed for i in c.items] == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await exported(cursor=first_only[-1].cursor)  # a cursor of another filter
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    _other, lab_b = await intake.new_lab("B")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        [r async for r in intake.delivery.ExportItems(pb.ExportItemsRequest(project_id=pid), metadata=lab_b)]
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_budget_cap_pauses_the_project_and_says_why(intake, events, active_project):
    pid, lab = active_project
    now = Timestamp()
    now.GetCurrentTime()
    await events.send(
        "cohort.payout.spend.v1",
        pid,
        spend_pb2.ProjectSpendUpdated(
            project_id=pid,
            currency_code="EUR",
            committed_minor=500,
            spent_minor=999_000,
            budget_cap_minor=1_000_000,
            cap_reached=True,
            as_of=now,
        ),
    )
    stream = intake.delivery.WatchProgress(pb.WatchProgressRequest(project_id=pid), metadata=lab)
    paused = await next_matching(stream, lambda p: p.state == ppb.PROJECT_STATE_PAUSED)
    assert (paused.pause_reason, paused.spent_minor, paused.committed_minor) == (
        "budget cap reached",
        999_000,
        500,
    )
    stream.cancel()
    row = await intake.pool.fetchrow(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id DESC LIMIT 1",
        "cohort.events.v1.ProjectPaused",
    )
    assert project_events.ProjectPaused.FromString(bytes(row["payload"])).reason == "budget cap reached"


async def test_watch_of_another_labs_project_is_not_found(intake, active_project):
    pid, _lab = active_project
    _other, lab_b = await intake.new_lab("B")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in intake.delivery.WatchProgress(pb.WatchProgressRequest(project_id=pid), metadata=lab_b):
            pass
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_server_shutdown_ends_open_watch_streams(schema, token_keys):
    import time

    from cohort_intake.bootstrap import definition
    from cohort_intake.config import IntakeSettings
    from cohort_runtime import ServiceRuntime

    from .conftest import Intake, operator_metadata

    settings = IntakeSettings(
        db_schema=schema,
        grpc_port=0,
        metrics_port=0,
        COHORT_TOKEN_PUBLIC_KEY=token_keys[1],
        shutdown_grace_seconds=1,
    )
    runtime = ServiceRuntime(definition(settings))
    await runtime.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}")
    try:
        intake = Intake(runtime, channel, operator_metadata(token_keys))
        _lab_id, lab = await intake.new_lab()
        pid = (await create(intake, lab)).project_id
        stream = intake.delivery.WatchProgress(pb.WatchProgressRequest(project_id=pid), metadata=lab)
        await next_matching(stream, lambda p: True)
        t0 = time.monotonic()
        await runtime.stop()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stream:
                pass
        assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        assert time.monotonic() - t0 < 5, "streams end within the grace period, not at their next refresh"
    finally:
        await channel.close()


async def test_client_cancel_releases_the_server_side_stream(intake, active_project):
    pid, lab = active_project

    def watchers() -> float:
        return intake.runtime.registry.get_sample_value("cohort_intake_progress_watchers") or 0.0

    stream = intake.delivery.WatchProgress(pb.WatchProgressRequest(project_id=pid), metadata=lab)
    await next_matching(stream, lambda p: True)
    assert watchers() == 1
    stream.cancel()
    for _ in range(50):
        if watchers() == 0:
            break
        await asyncio.sleep(0.1)
    assert watchers() == 0, "the server stopped watching once the client cancelled"


async def test_each_lab_sees_its_own_pseudonyms_which_operators_map_back(intake, events):
    """The same two experts' work exported to two labs: each lab gets ids of its own for them,
    stable across its items, none shared with the other lab, none the experts' real ids."""
    exported: dict[str, list[list[str]]] = {}
    labs: dict[str, str] = {}
    for name in ("Lab A", "Lab B"):
        lab_id, lab = await intake.new_lab(name)
        labs[name] = lab_id
        spec = valid_spec(data_kind=types.DATA_KIND_PREFERENCE, target_accepted_items=5, overlap=1, max_overlap=1)
        pid = (await create(intake, lab, spec)).project_id
        await intake.tasks.AddTasks(
            tpb.AddTasksRequest(project_id=pid, tasks=[preference_task(f"t{i}") for i in range(2)]), metadata=lab
        )
        await intake.projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab)
        for i in range(2):
            await events.send("cohort.qa.items.v1", pid, item(pid, f"t{i}", ["a", "b"]))

        async def both(pid=pid, lab=lab):
            chunks = [r async for r in intake.delivery.ExportItems(pb.ExportItemsRequest(project_id=pid), metadata=lab)]
            records = [json.loads(i.record_json) for c in chunks for i in c.items]
            return records if len(records) == 2 else None

        records = await testing.eventually(both, 30, f"{name}'s two items exported")
        exported[name] = [r["metadata"]["expert_ids"] for r in records]

    a, b = exported["Lab A"], exported["Lab B"]
    assert a[0] == a[1] and b[0] == b[1], "stable within a lab"
    assert not set(a[0]) & set(b[0]), "nothing in common between labs"
    assert not set(a[0] + b[0]) & {"exp_7f3a", "exp_91bc"}, "never the real ids"
    for name, ids in (("Lab A", a[0]), ("Lab B", b[0])):
        resolved = [
            (
                await intake.admin.ResolveExpertPseudonym(
                    labs_pb2.ResolveExpertPseudonymRequest(lab_id=labs[name], pseudonym=p), metadata=intake.operator
                )
            ).expert_id
            for p in ids
        ]
        assert resolved == ["exp_7f3a", "exp_91bc"]
    with pytest.raises(grpc.aio.AioRpcError) as err:  # a pseudonym of another lab's
        await intake.admin.ResolveExpertPseudonym(
            labs_pb2.ResolveExpertPseudonymRequest(lab_id=labs["Lab A"], pseudonym=b[0][0]), metadata=intake.operator
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_without_a_pseudonym_key_items_are_delivered_with_no_expert_ids(make_intake, events):
    """No key configured (or an empty one): labs are shown no expert ids at all, and delivery
    goes on as before."""
    async with make_intake(COHORT_PSEUDONYM_KEY="") as intake:
        _lab_id, lab = await intake.new_lab()
        spec = valid_spec(data_kind=types.DATA_KIND_PREFERENCE, target_accepted_items=2, overlap=1, max_overlap=1)
        pid = (await create(intake, lab, spec)).project_id
        await intake.tasks.AddTasks(tpb.AddTasksRequest(project_id=pid, tasks=[preference_task("t0")]), metadata=lab)
        await intake.projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab)
        await events.send("cohort.qa.items.v1", pid, item(pid, "t0", ["a", "b"]))

        async def exported():
            chunks = [r async for r in intake.delivery.ExportItems(pb.ExportItemsRequest(project_id=pid), metadata=lab)]
            return [json.loads(i.record_json) for c in chunks for i in c.items] or None

        (record,) = await testing.eventually(exported, 30, "the item exported")
        assert record["metadata"]["expert_ids"] == []
        assert await intake.pool.fetchval("SELECT count(*) FROM expert_pseudonyms") == 0
