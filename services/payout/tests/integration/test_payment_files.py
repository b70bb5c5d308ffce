"""Payees and payment files over real gRPC and PostgreSQL: bank details sealed at rest and masked
on the way out; a run's payouts rendered as a pain.001 file that validates against the XSD, and
as CSV; experts without a payee left out and named."""

from __future__ import annotations

import os
import uuid

import grpc
import pytest
import sepaxml
import xmlschema
from cryptography.fernet import Fernet

from cohort.payout.v1 import payees_pb2, payees_pb2_grpc, runs_pb2, runs_pb2_grpc
from cohort_payout.bootstrap import definition
from cohort_payout.config import PayoutSettings
from cohort_runtime import ServiceRuntime
from cohort_runtime.tokens import issue_token

from .test_payout_runs import owe

XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")


@pytest.fixture
async def payout(schema, token_keys):
    settings = PayoutSettings(
        db_schema=schema,
        grpc_port=0,
        metrics_port=0,
        COHORT_TOKEN_PUBLIC_KEY=token_keys[1],
        payee_key=Fernet.generate_key().decode(),
        debtor_name="Cohort Platform GmbH",
        debtor_iban="DE89370400440532013000",
        debtor_bic="COBADEFFXXX",
    )
    runtime = ServiceRuntime(definition(settings))
    operator = (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op")),)
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield (
            runtime,
            runs_pb2_grpc.PayoutAdminServiceStub(channel),
            payees_pb2_grpc.PayeeAdminServiceStub(channel),
            operator,
            (("authorization", "Bearer " + issue_token(token_keys[0], kind="expert", subject="exp_alice01")),),
        )


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_a_run_renders_a_valid_sepa_file_and_a_csv_batch(payout) -> None:
    runtime, runs, payees, operator, expert = payout
    await owe(runtime.pool, {"exp_alice01": 12_345, "exp_bob00001": 9_900, "exp_nopayee1": 5_000})
    alice = payees_pb2.SetPayeeRequest(
        expert_id="exp_alice01",
        iban="FR14 2004 1010 0505 0001 3M02 606",
        account_holder="Alice Martin",
        country_code="fr",
        currency_code="EUR",
    )
    stored = (await payees.SetPayee(alice, metadata=operator)).payee
    assert stored.iban_masked == "FR*********************2606" and stored.account_holder_masked == "A. M."
    await payees.SetPayee(
        payees_pb2.SetPayeeRequest(
            expert_id="exp_bob00001",
            iban="NL91ABNA0417164300",
            bic="ABNANL2A",
            account_holder="Bob de Vries",
            country_code="NL",
            currency_code="EUR",
        ),
        metadata=operator,
    )
    # Sealed at rest: the database never holds the IBAN or the name in clear.
    raw = await runtime.pool.fetchval("SELECT sealed FROM payees WHERE expert_id = 'exp_alice01'")
    assert b"FR14" not in raw and b"Alice" not in raw

    bad = payees_pb2.SetPayeeRequest(expert_id="exp_x00001", iban="DE00 0000", country_code="DE", currency_code="EUR")
    assert await _code(payees.SetPayee(bad, metadata=operator)) == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(payees.SetPayee(alice, metadata=expert)) == grpc.StatusCode.PERMISSION_DENIED
    assert (
        await _code(payees.GetPayee(payees_pb2.GetPayeeRequest(expert_id="exp_nobody1"), metadata=operator))
        == grpc.StatusCode.NOT_FOUND
    )

    run = (
        await runs.CreatePayoutRun(
            runs_pb2.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code="EUR", min_amount_minor=100),
            metadata=operator,
        )
    ).run
    assert run.payout_count == 3

    sepa = await runs.ExportPaymentFile(
        runs_pb2.ExportPaymentFileRequest(run_id=run.run_id, rail=runs_pb2.PAYMENT_RAIL_SEPA), metadata=operator
    )
    xmlschema.XMLSchema(XSD).validate(sepa.content.decode())
    assert (sepa.payment_count, sepa.total_minor) == (2, 22_245)
    assert [(s.expert_id, s.reason) for s in sepa.skipped] == [("exp_nopayee1", "no_payee")]
    assert b"FR1420041010050500013M02606" in sepa.content and b"<CtrlSum>222.45</CtrlSum>" in sepa.content
    again = await runs.ExportPaymentFile(
        runs_pb2.ExportPaymentFileRequest(run_id=run.run_id, rail=runs_pb2.PAYMENT_RAIL_SEPA), metadata=operator
    )
    assert (
        b"<MsgId>COHORT-" in again.content
        and again.content.split(b"<CreDtTm>")[0] == sepa.content.split(b"<CreDtTm>")[0]
    ), "the same run renders the same message id"

    csv_file = await runs.ExportPaymentFile(
        runs_pb2.ExportPaymentFileRequest(run_id=run.run_id, rail=runs_pb2.PAYMENT_RAIL_CSV), metadata=operator
    )
    lines = csv_file.content.decode().splitlines()
    assert len(lines) == 3 and lines[1].split(",")[6] == "12345"

    # A settled payout is no longer in transit: it is not in the next rendering.
    await runs.SettlePayout(runs_pb2.SettlePayoutRequest(run_id=run.run_id, expert_id="exp_alice01"), metadata=operator)
    after = await runs.ExportPaymentFile(
        runs_pb2.ExportPaymentFileRequest(run_id=run.run_id, rail=runs_pb2.PAYMENT_RAIL_CSV), metadata=operator
    )
    assert after.payment_count == 1

    assert (
        await _code(runs.ExportPaymentFile(runs_pb2.ExportPaymentFileRequest(run_id=run.run_id), metadata=operator))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        await _code(
            runs.ExportPaymentFile(
                runs_pb2.ExportPaymentFileRequest(run_id=str(uuid.uuid4()), rail=runs_pb2.PAYMENT_RAIL_CSV),
                metadata=operator,
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )


async def test_without_a_payee_key_bank_details_are_refused_not_stored_in_clear(schema, token_keys) -> None:
    settings = PayoutSettings(
        db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1], payee_key=None
    )
    operator = (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op")),)
    runtime = ServiceRuntime(definition(settings))
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        request = payees_pb2.SetPayeeRequest(
            expert_id="exp_alice01",
            iban="NL91ABNA0417164300",
            account_holder="Alice",
            country_code="NL",
            currency_code="EUR",
        )
        code = await _code(payees_pb2_grpc.PayeeAdminServiceStub(channel).SetPayee(request, metadata=operator))
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        assert await runtime.pool.fetchval("SELECT count(*) FROM payees") == 0
