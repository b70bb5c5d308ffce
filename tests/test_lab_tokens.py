"""One API key reaches every lab-facing call: intake exchanges it for a short-lived lab token that
QA and payout accept for the lab's own projects, and for nothing else."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import grpc
import pytest
from cohort_client import LabClient

from cohort.intake.v1 import labs_pb2, labs_pb2_grpc, tokens_pb2, tokens_pb2_grpc
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.payout.v1 import costs_pb2, costs_pb2_grpc
from cohort.qa.v1 import quality_pb2, quality_pb2_grpc
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.tokens import INTAKE_ISSUER, generate_keypair, issue_token

from .conftest import Onboarding, open_project


def _task() -> tpb.NewTask:
    return tpb.NewTask(
        task_id=f"t{uuid.uuid4().hex[:8]}",
        input=ttypes.TaskInput(
            prompt="Which is right?", candidates=[ttypes.Candidate(candidate_id=c, content=f"answer {c}") for c in "ab"]
        ),
    )


@pytest.fixture(scope="module")
def lab_token_keys() -> tuple[str, str]:
    return generate_keypair()


async def test_a_lab_reads_quality_and_cost_of_its_own_projects_with_its_api_key(
    services, onboard: Onboarding, eventually, lab_token_keys
) -> None:
    private, public = lab_token_keys
    async with services(
        "intake",
        "qa",
        "payout",
        intake={"lab_token_private_key": private, "lab_token_minutes": 5},
        qa={"lab_token_public_key": public},
        payout={"lab_token_public_key": public},
    ) as running:
        channels = {name: grpc.aio.insecure_channel(f"127.0.0.1:{r.grpc_port}") for name, r in running.items()}
        try:
            intake, qa, payout = channels["intake"], channels["qa"], channels["payout"]
            exchange = tokens_pb2_grpc.TokenServiceStub(intake).ExchangeApiKey
            quality = quality_pb2_grpc.QualityServiceStub(qa).GetProjectQuality
            cost = costs_pb2_grpc.ProjectCostServiceStub(payout).GetProjectCost

            lab_a, lab_b = await onboard.lab(intake, "A"), await onboard.lab(intake, "B")
            project = await open_project(intake, onboard, lab_a, [_task()])
            before = dt.datetime.now(dt.UTC)
            issued = await exchange(tokens_pb2.ExchangeApiKeyRequest(), metadata=lab_a)
            assert issued.lab_id and issued.key_id
            lifetime = issued.expire_time.ToDatetime(dt.UTC) - before
            assert dt.timedelta(minutes=4) < lifetime <= dt.timedelta(minutes=5, seconds=5)
            as_a = onboard.bearer(issued.token)

            async def known() -> bool:  # QA and payout learn of the project from intake's events
                try:
                    await quality(quality_pb2.GetProjectQualityRequest(project_id=project), metadata=as_a)
                    await cost(costs_pb2.GetProjectCostRequest(project_id=project), metadata=as_a)
                except grpc.aio.AioRpcError as exc:
                    if exc.code() == grpc.StatusCode.NOT_FOUND:
                        return False
                    raise
                return True

            assert await eventually(known, within=60), "the lab reads its project's quality and cost"
            read = await cost(costs_pb2.GetProjectCostRequest(project_id=project), metadata=as_a)
            assert read.cost.currency_code == "EUR" and read.cost.budget_cap_minor == 100_000

            # The Python client does the exchange itself: a lab hands it the API key alone.
            def with_the_client() -> tuple[object, object]:
                address = {name: f"127.0.0.1:{r.grpc_port}" for name, r in running.items()}
                api_key = dict(lab_a)["authorization"].removeprefix("Bearer ")
                with LabClient(address["intake"], api_key, qa=address["qa"], payout=address["payout"]) as client:
                    return client.project_quality(project), client.project_cost(project)

            seen_quality, seen_cost = await asyncio.to_thread(with_the_client)
            assert seen_quality.project_id == project
            assert seen_cost.currency_code == "EUR"

            # Another lab's token: the project does not exist for it, exactly like a missing one.
            as_b = onboard.bearer((await exchange(tokens_pb2.ExchangeApiKeyRequest(), metadata=lab_b)).token)
            for call, request in (
                (quality, quality_pb2.GetProjectQualityRequest(project_id=project)),
                (cost, costs_pb2.GetProjectCostRequest(project_id=project)),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as other:
                    await call(request, metadata=as_b)
                assert other.value.code() == grpc.StatusCode.NOT_FOUND

            # A revoked key exchanges nothing more; what it was exchanged for lives out its minutes.
            admin = labs_pb2_grpc.LabAdminServiceStub(intake)
            await admin.RevokeApiKey(labs_pb2.RevokeApiKeyRequest(key_id=issued.key_id), metadata=onboard.operator)
            with pytest.raises(grpc.aio.AioRpcError) as revoked:
                await exchange(tokens_pb2.ExchangeApiKeyRequest(), metadata=lab_a)
            assert revoked.value.code() == grpc.StatusCode.UNAUTHENTICATED
            await quality(quality_pb2.GetProjectQualityRequest(project_id=project), metadata=as_a)

            # Only a lab's key makes a lab token: an operator's token is refused.
            with pytest.raises(grpc.aio.AioRpcError) as operator:
                await exchange(tokens_pb2.ExchangeApiKeyRequest(), metadata=onboard.operator)
            assert operator.value.code() == grpc.StatusCode.PERMISSION_DENIED

            # Intake's key signs lab tokens only: an "operator" token signed with it is refused, and
            # so is an expired lab token.
            lab_id = issued.lab_id
            forged = issue_token(private, kind="operator", subject="op", issuer=INTAKE_ISSUER)
            stale = issue_token(
                private,
                kind="lab",
                subject=lab_id,
                issuer=INTAKE_ISSUER,
                now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                ttl=dt.timedelta(minutes=15),
            )
            for token in (forged, stale):
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await quality(
                        quality_pb2.GetProjectQualityRequest(project_id=project), metadata=onboard.bearer(token)
                    )
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            for channel in channels.values():
                await channel.close()


async def test_an_intake_without_a_lab_token_key_says_so(services, onboard: Onboarding) -> None:
    async with services("intake", intake={"lab_token_private_key": None}) as running:
        intake = grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}")
        try:
            lab = await onboard.lab(intake)
            with pytest.raises(grpc.aio.AioRpcError) as unset:
                await tokens_pb2_grpc.TokenServiceStub(intake).ExchangeApiKey(
                    tokens_pb2.ExchangeApiKeyRequest(), metadata=lab
                )
            assert unset.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "COHORT_LAB_TOKEN_PRIVATE_KEY" in (unset.value.details() or "")
        finally:
            await intake.close()
