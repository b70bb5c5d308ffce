"""DisputeService: QA staff (operators) adjudicate the items labs reject in their audits."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.qa.v1 import disputes_pb2 as pb
from cohort.qa.v1 import disputes_pb2_grpc as pb_grpc
from cohort.types.v1 import tasks_pb2
from cohort_qa.app import disputes as app
from cohort_qa.domain.disputes import Dispute, DisputeState
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.auth import require_operator
from cohort_runtime.fields import parse_uuid, timestamp

STATES = {
    DisputeState.OPEN: pb.DISPUTE_STATE_OPEN,
    DisputeState.UPHELD: pb.DISPUTE_STATE_UPHELD,
    DisputeState.DISMISSED: pb.DISPUTE_STATE_DISMISSED,
}
_STATES_BACK = {v: k for k, v in STATES.items()}


def dispute_to_proto(d: Dispute) -> pb.Dispute:
    return pb.Dispute(
        item_id=str(d.item_id),
        project_id=str(d.project_id),
        task_id=d.task_id,
        audit_id=str(d.audit_id),
        lab_reason=d.lab_reason,
        state=STATES[d.state],
        comments=d.comments,
        decided_by=d.decided_by,
        dispute_time=timestamp(d.dispute_time),
        decide_time=timestamp(d.decide_time) if d.decide_time else None,
        rework_revision=d.rework_revision,
    )


class DisputeServicer(pb_grpc.DisputeServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ListDisputes(self, request: pb.ListDisputesRequest, context: GrpcContext) -> pb.ListDisputesResponse:
        require_operator("disputes")
        project_id = parse_uuid(request.project_id, "project_id") if request.project_id else None
        if request.state == pb.DISPUTE_STATE_UNSPECIFIED:
            state = DisputeState.OPEN
        elif request.state in _STATES_BACK:
            state = _STATES_BACK[request.state]
        else:
            raise InvalidArgument([FieldViolation("state", "must be open, upheld or dismissed")])
        size = paging.page_size(request.page_size)
        query = {"rpc": "ListDisputes", "project": str(project_id), "state": state.value}
        after = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        found = await app.listed(self._pool, project_id, state, after, size)
        last = found[size - 1] if len(found) > size else None
        token = paging.encode([last.dispute_time.isoformat(), str(last.item_id)], query) if last else ""
        return pb.ListDisputesResponse(disputes=[dispute_to_proto(d) for d in found[:size]], next_page_token=token)

    async def GetDispute(self, request: pb.GetDisputeRequest, context: GrpcContext) -> pb.GetDisputeResponse:
        require_operator("disputes")
        view = await app.view(self._pool, parse_uuid(request.item_id, "item_id"))
        message = dispute_to_proto(view.dispute)
        message.expert_ids.extend(view.expert_ids)
        if view.item_quality is not None:
            message.item_agreement, message.item_confidence = view.item_quality
        if view.task_input is not None:
            message.input.CopyFrom(tasks_pb2.TaskInput.FromString(view.task_input))
        return pb.GetDisputeResponse(dispute=message)

    async def DecideDispute(self, request: pb.DecideDisputeRequest, context: GrpcContext) -> pb.DecideDisputeResponse:
        operator = require_operator("deciding a dispute")
        decided = await app.decide(
            self._pool, parse_uuid(request.item_id, "item_id"), request.uphold, request.comments, operator.subject
        )
        return pb.DecideDisputeResponse(dispute=dispute_to_proto(decided))
