"""BalanceService: an expert reads their own balances and statement."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort.payout.v1 import balances_pb2 as pb
from cohort.payout.v1 import balances_pb2_grpc as pb_grpc
from cohort_payout.db import statements
from cohort_runtime import GrpcContext, paging
from cohort_runtime.auth import require_expert
from cohort_runtime.fields import timestamp


class BalanceServicer(pb_grpc.BalanceServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def GetMyBalance(self, request: pb.GetMyBalanceRequest, context: GrpcContext) -> pb.GetMyBalanceResponse:
        expert_id = require_expert("reading balances")
        async with self._pool.acquire() as conn:
            found = await statements.balances(conn, expert_id)
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
        async with self._pool.acquire() as conn:
            rows = await statements.lines(conn, expert_id, before, size + 1)
        more, rows = len(rows) > size, rows[:size]
        out = []
        for r in rows:
            ts = timestamp(r["post_time"])
            out.append(
                pb.StatementLine(
                    kind=r["kind"],
                    bucket=r["name"].rsplit(":", 1)[1],
                    currency_code=r["currency"].strip(),
                    amount_minor=-int(r["amount"]),
                    post_time=ts,
                )
            )
        token = paging.encode([rows[-1]["post_time"].isoformat(), rows[-1]["transaction_id"]], query) if more else ""
        return pb.ListMyStatementResponse(lines=out, next_page_token=token)
