"""ProjectService over real gRPC, PostgreSQL and the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cohort.events.v1 import projects_pb2 as events
from cohort.intake.v1 import projects_pb2 as pb

from ..spec_factory import valid_spec


def field_violations(err: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(err)
    fields: set[str] = set()
    for detail in status.details if status else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields |= {v.field for v in bad.field_violations}
    return fields


async def create(intake, lab, spec=None, request_id=None) -> pb.Project:
    reply = await intake.projects.CreateProject(
        pb.CreateProjectRequest(request_id=request_id or str(uuid.uuid4()), spec=spec or valid_spec()),
        metadata=lab,
    )
    return reply.project


async def outbox_events(intake) -> list[tuple[str, bytes]]:
    rows = await intake.pool.fetch(
        "SELECT event_type, payload FROM outbox WHERE topic = 'cohort.intake.projects.v1' ORDER BY id"
    )
    return [(r["event_type"], bytes(r["payload"])) for r in rows]


async def test_create_returns_a_draft_with_defaults_filled_in(intake):
    _lab_id, lab = await intake.new_lab()
    project = await create(intake, lab, valid_spec(title="  Padded  "))
    assert project.state == pb.PROJECT_STATE_DRAFT
    assert project.spec.title == "Padded"
    assert project.spec.lease_duration.ToTimedelta() == dt.timedelta(hours=1)
    assert (project.instructions_version, project.rubric_version) == (1, 1)
    got = await intake.projects.GetProject(pb.GetProjectRequest(project_id=project.project_id), metadata=lab)
    assert got.project == project
    assert await outbox_events(intake) == [], "drafts publish nothing"


async def test_concurrent_duplicate_creates_give_one_project(intake):
    _lab_id, lab = await intake.new_lab()
    request_id = str(uuid.uuid4())
    spec = valid_spec()
    results = await asyncio.gather(*(create(intake, lab, spec, request_id=request_id) for _ in range(10)))
    assert len({p.project_id for p in results}) == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM projects") == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(intake, lab, valid_spec(title="Different"), request_id=request_id)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_invalid_spec_reports_every_field_and_writes_nothing(intake):
    _lab_id, lab = await intake.new_lab()
    spec = valid_spec(domain="alchemy.transmutation", overlap=12, currency_code="ABC", gold_rate=0.9, priority=101)
    spec.rubric.criteria[0].weight = 0.5  # weights now sum to 0.8
    spec.pay.per_submission.rate_minor = 0
    spec.deadline.FromDatetime(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(intake, lab, spec)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) >= {
        "spec.domain",
        "spec.overlap",
        "spec.currency_code",
        "spec.gold_rate",
        "spec.priority",
        "spec.rubric.criteria",
        "spec.pay.per_submission.rate_minor",
        "spec.deadline",
    }
    assert await intake.pool.fetchval("SELECT count(*) FROM projects") == 0


async def test_budget_must_cover_one_item(intake):
    _lab_id, lab = await intake.new_lab()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(intake, lab, valid_spec(budget_cap_minor=1500 * 3 - 1))
    assert field_violations(err.value) == {"spec.budget_cap_minor"}
    assert (await create(intake, lab, valid_spec(budget_cap_minor=1500 * 3))).state == pb.PROJECT_STATE_DRAFT


async def test_lifecycle_and_illegal_transitions(intake):
    _lab_id, lab = await intake.new_lab()
    project = await create(intake, lab)
    pid = project.project_id
    P = intake.projects

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await P.PauseProject(pb.PauseProjectRequest(project_id=pid), metadata=lab)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "it is draft" in err.value.details()
    status = rpc_status.from_call(err.value)
    failure = error_details_pb2.PreconditionFailure()
    assert status.details[0].Unpack(failure) and failure.violations[0].type == "DRAFT"

    active = (await P.ActivateProject(pb.ActivateProjectRequest(project_id=pid), metadata=lab)).project
    assert active.state == pb.PROJECT_STATE_ACTIVE
    paused = (await P.PauseProject(pb.PauseProjectRequest(project_id=pid, reason="holiday"), metadata=lab)).project
    assert (paused.state, paused.pause_reason) == (pb.PROJECT_STATE_PAUSED, "holiday")
    resumed = (await P.ResumeProject(pb.ResumeProjectRequest(project_id=pid), metadata=lab)).project
    assert (resumed.state, resumed.pause_reason) == (pb.PROJECT_STATE_ACTIVE, "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await P.UpdateProject(
            pb.UpdateProjectRequest(project_id=pid, spec=valid_spec(title="x"), update_mask=FieldMask(paths=["title"])),
            metadata=lab,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    cancelled = (await P.CancelProject(pb.CancelProjectRequest(project_id=pid, reason="done"), metadata=lab)).project
    assert cancelled.state == pb.PROJECT_STATE_CANCELLED
    for call, req in (
        (P.ResumeProject, pb.ResumeProjectRequest),
        (P.ActivateProject, pb.ActivateProjectRequest),
        (P.CancelProject, pb.CancelProjectRequest),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(req(project_id=pid), metadata=lab)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "it is cancelled" in err.value.details()

    published = await outbox_events(intake)
    assert [t for t, _ in published] == [
        "cohort.events.v1.ProjectActivated",
        "cohort.events.v1.ProjectPaused",
        "cohort.events.v1.ProjectResumed",
        "cohort.events.v1.ProjectCancelled",
    ]
    activated = events.ProjectActivated.FromString(published[0][1])
    assert activated.project_id == pid
    assert activated.overlap == 3 and activated.max_overlap == 5
    assert activated.pay.per_submission.rate_minor == 1500 and activated.currency_code == "EUR"
    assert [c.name for c in activated.rubric.criteria] == ["correctness", "clarity"]
    assert activated.lease_duration.ToTimedelta() == dt.timedelta(hours=1)
    assert events.ProjectPaused.FromString(published[1][1]).reason == "holiday"


async def test_update_changes_only_masked_fields_and_bumps_versions(intake):
    _lab_id, lab = await intake.new_lab()
    project = await create(intake, lab)
    new = valid_spec(title="New title", instructions_markdown="New instructions", overlap=1, priority=99)
    updated = (
        await intake.projects.UpdateProject(
            pb.UpdateProjectRequest(
                project_id=project.project_id,
                spec=new,
                update_mask=FieldMask(paths=["title", "instructions_markdown"]),
            ),
            metadata=lab,
        )
    ).project
    assert updated.spec.title == "New title"
    assert updated.spec.instructions_markdown == "New instructions"
    assert (updated.spec.overlap, updated.spec.priority) == (3, 10), "unmasked fields keep their values"
    assert (updated.instructions_version, updated.rubric_version) == (2, 1)

    for mask in ([], ["no_such_field"]):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await intake.projects.UpdateProject(
                pb.UpdateProjectRequest(project_id=project.project_id, spec=new, update_mask=FieldMask(paths=mask)),
                metadata=lab,
            )
        assert field_violations(err.value) == {"update_mask"}
    bad = valid_spec(overlap=0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.projects.UpdateProject(
            pb.UpdateProjectRequest(project_id=project.project_id, spec=bad, update_mask=FieldMask(paths=["overlap"])),
            metadata=lab,
        )
    assert "spec.overlap" in field_violations(err.value)
    still = (
        await intake.projects.GetProject(pb.GetProjectRequest(project_id=project.project_id), metadata=lab)
    ).project
    assert still == updated, "a rejected update changes nothing"


async def test_another_labs_project_is_indistinguishable_from_a_missing_one(intake):
    _a, lab_a = await intake.new_lab("A")
    _b, lab_b = await intake.new_lab("B")
    pid = (await create(intake, lab_a)).project_id
    missing = str(uuid.uuid4())
    P = intake.projects
    calls = [
        lambda p: P.GetProject(pb.GetProjectRequest(project_id=p), metadata=lab_b),
        lambda p: P.UpdateProject(
            pb.UpdateProjectRequest(project_id=p, spec=valid_spec(), update_mask=FieldMask(paths=["title"])),
            metadata=lab_b,
        ),
        lambda p: P.ActivateProject(pb.ActivateProjectRequest(project_id=p), metadata=lab_b),
        lambda p: P.PauseProject(pb.PauseProjectRequest(project_id=p), metadata=lab_b),
        lambda p: P.ResumeProject(pb.ResumeProjectRequest(project_id=p), metadata=lab_b),
        lambda p: P.CancelProject(pb.CancelProjectRequest(project_id=p), metadata=lab_b),
    ]
    for call in calls:
        answers = []
        for target in (pid, missing):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(target)
            answers.append((err.value.code(), err.value.details().replace(target, "<id>")))
        assert answers[0] == answers[1] == (grpc.StatusCode.NOT_FOUND, "project '<id>' not found")
    listed = await P.ListProjects(pb.ListProjectsRequest(), metadata=lab_b)
    assert list(listed.projects) == []
    untouched = (await P.GetProject(pb.GetProjectRequest(project_id=pid), metadata=lab_a)).project
    assert untouched.state == pb.PROJECT_STATE_DRAFT


async def test_pagination_is_stable_while_projects_are_created(intake):
    _lab_id, lab = await intake.new_lab()
    first = [await create(intake, lab) for _ in range(7)]
    seen: list[str] = []
    token = ""
    while True:
        page = await intake.projects.ListProjects(pb.ListProjectsRequest(page_size=3, page_token=token), metadata=lab)
        seen += [p.project_id for p in page.projects]
        await create(intake, lab)  # newer projects land before the first page, never in later ones
        token = page.next_page_token
        if not token:
            break
    assert seen == [p.project_id for p in reversed(first)]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.projects.ListProjects(
            pb.ListProjectsRequest(page_size=3, page_token=token or "garbage!"), metadata=lab
        )
    assert field_violations(err.value) == {"page_token"}
    page = await intake.projects.ListProjects(pb.ListProjectsRequest(page_size=2), metadata=lab)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.projects.ListProjects(
            pb.ListProjectsRequest(page_size=2, page_token=page.next_page_token, state=pb.PROJECT_STATE_ACTIVE),
            metadata=lab,
        )
    assert field_violations(err.value) == {"page_token"}, "a token is bound to its filter"
