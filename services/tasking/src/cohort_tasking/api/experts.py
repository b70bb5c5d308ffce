"""ExpertAdminService: operators manage the expert network."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import asyncpg

from cohort.tasking.v1 import experts_pb2 as pb
from cohort.tasking.v1 import experts_pb2_grpc as pb_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.auth import require_expert, require_operator
from cohort_runtime.fields import timestamp
from cohort_tasking.app import cohorts
from cohort_tasking.app import experts as app
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.domain.cohorts import Cohort
from cohort_tasking.domain.experts import Expert, ExpertStatus

STATUSES = {
    ExpertStatus.ACTIVE: pb.EXPERT_STATUS_ACTIVE,
    ExpertStatus.SUSPENDED: pb.EXPERT_STATUS_SUSPENDED,
    ExpertStatus.OFFBOARDED: pb.EXPERT_STATUS_OFFBOARDED,
}
_BACK = {v: k for k, v in STATUSES.items()}


def expert_from_proto(e: pb.ExpertProfile) -> Expert:
    labs = []
    for i, lab in enumerate(e.blocked_lab_ids):
        try:
            labs.append(uuid.UUID(lab))
        except ValueError:
            raise InvalidArgument([FieldViolation(f"expert.blocked_lab_ids[{i}]", "must be a UUID")]) from None
    return Expert(
        expert_id=e.expert_id,
        degree=e.degree,
        fields=tuple(e.fields),
        skills=tuple(e.skills),
        languages=tuple(e.languages),
        country=e.country,
        timezone=e.timezone,
        weekly_hours=e.weekly_hours,
        blocked_lab_ids=tuple(labs),
        reviewer=e.reviewer,
        status=ExpertStatus.ACTIVE,
        create_time=dt.datetime.now(dt.UTC),
    )


def expert_to_proto(e: Expert, cohorts: frozenset[str]) -> pb.ExpertProfile:
    created = timestamp(e.create_time)
    return pb.ExpertProfile(
        expert_id=e.expert_id,
        degree=cast("types.DegreeLevel.ValueType", e.degree),
        fields=e.fields,
        skills=e.skills,
        languages=e.languages,
        country=e.country,
        timezone=e.timezone,
        weekly_hours=e.weekly_hours,
        blocked_lab_ids=[str(x) for x in e.blocked_lab_ids],
        reviewer=e.reviewer,
        status=STATUSES[e.status],
        cohort_ids=sorted(cohorts),
        create_time=created,
    )


def cohort_to_proto(c: Cohort, member_count: int) -> pb.Cohort:
    return pb.Cohort(
        cohort_id=c.cohort_id,
        display_name=c.display_name,
        description=c.description,
        member_count=member_count,
        create_time=timestamp(c.create_time),
    )


class ExpertAdminServicer(pb_grpc.ExpertAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool, eligibility: EligibilityCache) -> None:
        self._pool = pool
        self._eligibility = eligibility

    async def RegisterExpert(
        self, request: pb.RegisterExpertRequest, context: GrpcContext
    ) -> pb.RegisterExpertResponse:
        require_operator()
        expert, cohorts = await app.register(self._pool, expert_from_proto(request.expert))
        return pb.RegisterExpertResponse(expert=expert_to_proto(expert, cohorts))

    async def GetExpert(self, request: pb.GetExpertRequest, context: GrpcContext) -> pb.GetExpertResponse:
        require_operator()
        expert, cohorts = await app.get(self._pool, request.expert_id)
        return pb.GetExpertResponse(expert=expert_to_proto(expert, cohorts))

    async def SetExpertStatus(
        self, request: pb.SetExpertStatusRequest, context: GrpcContext
    ) -> pb.SetExpertStatusResponse:
        require_operator()
        status = _BACK.get(request.status)
        if status is None:
            raise InvalidArgument([FieldViolation("status", "must be active, suspended or offboarded")])
        expert, cohorts = await app.set_status(self._pool, request.expert_id, status)
        self._eligibility.forget(request.expert_id)
        return pb.SetExpertStatusResponse(expert=expert_to_proto(expert, cohorts))

    async def AddToCohort(self, request: pb.AddToCohortRequest, context: GrpcContext) -> pb.AddToCohortResponse:
        require_operator()
        added = await cohorts.add_members(self._pool, request.cohort_id, list(request.expert_ids))
        for expert_id in request.expert_ids:
            self._eligibility.forget(expert_id)
        return pb.AddToCohortResponse(added_count=added)

    async def RemoveFromCohort(
        self, request: pb.RemoveFromCohortRequest, context: GrpcContext
    ) -> pb.RemoveFromCohortResponse:
        require_operator()
        removed = await cohorts.remove_members(self._pool, request.cohort_id, list(request.expert_ids))
        for expert_id in request.expert_ids:
            self._eligibility.forget(expert_id)
        return pb.RemoveFromCohortResponse(removed_count=removed)

    async def CreateCohort(self, request: pb.CreateCohortRequest, context: GrpcContext) -> pb.CreateCohortResponse:
        require_operator()
        c = request.cohort
        cohort = Cohort(c.cohort_id, c.display_name, c.description, dt.datetime.now(dt.UTC))
        return pb.CreateCohortResponse(cohort=cohort_to_proto(*await cohorts.create(self._pool, cohort)))

    async def GetCohort(self, request: pb.GetCohortRequest, context: GrpcContext) -> pb.GetCohortResponse:
        require_operator()
        size = paging.page_size(request.page_size)
        query = {"rpc": "GetCohort", "cohort_id": request.cohort_id}
        after = paging.decode_keyset(request.page_token, query, str)
        after_id = str(after[0]) if after else None
        cohort, count, members = await cohorts.members(self._pool, request.cohort_id, after_id, size)
        token = paging.encode([members[size - 1]], query) if len(members) > size else ""
        return pb.GetCohortResponse(
            cohort=cohort_to_proto(cohort, count), expert_ids=members[:size], next_page_token=token
        )

    async def ListCohorts(self, request: pb.ListCohortsRequest, context: GrpcContext) -> pb.ListCohortsResponse:
        require_operator()
        size = paging.page_size(request.page_size)
        query = {"rpc": "ListCohorts"}
        after = paging.decode_keyset(request.page_token, query, str)
        rows = await cohorts.page(self._pool, str(after[0]) if after else None, size)
        token = paging.encode([rows[size - 1][0].cohort_id], query) if len(rows) > size else ""
        return pb.ListCohortsResponse(cohorts=[cohort_to_proto(*r) for r in rows[:size]], next_page_token=token)


class ProfileServicer(pb_grpc.ProfileServiceServicer):
    """The expert's own profile: every call acts on the token's expert only."""

    def __init__(self, pool: asyncpg.Pool, eligibility: EligibilityCache) -> None:
        self._pool = pool
        self._eligibility = eligibility

    async def GetMyProfile(self, request: pb.GetMyProfileRequest, context: GrpcContext) -> pb.GetMyProfileResponse:
        expert_id = require_expert()
        expert, cohorts = await app.get(self._pool, expert_id)
        return pb.GetMyProfileResponse(expert=expert_to_proto(expert, cohorts))

    async def UpdateMyProfile(
        self, request: pb.UpdateMyProfileRequest, context: GrpcContext
    ) -> pb.UpdateMyProfileResponse:
        expert_id = require_expert()
        expert, cohorts = await app.update_own_profile(
            self._pool,
            expert_id,
            list(request.skills),
            list(request.languages),
            request.timezone,
            request.weekly_hours,
        )
        self._eligibility.forget(expert_id)
        return pb.UpdateMyProfileResponse(expert=expert_to_proto(expert, cohorts))
