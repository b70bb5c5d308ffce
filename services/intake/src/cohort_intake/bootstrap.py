"""Wires intake: settings, servicers, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort.intake.v1 import (
    labs_pb2,
    labs_pb2_grpc,
    projects_pb2,
    projects_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
)
from cohort_intake.api.auth import intake_authenticator
from cohort_intake.api.labs import LabAdminServicer
from cohort_intake.api.projects import ProjectServicer
from cohort_intake.api.tasks import TaskServicer
from cohort_intake.config import IntakeSettings
from cohort_intake.messaging.topics import PUBLISHED
from cohort_runtime import Resources, ServiceDefinition, serve


def _add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
    labs_pb2_grpc.add_LabAdminServiceServicer_to_server(LabAdminServicer(resources.pool), server)
    projects_pb2_grpc.add_ProjectServiceServicer_to_server(ProjectServicer(resources.pool), server)
    tasks_pb2_grpc.add_TaskServiceServicer_to_server(TaskServicer(resources.pool), server)
    return [
        labs_pb2.DESCRIPTOR.services_by_name["LabAdminService"].full_name,
        projects_pb2.DESCRIPTOR.services_by_name["ProjectService"].full_name,
        tasks_pb2.DESCRIPTOR.services_by_name["TaskService"].full_name,
    ]


def definition(settings: IntakeSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=lambda r: intake_authenticator(r.pool, settings.token_public_key_pem()),
        publishes=PUBLISHED,
    )


async def main(settings: IntakeSettings | None = None) -> None:
    settings = settings or IntakeSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
