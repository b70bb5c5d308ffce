"""ExpertAdminService: operators manage the expert network."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import asyncpg

from cohort.tasking.v1 import experts_pb2 as pb
from cohort.tasking.v1 import experts_pb2_grpc as pb_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument
from cohort_runtime.auth import require_expert, require_operator
from cohort_runtime.fields import timestamp
from cohort_tasking.app import experts as app
from cohort_tasking.app.eligibility import EligibilityCache
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
        added = await app.add_to_cohort(self._pool, request.cohort_id, list(request.expert_ids))
        for expert_id in request.expert_ids:
            self._eligibility.forget(expert_id)
        return pb.AddToCohortResponse(added_count=added)


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
