"""ProjectCostService: a lab reads its own project's cost (lab token); operators any project's."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.payout.v1 import costs_pb2 as pb
from cohort.payout.v1 import costs_pb2_grpc as pb_grpc
from cohort_payout.app import costs as app
from cohort_runtime import GrpcContext, PermissionDenied, current_principal
from cohort_runtime.fields import parse_uuid


def _lab_scope() -> uuid.UUID | None:
    """The calling lab's id; None for an operator (any project)."""
    principal = current_principal()
    if principal.kind == "operator":
        return None
    if principal.kind == "lab":
        return parse_uuid(principal.subject, "token subject")
    raise PermissionDenied("project costs are read with a lab or operator token")


class ProjectCostServicer(pb_grpc.ProjectCostServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def GetProjectCost(
        self, request: pb.GetProjectCostRequest, context: GrpcContext
    ) -> pb.GetProjectCostResponse:
        lab_id = _lab_scope()
        project_id = parse_uuid(request.project_id, "project_id")
        cost = await app.project_cost(self._pool, project_id, lab_id)
        as_of = Timestamp()
        as_of.FromDatetime(dt.datetime.now(dt.UTC))
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
