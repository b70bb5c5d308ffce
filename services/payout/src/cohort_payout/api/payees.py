"""PayeeAdminService: operators set where experts are paid; details come back masked only."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort.payout.v1 import payees_pb2 as pb
from cohort.payout.v1 import payees_pb2_grpc as pb_grpc
from cohort_payout.app import payees as app
from cohort_payout.domain import payees
from cohort_payout.sealing import Sealer
from cohort_runtime import GrpcContext
from cohort_runtime.auth import require_operator
from cohort_runtime.fields import timestamp


def payee_to_proto(p: payees.Payee, updated: dt.datetime) -> pb.Payee:
    ts = timestamp(updated)
    return pb.Payee(
        expert_id=p.expert_id,
        iban_masked=p.iban_masked,
        bic=p.bic,
        account_holder_masked=p.holder_masked,
        country_code=p.country,
        currency_code=p.currency,
        update_time=ts,
    )


class PayeeAdminServicer(pb_grpc.PayeeAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer | None) -> None:
        self._pool = pool
        self._sealer = sealer

    async def SetPayee(self, request: pb.SetPayeeRequest, context: GrpcContext) -> pb.SetPayeeResponse:
        require_operator("payees")
        payee = payees.validated(
            request.expert_id.strip(),
            request.iban,
            request.bic,
            request.account_holder,
            request.country_code.strip().upper(),
            request.currency_code.strip().upper(),
        )
        stored, updated = await app.set_payee(self._pool, self._sealer, payee)
        return pb.SetPayeeResponse(payee=payee_to_proto(stored, updated))

    async def GetPayee(self, request: pb.GetPayeeRequest, context: GrpcContext) -> pb.GetPayeeResponse:
        require_operator("payees")
        payee, updated = await app.get_payee(self._pool, self._sealer, request.expert_id)
        return pb.GetPayeeResponse(payee=payee_to_proto(payee, updated))
