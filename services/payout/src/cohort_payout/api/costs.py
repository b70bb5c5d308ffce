"""ProjectCostService: a lab reads its own project's cost (lab token); operators any project's."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort.payout.v1 import costs_pb2 as pb
from cohort.payout.v1 import costs_pb2_grpc as pb_grpc
from cohort_payout.app import costs as app
from cohort_runtime import GrpcContext
from cohort_runtime.auth import require_lab_scope
from cohort_runtime.fields import parse_uuid, timestamp


class ProjectCostServicer(pb_grpc.ProjectCostServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def GetProjectCost(
        self, request: pb.GetProjectCostRequest, context: GrpcContext
    ) -> pb.GetProjectCostResponse:
        scope = require_lab_scope("reading a project's cost")
        lab_id = None if scope.lab_id is None else parse_uuid(scope.lab_id, "token subject")
        project_id = parse_uuid(request.project_id, "project_id")
        cost = await app.project_cost(self._pool, project_id, lab_id)
        as_of = timestamp(dt.datetime.now(dt.UTC))
        return pb.GetProjectCostResponse(
            cost=pb.ProjectCost(
                project_id=str(cost.project_id),
                currency_code=cost.currency,
                committed_minor=cost.committed,
                spent_minor=cost.spent,
                budget_cap_minor=cost.budget_cap,
                accepted_submissions=cost.accepted,
                paid_reviews=cost.paid_reviews,
                as_of=as_of,
            )
        )
