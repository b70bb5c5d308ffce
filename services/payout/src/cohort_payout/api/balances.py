"""BalanceService: an expert reads their own balances and statement."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort.payout.v1 import balances_pb2 as pb
from cohort.payout.v1 import balances_pb2_grpc as pb_grpc
from cohort_payout.app import balances as app
from cohort_runtime import GrpcContext, paging
from cohort_runtime.auth import require_expert
from cohort_runtime.fields import timestamp


class BalanceServicer(pb_grpc.BalanceServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def GetMyBalance(self, request: pb.GetMyBalanceRequest, context: GrpcContext) -> pb.GetMyBalanceResponse:
        expert_id = require_expert("reading balances")
        found = await app.balances(self._pool, expert_id)
        return pb.GetMyBalanceResponse(
            balances=[
                pb.ExpertBalance(
                    currency_code=currency,
                    pending_minor=b["pending"],
                    payable_minor=b["payable"],
                    in_transit_minor=b["in_transit"],
                    paid_minor=b["paid"],
                )
                for currency, b in sorted(found.items())
            ]
        )

    async def ListMyStatement(
        self, request: pb.ListMyStatementRequest, context: GrpcContext
    ) -> pb.ListMyStatementResponse:
        expert_id = require_expert("reading balances")
        size = paging.page_size(request.page_size)
        query = {"expert": expert_id}
        before = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, int)
        rows = await app.statement_page(self._pool, expert_id, before, size + 1)
        more, rows = len(rows) > size, rows[:size]
        out = []
        for r in rows:
            out.append(
                pb.StatementLine(
                    kind=r.kind,
                    bucket=r.bucket,
                    currency_code=r.currency,
                    amount_minor=r.amount_minor,
                    post_time=timestamp(r.post_time),
                )
            )
        token = paging.encode([rows[-1].post_time.isoformat(), rows[-1].transaction_id], query) if more else ""
        return pb.ListMyStatementResponse(lines=out, next_page_token=token)
