"""Cohorts as records over real gRPC and PostgreSQL: create, list, show, add, remove, and what
membership changes mean for routing."""

from __future__ import annotations

import grpc
import pytest

from cohort.tasking.v1 import experts_pb2 as pb
from cohort.tasking.v1 import work_pb2
from cohort.types.v1 import projects_pb2 as types


def _cohort(cohort_id: str, name: str = "Chemists", description: str = "") -> pb.CreateCohortRequest:
    return pb.CreateCohortRequest(cohort=pb.Cohort(cohort_id=cohort_id, display_name=name, description=description))


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_a_cohort_is_created_once_and_shown_with_its_members(tasking):
    op = tasking.operator
    created = (await tasking.admin.CreateCohort(_cohort("chem-2026", description="PhD chemists"), metadata=op)).cohort
    assert (created.cohort_id, created.display_name, created.member_count) == ("chem-2026", "Chemists", 0)
    again = (await tasking.admin.CreateCohort(_cohort("chem-2026", description="PhD chemists"), metadata=op)).cohort
    assert again.create_time == created.create_time, "the same definition again is a no-op"
    assert await _code(tasking.admin.CreateCohort(_cohort("chem-2026", "Other"), metadata=op)) == (
        grpc.StatusCode.ALREADY_EXISTS
    )

    experts = sorted([(await tasking.register())[0] for _ in range(5)])
    added = await tasking.admin.AddToCohort(
        pb.AddToCohortRequest(cohort_id="chem-2026", expert_ids=experts), metadata=op
    )
    assert added.added_count == 5
    readded = await tasking.admin.AddToCohort(
        pb.AddToCohortRequest(cohort_id="chem-2026", expert_ids=experts[:2]), metadata=op
    )
    assert readded.added_count == 0

    pages, token = [], ""
    while True:
        page = await tasking.admin.GetCohort(
            pb.GetCohortRequest(cohort_id="chem-2026", page_size=2, page_token=token), metadata=op
        )
        assert page.cohort.member_count == 5 and page.cohort.description == "PhD chemists"
        pages.append(list(page.expert_ids))
        token = page.next_page_token
        if not token:
            break
    assert pages == [experts[0:2], experts[2:4], experts[4:5]]

    removed = await tasking.admin.RemoveFromCohort(
        pb.RemoveFromCohortRequest(cohort_id="chem-2026", expert_ids=[experts[0], experts[0], "exp_nobodyhere"]),
        metadata=op,
    )
    assert removed.removed_count == 1
    shown = await tasking.admin.GetCohort(pb.GetCohortRequest(cohort_id="chem-2026"), metadata=op)
    assert list(shown.expert_ids) == experts[1:] and shown.cohort.member_count == 4
    profile = (await tasking.admin.GetExpert(pb.GetExpertRequest(expert_id=experts[1]), metadata=op)).expert
    assert list(profile.cohort_ids) == ["chem-2026"]


async def test_cohorts_are_listed_in_pages_by_id(tasking):
    ids = [f"list-{i:02d}" for i in range(7)]
    for cohort_id in reversed(ids):
        await tasking.admin.CreateCohort(_cohort(cohort_id, f"Cohort {cohort_id}"), metadata=tasking.operator)
    seen, token = [], ""
    while True:
        page = await tasking.admin.ListCohorts(
            pb.ListCohortsRequest(page_size=3, page_token=token), metadata=tasking.operator
        )
        seen += [c.cohort_id for c in page.cohorts]
        token = page.next_page_token
        if not token:
            break
    assert [c for c in seen if c.startswith("list-")] == ids
    assert seen == sorted(seen)


async def test_bad_cohort_requests_are_refused_and_change_nothing(tasking):
    op = tasking.operator
    expert, _ = await tasking.register()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasking.admin.CreateCohort(_cohort("has space", " "), metadata=op)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cohort.cohort_id" in (err.value.details() or "") and "cohort.display_name" in (err.value.details() or "")
    # A cohort that was never created cannot gain members: a typo does not start a new cohort.
    assert (
        await _code(
            tasking.admin.AddToCohort(pb.AddToCohortRequest(cohort_id="typo", expert_ids=[expert]), metadata=op)
        )
        == grpc.StatusCode.NOT_FOUND
    )
    await tasking.admin.CreateCohort(_cohort("real"), metadata=op)
    assert (
        await _code(
            tasking.admin.AddToCohort(
                pb.AddToCohortRequest(cohort_id="real", expert_ids=[expert, "exp_ghost0"]), metadata=op
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    shown = await tasking.admin.GetCohort(pb.GetCohortRequest(cohort_id="real"), metadata=op)
    assert shown.cohort.member_count == 0, "a refused add adds no one"
    assert await _code(tasking.admin.GetCohort(pb.GetCohortRequest(cohort_id="typo"), metadata=op)) == (
        grpc.StatusCode.NOT_FOUND
    )
    assert (
        await _code(
            tasking.admin.RemoveFromCohort(pb.RemoveFromCohortRequest(cohort_id="real", expert_ids=[]), metadata=op)
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        await _code(tasking.admin.GetCohort(pb.GetCohortRequest(cohort_id="real", page_token="forged"), metadata=op))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    _, expert_creds = await tasking.register()
    assert await _code(tasking.admin.ListCohorts(pb.ListCohortsRequest(), metadata=expert_creds)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


async def test_a_removed_member_is_offered_no_more_work_that_needs_the_cohort(tasking):
    await tasking.admin.CreateCohort(_cohort("pilot"), metadata=tasking.operator)
    await tasking.project(tasks=3, overlap=1, qualifications=types.Qualifications(cohort_ids=["pilot"]))
    member, creds = await tasking.register()
    await tasking.admin.AddToCohort(
        pb.AddToCohortRequest(cohort_id="pilot", expert_ids=[member]), metadata=tasking.operator
    )
    first = (await tasking.work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=creds)).assignment
    assert first.assignment_id
    await tasking.admin.RemoveFromCohort(
        pb.RemoveFromCohortRequest(cohort_id="pilot", expert_ids=[member]), metadata=tasking.operator
    )
    await tasking.work.ReleaseTask(work_pb2.ReleaseTaskRequest(assignment_id=first.assignment_id), metadata=creds)
    again = await tasking.work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=creds)
    assert not again.HasField("assignment"), "no longer a member: nothing in the cohort's project is offered"
