"""Payout runs over real gRPC and PostgreSQL: a run killed mid-way and resumed pays everyone once."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from cohort.payout.v1 import runs_pb2 as pb
from cohort.payout.v1 import runs_pb2_grpc
from cohort_payout.app import runs as app
from cohort_payout.bootstrap import definition
from cohort_payout.config import PayoutSettings
from cohort_payout.db import ledger
from cohort_payout.domain.ledger import expert_account, move
from cohort_payout.domain.runs import RunRequest
from cohort_runtime import ServiceRuntime
from cohort_runtime.tokens import issue_token


@pytest.fixture
async def payout(schema, token_keys):
    settings = PayoutSettings(db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1])
    runtime = ServiceRuntime(definition(settings))
    operator = (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op")),)
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield runtime, runs_pb2_grpc.PayoutAdminServiceStub(channel), operator


async def owe(pool, amounts: dict[str, int], currency: str = "EUR") -> None:
    """Credit experts' payable accounts as accepted work would (balanced against a project)."""
    async with pool.acquire() as conn, conn.transaction():
        for expert, amount in amounts.items():
            await ledger.post(
                conn,
                move(
                    f"test:{uuid.uuid4()}",
                    "test_earning",
                    currency,
                    amount,
                    debit="project:test:spend",
                    credit=expert_account(expert, "payable"),
                ),
                dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
            )


async def bal(pool, account: str) -> int:
    async with pool.acquire() as conn:
        return await ledger.balance(conn, account, "EUR")


async def test_a_run_killed_midway_and_resumed_pays_everyone_once(payout):
    runtime, stub, operator = payout
    pool = runtime.pool
    owed = {f"exp_run{i:03d}": 100 * (i + 1) for i in range(25)}
    owed["exp_small"] = 5  # below the minimum: stays payable
    await owe(pool, owed)

    # The crash: the run is created and only its first batch of 10 is paid.
    run_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        from cohort_payout.db import runs as repo

        run = repo.Run(run_id, uuid.uuid4(), "EUR", dt.datetime.now(dt.UTC), 50, "running", None)
        await repo.insert(conn, run, dt.datetime.now(dt.UTC))
        await repo.select_candidates(conn, run)
    partial = await app.execute(pool, run_id, max_batches=1, batch=10)
    assert (partial.state, partial.payout_count) == ("running", 10)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePayoutRun(
            pb.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code="EUR", min_amount_minor=50),
            metadata=operator,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, "no second run while one is unfinished"

    await app.resume_running(pool)
    await app.execute(pool, run_id)  # a second resume finds nothing left to do
    done = (await stub.GetPayoutRun(pb.GetPayoutRunRequest(run_id=str(run_id)), metadata=operator)).run
    assert (done.state, done.payout_count) == (pb.PAYOUT_RUN_STATE_COMPLETED, 25)
    assert done.total_minor == sum(v for k, v in owed.items() if k != "exp_small")
    for expert, amount in owed.items():
        paid_now = 0 if expert == "exp_small" else amount
        assert await bal(pool, expert_account(expert, "in_transit")) == -paid_now, expert
        assert await bal(pool, expert_account(expert, "payable")) == -(amount - paid_now), expert
    async with pool.acquire() as conn:
        assert await ledger.unbalanced_transactions(conn) == 0
        assert await ledger.drifted_balances(conn) == 0

    await stub.SettlePayout(pb.SettlePayoutRequest(run_id=str(run_id), expert_id="exp_run000"), metadata=operator)
    await stub.FailPayout(
        pb.FailPayoutRequest(run_id=str(run_id), expert_id="exp_run001", reason="IBAN closed"), metadata=operator
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SettlePayout(pb.SettlePayoutRequest(run_id=str(run_id), expert_id="exp_run000"), metadata=operator)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, "settled once"
    assert await bal(pool, expert_account("exp_run000", "paid")) == -100
    assert await bal(pool, expert_account("exp_run001", "payable")) == -200, "a failure returns the amount"

    request_id = str(uuid.uuid4())
    second = (
        await stub.CreatePayoutRun(
            pb.CreatePayoutRunRequest(request_id=request_id, currency_code="EUR", min_amount_minor=50),
            metadata=operator,
        )
    ).run
    assert (second.payout_count, second.total_minor) == (1, 200), "only the failed payout is paid again"
    again = (
        await stub.CreatePayoutRun(
            pb.CreatePayoutRunRequest(request_id=request_id, currency_code="EUR", min_amount_minor=50),
            metadata=operator,
        )
    ).run
    assert again.run_id == second.run_id, "a retried create returns the first run"


async def test_bad_requests_and_credentials(payout):
    _runtime, stub, operator = payout
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePayoutRun(
            pb.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code="euro", min_amount_minor=0),
            metadata=operator,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "currency_code" in err.value.details() and "min_amount_minor" in err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPayoutRun(pb.GetPayoutRunRequest(run_id=str(uuid.uuid4())), metadata=operator)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPayoutRun(pb.GetPayoutRunRequest(run_id=str(uuid.uuid4())))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_cutoff_rules():
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    r = RunRequest(uuid.uuid4(), "EUR", now - dt.timedelta(hours=1), 100)
    assert r.validate(now, None) == now - dt.timedelta(hours=1)
    from cohort_runtime.domain_errors import InvalidInput

    with pytest.raises(InvalidInput, match="previous run"):
        r.validate(now, now - dt.timedelta(minutes=1))
    with pytest.raises(InvalidInput, match="future"):
        RunRequest(uuid.uuid4(), "EUR", now + dt.timedelta(seconds=1), 100).validate(now, None)


async def test_experts_read_only_their_own_balances_and_statement(payout, token_keys):
    from cohort.payout.v1 import balances_pb2, balances_pb2_grpc

    runtime, _stub, operator = payout
    await owe(runtime.pool, {"exp_alice1": 1500, "exp_bob222": 700})
    await owe(runtime.pool, {"exp_alice1": 500})

    def creds(expert: str):
        return (("authorization", "Bearer " + issue_token(token_keys[0], kind="expert", subject=expert)),)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        stub = balances_pb2_grpc.BalanceServiceStub(channel)
        (alice,) = (await stub.GetMyBalance(balances_pb2.GetMyBalanceRequest(), metadata=creds("exp_alice1"))).balances
        assert (alice.currency_code, alice.payable_minor, alice.pending_minor, alice.paid_minor) == ("EUR", 2000, 0, 0)
        first = await stub.ListMyStatement(
            balances_pb2.ListMyStatementRequest(page_size=1), metadata=creds("exp_alice1")
        )
        second = await stub.ListMyStatement(
            balances_pb2.ListMyStatementRequest(page_size=1, page_token=first.next_page_token),
            metadata=creds("exp_alice1"),
        )
        amounts = sorted([first.lines[0].amount_minor, second.lines[0].amount_minor])
        assert amounts == [500, 1500] and not second.next_page_token
        (bob,) = (await stub.GetMyBalance(balances_pb2.GetMyBalanceRequest(), metadata=creds("exp_bob222"))).balances
        assert bob.payable_minor == 700, "each expert sees only their own accounts"
        nobody = await stub.GetMyBalance(balances_pb2.GetMyBalanceRequest(), metadata=creds("exp_nobody"))
        assert list(nobody.balances) == []
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetMyBalance(balances_pb2.GetMyBalanceRequest(), metadata=operator)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListMyStatement(
                balances_pb2.ListMyStatementRequest(page_token=first.next_page_token), metadata=creds("exp_bob222")
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, "a token is bound to its expert"


async def test_runs_are_listed_newest_first_in_pages_per_currency(payout):
    runtime, stub, operator = payout
    made: dict[str, list[str]] = {"EUR": [], "USD": []}
    for i in range(3):
        for currency in ("EUR", "USD"):
            await owe(runtime.pool, {f"exp_list{i}{currency.lower()}": 1000}, currency)
            run = (
                await stub.CreatePayoutRun(
                    pb.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code=currency, min_amount_minor=1),
                    metadata=operator,
                )
            ).run
            assert run.payout_count == 1
            made[currency].append(run.run_id)

    async def listed(currency: str, page_size: int) -> list[pb.PayoutRun]:
        runs, token = [], ""
        while True:
            page = await stub.ListPayoutRuns(
                pb.ListPayoutRunsRequest(currency_code=currency, page_size=page_size, page_token=token),
                metadata=operator,
            )
            assert len(page.runs) <= page_size
            runs += page.runs
            token = page.next_page_token
            if not token:
                return runs

    eur = await listed("eur", 2)
    assert [r.run_id for r in eur] == made["EUR"][::-1]
    assert all(r.total_minor == 1000 and r.state == pb.PAYOUT_RUN_STATE_COMPLETED for r in eur)
    everything = await listed("", 4)
    assert sorted(r.run_id for r in everything) == sorted(made["EUR"] + made["USD"])
    cutoffs = [r.cutoff_time.ToDatetime() for r in everything]
    assert cutoffs == sorted(cutoffs, reverse=True)

    first = await stub.ListPayoutRuns(pb.ListPayoutRunsRequest(currency_code="EUR", page_size=1), metadata=operator)
    for bad in (
        pb.ListPayoutRunsRequest(currency_code="euro"),
        pb.ListPayoutRunsRequest(page_size=-1),
        # A token issued for EUR is refused for USD.
        pb.ListPayoutRunsRequest(currency_code="USD", page_token=first.next_page_token),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListPayoutRuns(bad, metadata=operator)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListPayoutRuns(pb.ListPayoutRunsRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_run_pays_the_balance_at_its_cutoff_not_what_came_after(payout):
    runtime, stub, operator = payout
    now = dt.datetime.now(dt.UTC)

    async def earn(expert: str, amount: int, when: dt.datetime) -> None:
        async with runtime.pool.acquire() as conn, conn.transaction():
            posting = move(
                f"test:{uuid.uuid4()}", "test_earning", "EUR", amount,
                debit="project:test:spend", credit=expert_account(expert, "payable"),
            )  # fmt: skip
            await ledger.post(conn, posting, when)

    await earn("exp_before", 1000, now - dt.timedelta(hours=2))
    await earn("exp_before", 700, now - dt.timedelta(minutes=5))  # after the cut-off: stays owed
    await earn("exp_after", 5000, now - dt.timedelta(minutes=5))  # owed only after the cut-off
    await earn("exp_small", 60, now - dt.timedelta(hours=2))  # under the minimum at the cut-off...
    await earn("exp_small", 500, now - dt.timedelta(minutes=5))  # ...though not counting what came later
    request = pb.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code="EUR", min_amount_minor=100)
    request.cutoff_time.FromDatetime(now - dt.timedelta(hours=1))
    run = (await stub.CreatePayoutRun(request, metadata=operator)).run
    assert (run.payout_count, run.total_minor) == (1, 1000)
    assert await bal(runtime.pool, expert_account("exp_before", "payable")) == -700
    assert await bal(runtime.pool, expert_account("exp_before", "in_transit")) == -1000
    assert await bal(runtime.pool, expert_account("exp_after", "payable")) == -5000
    assert await bal(runtime.pool, expert_account("exp_small", "payable")) == -560
