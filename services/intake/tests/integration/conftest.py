"""An intake service per test, a lab with an API key, and an operator credential."""

from __future__ import annotations

import contextlib
import uuid

import grpc
import pytest

from cohort.intake.v1 import delivery_pb2_grpc, labs_pb2, labs_pb2_grpc, projects_pb2_grpc, tasks_pb2_grpc
from cohort_intake.bootstrap import definition
from cohort_intake.config import IntakeSettings
from cohort_runtime import ServiceRuntime
from cohort_runtime.tokens import issue_token


class Intake:
    def __init__(self, runtime: ServiceRuntime, channel: grpc.aio.Channel, operator: tuple) -> None:
        self.runtime = runtime
        self.channel = channel
        self.pool = runtime.pool
        self.admin = labs_pb2_grpc.LabAdminServiceStub(channel)
        self.projects = projects_pb2_grpc.ProjectServiceStub(channel)
        self.tasks = tasks_pb2_grpc.TaskServiceStub(channel)
        self.delivery = delivery_pb2_grpc.DeliveryServiceStub(channel)
        self.operator = operator

    async def new_lab(self, name: str = "Lab") -> tuple[str, tuple[tuple[str, str], ...]]:
        """(lab_id, metadata authenticating as that lab)."""
        lab = await self.admin.CreateLab(
            labs_pb2.CreateLabRequest(request_id=str(uuid.uuid4()), display_name=name), metadata=self.operator
        )
        key = await self.admin.CreateApiKey(
            labs_pb2.CreateApiKeyRequest(lab_id=lab.lab.lab_id, display_name="ci"), metadata=self.operator
        )
        return lab.lab.lab_id, (("authorization", f"Bearer {key.secret}"),)


def operator_metadata(token_keys) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + issue_token(token_keys[0], kind="operator", subject="op-1")),)


@pytest.fixture
def make_intake(schema, token_keys):
    """`async with make_intake(**settings) as intake:` for tests that need other settings."""

    @contextlib.asynccontextmanager
    async def start(**overrides):
        settings = IntakeSettings(
            db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1], **overrides
        )
        runtime = ServiceRuntime(definition(settings))
        operator = operator_metadata(token_keys)
        async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
            yield Intake(runtime, channel, operator)

    return start


@pytest.fixture
async def intake(make_intake):
    async with make_intake() as running:
        yield running
