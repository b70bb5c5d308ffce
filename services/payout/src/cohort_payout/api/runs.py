"""PayoutAdminService: operators run payouts and record what the payment rail reports."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.payout.v1 import runs_pb2 as pb
from cohort.payout.v1 import runs_pb2_grpc as pb_grpc
from cohort_payout.app import bonuses, payment_files
from cohort_payout.app import runs as app
from cohort_payout.domain.bonuses import BonusRule
from cohort_payout.domain.runs import Run, RunRequest
from cohort_payout.rails.base import Debtor, Rail, RailError
from cohort_payout.rails.csv_batch import CsvRail
from cohort_payout.rails.sepa import SepaRail
from cohort_payout.sealing import Sealer
from cohort_runtime import (
    FailedPrecondition,
    FieldViolation,
    GrpcContext,
    InvalidArgument,
    paging,
)
from cohort_runtime.auth import require_operator
from cohort_runtime.fields import parse_uuid, timestamp


def run_to_proto(run: Run) -> pb.PayoutRun:
    cutoff = timestamp(run.cutoff)
    return pb.PayoutRun(
        run_id=str(run.run_id),
        currency_code=run.currency,
        cutoff_time=cutoff,
        min_amount_minor=run.min_amount,
        state=pb.PAYOUT_RUN_STATE_COMPLETED if run.state == "completed" else pb.PAYOUT_RUN_STATE_RUNNING,
        payout_count=run.payout_count,
        total_minor=run.total,
    )


RAILS: dict[int, Rail] = {pb.PAYMENT_RAIL_SEPA: SepaRail(), pb.PAYMENT_RAIL_CSV: CsvRail()}


class PayoutAdminServicer(pb_grpc.PayoutAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer | None = None, debtor: Debtor | None = None) -> None:
        self._pool = pool
        self._sealer = sealer
        self._debtor = debtor

    async def CreatePayoutRun(
        self, request: pb.CreatePayoutRunRequest, context: GrpcContext
    ) -> pb.CreatePayoutRunResponse:
        require_operator("payout runs")
        cutoff = request.cutoff_time.ToDatetime(tzinfo=dt.UTC) if request.HasField("cutoff_time") else None
        run_request = RunRequest(
            parse_uuid(request.request_id, "request_id"),
            request.currency_code.strip().upper(),
            cutoff,
            request.min_amount_minor,
        )
        run = await app.create_run(self._pool, run_request)
        return pb.CreatePayoutRunResponse(run=run_to_proto(run))

    async def GetPayoutRun(self, request: pb.GetPayoutRunRequest, context: GrpcContext) -> pb.GetPayoutRunResponse:
        require_operator("payout runs")
        run = await app.get_run(self._pool, parse_uuid(request.run_id, "run_id"))
        return pb.GetPayoutRunResponse(run=run_to_proto(run))

    async def ListPayoutRuns(
        self, request: pb.ListPayoutRunsRequest, context: GrpcContext
    ) -> pb.ListPayoutRunsResponse:
        require_operator("payout runs")
        currency = request.currency_code.strip().upper() or None
        size = paging.page_size(request.page_size)
        query = {"rpc": "ListPayoutRuns", "currency": currency}
        before = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        found = await app.list_runs(self._pool, currency, before, size)
        last = found[size - 1] if len(found) > size else None
        token = paging.encode([last.cutoff.isoformat(), str(last.run_id)], query) if last else ""
        return pb.ListPayoutRunsResponse(runs=[run_to_proto(r) for r in found[:size]], next_page_token=token)

    async def SettlePayout(self, request: pb.SettlePayoutRequest, context: GrpcContext) -> pb.SettlePayoutResponse:
        require_operator("payout runs")
        await app.settle(self._pool, parse_uuid(request.run_id, "run_id"), request.expert_id, ok=True)
        return pb.SettlePayoutResponse()

    async def FailPayout(self, request: pb.FailPayoutRequest, context: GrpcContext) -> pb.FailPayoutResponse:
        require_operator("payout runs")
        await app.settle(
            self._pool, parse_uuid(request.run_id, "run_id"), request.expert_id, ok=False, reason=request.reason
        )
        return pb.FailPayoutResponse()

    async def ExportPaymentFile(
        self, request: pb.ExportPaymentFileRequest, context: GrpcContext
    ) -> pb.ExportPaymentFileResponse:
        require_operator("payout runs")
        run_id = parse_uuid(request.run_id, "run_id")
        rail = RAILS.get(request.rail)
        if rail is None:
            raise InvalidArgument([FieldViolation("rail", "must be PAYMENT_RAIL_SEPA or PAYMENT_RAIL_CSV")])
        if self._debtor is None:
            raise FailedPrecondition(
                "payment files need the platform's account: set COHORT_PAYOUT_DEBTOR_{NAME,IBAN,BIC}",
                subject="payment-files",
                violation_type="NO_DEBTOR",
            )
        when = request.execution_time.ToDatetime(tzinfo=dt.UTC) if request.HasField("execution_time") else None
        execution_date = (when or dt.datetime.now(dt.UTC)).date()
        try:
            rendered = await payment_files.render(self._pool, self._sealer, run_id, rail, self._debtor, execution_date)
        except RailError as exc:
            raise FailedPrecondition(str(exc), subject=f"payout-runs/{run_id}", violation_type="RAIL") from exc
        return pb.ExportPaymentFileResponse(
            content=rendered.file.content,
            content_type=rendered.file.content_type,
            file_name=rendered.file.file_name,
            payment_count=rendered.payments,
            total_minor=rendered.total,
            skipped=[pb.SkippedPayout(expert_id=e, reason=r) for e, r in rendered.skipped],
        )

    async def CloseBonusPeriod(
        self, request: pb.CloseBonusPeriodRequest, context: GrpcContext
    ) -> pb.CloseBonusPeriodResponse:
        require_operator("payout runs")
        missing = [f for f in ("start_time", "end_time") if not request.HasField(f)]
        if missing:
            raise InvalidArgument([FieldViolation(f, "required") for f in missing])
        rule = BonusRule(
            period_id=request.period_id,
            start=request.start_time.ToDatetime(tzinfo=dt.UTC),
            end=request.end_time.ToDatetime(tzinfo=dt.UTC),
            currency=request.currency_code.strip().upper(),
            bonus_bps=request.bonus_bps,
            top_share=request.top_share,
            min_decided=request.min_decided,
        )
        awarded = await bonuses.close_period(self._pool, rule)
        return pb.CloseBonusPeriodResponse(
            bonuses=[
                pb.Bonus(
                    expert_id=a.expert_id,
                    project_id=str(a.project_id),
                    amount_minor=a.amount,
                    acceptance_rate=a.acceptance_rate,
                )
                for a in awarded
            ],
            total_minor=sum(a.amount for a in awarded),
        )
