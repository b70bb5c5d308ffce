"""The walking skeleton across services: a lab created through intake's gRPC API reaches tasking's
own copy through intake's outbox, Kafka and tasking's inbox. Also checks what every service serves
besides its API: health, reflection and Prometheus metrics."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cohort.intake.v1 import labs_pb2 as pb
from cohort.intake.v1 import labs_pb2_grpc as pb_grpc
from cohort_runtime import testing
from cohort_runtime.tokens import issue_token


@pytest.fixture
async def platform(services, unique):
    async with services("intake", "tasking", tasking={"kafka_group_prefix": unique("tasking")}) as running:
        yield running["intake"], running["tasking"]


async def test_lab_created_in_intake_lands_in_tasking(platform, token_keys):
    intake, tasking = platform
    token = issue_token(token_keys[0], kind="operator", subject="op-1")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{intake.grpc_port}") as channel:
        reply = await pb_grpc.LabAdminServiceStub(channel).CreateLab(
            pb.CreateLabRequest(request_id=str(uuid.uuid4()), display_name="Cross-service Lab"),
            metadata=(("authorization", f"Bearer {token}"),),
        )
    lab_id = uuid.UUID(reply.lab.lab_id)
    row = await testing.eventually(
        lambda: tasking.pool.fetchrow("SELECT display_name FROM known_labs WHERE lab_id = $1", lab_id),
        30,
        "LabCreated to reach tasking",
    )
    assert row["display_name"] == "Cross-service Lab"
    inbox = await tasking.pool.fetchrow(
        "SELECT event_type, outcome FROM inbox WHERE event_type LIKE '%LabCreated' ORDER BY received_at DESC LIMIT 1"
    )
    assert (inbox["event_type"], inbox["outcome"]) == ("cohort.events.v1.LabCreated", "processed")


async def test_every_service_serves_health_reflection_and_metrics(platform):
    listed: dict[str, set[str]] = {}
    for runtime in platform:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = {s.name async for r in stream for s in r.list_services_response.service}
            assert "grpc.health.v1.Health" in names
            listed[runtime.settings.service_name] = names
        body = await asyncio.to_thread(_get, f"http://127.0.0.1:{runtime.metrics_port}/metrics")
        assert (
            'grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health"}' in body
        )
        assert "cohort_outbox_backlog" in body
    assert "cohort.intake.v1.LabAdminService" in listed["intake"]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a loopback URL we built
        return response.read().decode()
