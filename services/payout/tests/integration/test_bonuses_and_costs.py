"""Quality bonuses closed once per period, and a lab reading its own project's cost, over real
gRPC and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.payout.v1 import costs_pb2, costs_pb2_grpc, runs_pb2, runs_pb2_grpc
from cohort_payout.app import earnings
from cohort_payout.bootstrap import definition
from cohort_payout.config import PayoutSettings
from cohort_payout.db import ledger
from cohort_payout.domain.bonuses import BONUSES
from cohort_payout.domain.earnings import RateCard
from cohort_payout.domain.ledger import expert_account
from cohort_runtime import ServiceRuntime
from cohort_runtime.tokens import issue_token


def ts(when: dt.datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(when)
    return t


@pytest.fixture
async def payout(schema, token_keys):
    settings = PayoutSettings(db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1])
    runtime = ServiceRuntime(definition(settings))
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield runtime, channel


def md(keys, kind: str, subject: str):
    return (("authorization", "Bearer " + issue_token(keys[0], kind=kind, subject=subject)),)


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_bonus_period_pays_the_best_once_and_labs_see_only_their_costs(payout, token_keys) -> None:
    runtime, channel = payout
    pool = runtime.pool
    lab = uuid.uuid4()
    pid = uuid.uuid4()
    card = RateCard(pid, "EUR", 1000, None, 0, 300, 10**9, 2000, lab)
    facts = []
    # exp_good: 10/10 accepted; exp_mid: 7/10; exp_low: 2/10.
    for expert, accepted in (("exp_good01", 10), ("exp_mid001", 7), ("exp_low001", 2)):
        for i in range(10):
            sid = uuid.uuid4()
            facts.append(earnings.Fact(earnings.FactKind.CREATED, sid, pid, expert, 0))
            kind = earnings.FactKind.ACCEPTED if i < accepted else earnings.FactKind.REJECTED
            facts.append(earnings.Fact(kind, sid, pid))
    async with pool.acquire() as conn, conn.transaction():
        await earnings.project_activated(conn, card)
        await earnings.facts_received(conn, facts)
        await earnings.review_completed(conn, uuid.uuid4(), pid, "exp_rev001")
    # The work was decided last month.
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    await pool.execute("UPDATE submissions SET decided_at = $1", start + dt.timedelta(days=1))

    runs = runs_pb2_grpc.PayoutAdminServiceStub(channel)
    operator = md(token_keys, "operator", "op")
    request = runs_pb2.CloseBonusPeriodRequest(
        period_id="last-month",
        start_time=ts(start),
        end_time=ts(start + dt.timedelta(days=30)),
        currency_code="EUR",
        bonus_bps=1000,
        top_share=0.33,
        min_decided=5,
    )
    first = await runs.CloseBonusPeriod(request, metadata=operator)
    assert [(b.expert_id, b.amount_minor, b.acceptance_rate) for b in first.bonuses] == [("exp_good01", 1000, 1.0)]
    again = await runs.CloseBonusPeriod(request, metadata=operator)
    assert again == first, "closing the same period again answers the same and posts nothing"
    changed = runs_pb2.CloseBonusPeriodRequest()
    changed.CopyFrom(request)
    changed.bonus_bps = 5000
    assert await _code(runs.CloseBonusPeriod(changed, metadata=operator)) == grpc.StatusCode.ALREADY_EXISTS
    future = runs_pb2.CloseBonusPeriodRequest()
    future.CopyFrom(request)
    future.period_id, future.end_time.seconds = "future", int(dt.datetime.now(dt.UTC).timestamp()) + 3600
    assert await _code(runs.CloseBonusPeriod(future, metadata=operator)) == grpc.StatusCode.INVALID_ARGUMENT

    async with pool.acquire() as conn:
        assert await ledger.balance(conn, expert_account("exp_good01", "payable"), "EUR") == -(10 * 1000 + 1000)
        assert await ledger.balance(conn, BONUSES, "EUR") == 1000
        assert await ledger.unbalanced_transactions(conn) == 0

    costs = costs_pb2_grpc.ProjectCostServiceStub(channel)
    mine = (
        await costs.GetProjectCost(
            costs_pb2.GetProjectCostRequest(project_id=str(pid)), metadata=md(token_keys, "lab", str(lab))
        )
    ).cost
    # 19 accepted earnings of 1,000 and one review of 300, each with the 20 % fee; bonuses are the platform's.
    assert (mine.spent_minor, mine.committed_minor, mine.accepted_submissions, mine.paid_reviews) == (
        19 * 1200 + 360,
        0,
        19,
        1,
    )
    other_lab = md(token_keys, "lab", str(uuid.uuid4()))
    assert (
        await _code(costs.GetProjectCost(costs_pb2.GetProjectCostRequest(project_id=str(pid)), metadata=other_lab))
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        await _code(
            costs.GetProjectCost(
                costs_pb2.GetProjectCostRequest(project_id=str(pid)), metadata=md(token_keys, "expert", "exp_good01")
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
