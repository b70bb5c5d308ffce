"""The gRPC edge answers undecodable and out-of-limits requests INVALID_ARGUMENT, over a real socket,
after authentication, counted, and logged at most once per source."""

from __future__ import annotations

import logging

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry

from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import submissions_pb2
from cohort_runtime._request_guard import RequestGuardInterceptor
from cohort_runtime.auth import Principal, auth_interceptor
from cohort_runtime.errors import Unauthenticated
from cohort_runtime.grpc_errors import error_interceptor

METHOD = "/cohort.tasking.v1.WorkService/SubmitTask"


class _Work(work_pb2_grpc.WorkServiceServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def SubmitTask(self, request, context):
        self.calls += 1
        return work_pb2.SubmitTaskResponse(submission_id="s")


async def _allow_token(_method: str, credential: str | None) -> Principal:
    if credential != "good":
        raise Unauthenticated("bad credential")
    return Principal(kind="expert", subject="e")


@pytest.fixture
async def served():
    registry = CollectorRegistry()
    servicer = _Work()
    server = grpc.aio.server(
        interceptors=[error_interceptor(), auth_interceptor(_allow_token), RequestGuardInterceptor(registry)]
    )
    work_pb2_grpc.add_WorkServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel, servicer, registry
    finally:
        await channel.close()
        await server.stop(None)


def _violations(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    found = []
    for detail in status.details if status else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found += [v.field for v in bad.field_violations]
    return found


async def test_undecodable_bytes_are_invalid_argument_without_internals(served, caplog):
    channel, servicer, registry = served
    raw = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await raw(b"\xff\xff\xff\xff", metadata=[("authorization", "Bearer good")])
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Traceback" not in (refused.value.details() or "")
        assert "DecodeError" not in refused.value.debug_error_string()
    assert servicer.calls == 0
    labels = {"grpc_method": METHOD, "reason": "undecodable"}
    assert registry.get_sample_value("cohort_grpc_requests_refused_total", labels) == 3
    assert sum("undecodable request" in r.getMessage() for r in caplog.records) == 1, "once per source"
    assert not any(r.exc_info for r in caplog.records), "no traceback logged"


async def test_an_anonymous_caller_with_garbage_learns_only_unauthenticated(served):
    channel, _servicer, _registry = served
    raw = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await raw(b"\xff\xff\xff\xff")
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_request_over_the_limits_names_each_field_and_never_reaches_the_servicer(served):
    channel, servicer, registry = served
    stub = work_pb2_grpc.WorkServiceStub(channel)
    hostile = work_pb2.SubmitTaskRequest(
        assignment_id="a\x00",
        payload=submissions_pb2.SubmissionPayload(
            trajectory=submissions_pb2.TrajectorySubmission(
                steps=[submissions_pb2.TrajectoryStep(kind="action", tool_arguments_json="x" * 1_500_000)]
            )
        ),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.SubmitTask(hostile, metadata=[("authorization", "Bearer good")])
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(refused.value) == ["assignment_id", "payload.trajectory.steps[0].tool_arguments_json"]
    assert servicer.calls == 0
    assert (
        registry.get_sample_value("cohort_grpc_requests_refused_total", {"grpc_method": METHOD, "reason": "limits"})
        == 1
    )
    good = [("authorization", "Bearer good")]
    ok = await stub.SubmitTask(work_pb2.SubmitTaskRequest(assignment_id="a"), metadata=good)
    assert ok.submission_id == "s" and servicer.calls == 1
