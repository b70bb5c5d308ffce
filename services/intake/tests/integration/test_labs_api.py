"""LabAdminService over a real gRPC channel, against real PostgreSQL and Kafka."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cohort.intake.v1 import labs_pb2 as pb
from cohort.intake.v1 import labs_pb2_grpc as pb_grpc
from cohort_intake.bootstrap import definition
from cohort_intake.config import IntakeSettings
from cohort_runtime import ServiceRuntime
from cohort_runtime.tokens import issue_token


@pytest.fixture
async def intake(schema, token_keys):
    _private, public = token_keys
    settings = IntakeSettings(db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=public)
    runtime = ServiceRuntime(definition(settings))
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield runtime, pb_grpc.LabAdminServiceStub(channel)


def operator(token_keys) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op-1")),)


def details(err: grpc.aio.AioRpcError, kind):
    status = rpc_status.from_call(err)
    assert status is not None, "error carries google.rpc.Status details"
    found = []
    for d in status.details:
        if d.Is(kind.DESCRIPTOR):
            msg = kind()
            d.Unpack(msg)
            found.append(msg)
    return found


async def test_create_is_idempotent_on_request_id(intake, token_keys):
    runtime, stub = intake
    request = pb.CreateLabRequest(request_id=str(uuid.uuid4()), display_name="  Frontier Lab ")
    first = await stub.CreateLab(request, metadata=operator(token_keys))
    retry = await stub.CreateLab(request, metadata=operator(token_keys))
    assert first.lab.display_name == "Frontier Lab"
    assert retry.lab == first.lab
    got = await stub.GetLab(pb.GetLabRequest(lab_id=first.lab.lab_id), metadata=operator(token_keys))
    assert got.lab == first.lab
    assert (
        await runtime.pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'cohort.events.v1.LabCreated'") == 1
    )

    with pytest.raises(grpc.aio.AioRpcError) as conflict:
        await stub.CreateLab(
            pb.CreateLabRequest(request_id=request.request_id, display_name="Other"),
            metadata=operator(token_keys),
        )
    assert conflict.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert await runtime.pool.fetchval("SELECT count(*) FROM labs") == 1


async def test_invalid_request_names_each_field_and_writes_nothing(intake, token_keys):
    runtime, stub = intake
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateLab(
            pb.CreateLabRequest(request_id="not-a-uuid", display_name="x" * 201),
            metadata=operator(token_keys),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    (bad,) = details(err.value, error_details_pb2.BadRequest)
    assert {v.field for v in bad.field_violations} == {"request_id", "display_name"}
    assert await runtime.pool.fetchval("SELECT count(*) FROM labs") == 0
    assert await runtime.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_unknown_lab_is_not_found_with_resource_info(intake, token_keys):
    _runtime, stub = intake
    missing = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetLab(pb.GetLabRequest(lab_id=missing), metadata=operator(token_keys))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    (info,) = details(err.value, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("lab", missing)


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Basic abc"),), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer not.a.jwt"),), grpc.StatusCode.UNAUTHENTICATED),
    ],
)
async def test_calls_without_a_valid_credential_are_refused(intake, metadata, code):
    runtime, stub = intake
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateLab(pb.CreateLabRequest(request_id=str(uuid.uuid4()), display_name="x"), metadata=metadata)
    assert err.value.code() == code
    assert await runtime.pool.fetchval("SELECT count(*) FROM labs") == 0


async def test_token_signed_by_another_key_or_for_an_expert_is_refused(intake, token_keys):
    from cohort_runtime.tokens import generate_keypair

    _runtime, stub = intake
    forged = issue_token(generate_keypair()[0], kind="operator", subject="mallory")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetLab(pb.GetLabRequest(lab_id=str(uuid.uuid4())), metadata=(("authorization", f"Bearer {forged}"),))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    expert = issue_token(token_keys[0], kind="expert", subject="e-1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetLab(pb.GetLabRequest(lab_id=str(uuid.uuid4())), metadata=(("authorization", f"Bearer {expert}"),))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
