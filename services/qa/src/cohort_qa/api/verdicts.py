"""ExpertVerdictService: an expert's own verdicts, reasons and reviewer comments."""

from __future__ import annotations

import asyncpg

from cohort.qa.v1 import verdicts_pb2 as pb
from cohort.qa.v1 import verdicts_pb2_grpc as pb_grpc
from cohort_qa.app import verdicts as app
from cohort_qa.domain.states import DECIDED
from cohort_qa.domain.verdicts_shown import ShownState, reasons_for_expert, shown_state
from cohort_runtime import GrpcContext, paging
from cohort_runtime.auth import require_expert
from cohort_runtime.fields import timestamp

_STATES = {
    ShownState.PENDING: pb.VERDICT_STATE_PENDING,
    ShownState.IN_REVIEW: pb.VERDICT_STATE_IN_REVIEW,
    ShownState.ACCEPTED: pb.VERDICT_STATE_ACCEPTED,
    ShownState.REJECTED: pb.VERDICT_STATE_REJECTED,
}


def _to_proto(row: app.VerdictRow) -> pb.MyVerdict:
    out = pb.MyVerdict(
        submission_id=str(row.submission_id),
        project_id=str(row.project_id),
        task_id=row.task_id,
        state=_STATES[shown_state(row.state)],
        reasons=reasons_for_expert(row.reasons),
        reviewer_comment=row.comment,
        submit_time=timestamp(row.submit_time),
    )
    if row.decided_at is not None and row.state in DECIDED:
        out.decide_time.CopyFrom(timestamp(row.decided_at))
    return out


class ExpertVerdictServicer(pb_grpc.ExpertVerdictServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ListMyVerdicts(
        self, request: pb.ListMyVerdictsRequest, context: GrpcContext
    ) -> pb.ListMyVerdictsResponse:
        expert_id = require_expert("reading your own verdicts")
        size = paging.page_size(request.page_size)
        query = {"expert": expert_id}
        after = paging.decode_keyset(request.page_token, query, int)
        rows = await app.page_for_expert(self._pool, expert_id, after[0] if after else None, size + 1)
        token = paging.encode([rows[size - 1].seq], query) if len(rows) > size else ""
        return pb.ListMyVerdictsResponse(verdicts=[_to_proto(r) for r in rows[:size]], next_page_token=token)
