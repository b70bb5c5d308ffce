"""Wires intake: settings, servicers, consumers, topics, and the chassis runtime."""

from __future__ import annotations

import datetime as dt

import grpc

from cohort.intake.v1 import (
    audits_pb2_grpc,
    delivery_pb2_grpc,
    labs_pb2_grpc,
    projects_pb2_grpc,
    tasks_pb2_grpc,
    tokens_pb2_grpc,
    webhooks_pb2_grpc,
)
from cohort_intake.api.audits import AuditServicer
from cohort_intake.api.auth import intake_authenticator
from cohort_intake.api.delivery import DeliveryServicer
from cohort_intake.api.labs import LabAdminServicer
from cohort_intake.api.projects import ProjectServicer
from cohort_intake.api.tasks import TaskServicer
from cohort_intake.api.tokens import TokenServicer
from cohort_intake.api.webhooks import WebhookServicer
from cohort_intake.app.progress_hub import ProgressHub
from cohort_intake.app.webhook_dispatch import Dispatcher
from cohort_intake.config import IntakeSettings
from cohort_intake.consumers.handlers import subscriptions
from cohort_intake.events.topics import PUBLISHED
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.pseudonyms import LabView
from cohort_runtime.servicers import register


def definition(settings: IntakeSettings) -> ServiceDefinition:
    hub = ProgressHub()
    metrics: dict[int, IntakeMetrics] = {}
    box = settings.webhook_secret_box()

    def metrics_for(resources: Resources) -> IntakeMetrics:
        # One set per registry: servicers and consumers are built from the same resources.
        key = id(resources.registry)
        if key not in metrics:
            metrics[key] = IntakeMetrics(resources.registry)
        return metrics[key]

    def add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
        pool, m = resources.pool, metrics_for(resources)
        lab_token_key = settings.lab_token_private_key.get_secret_value() if settings.lab_token_private_key else None
        return register(
            server,
            (labs_pb2_grpc.add_LabAdminServiceServicer_to_server, LabAdminServicer(pool)),
            (
                projects_pb2_grpc.add_ProjectServiceServicer_to_server,
                ProjectServicer(pool, m, settings.projects_per_lab_per_hour),
            ),
            (tasks_pb2_grpc.add_TaskServiceServicer_to_server, TaskServicer(pool, m)),
            (delivery_pb2_grpc.add_DeliveryServiceServicer_to_server, DeliveryServicer(pool, hub, m)),
            (
                tokens_pb2_grpc.add_TokenServiceServicer_to_server,
                TokenServicer(lab_token_key, dt.timedelta(minutes=settings.lab_token_minutes)),
            ),
            (webhooks_pb2_grpc.add_WebhookServiceServicer_to_server, WebhookServicer(pool, box)),
            (audits_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer(pool)),
        )

    def dispatcher(resources: Resources) -> Dispatcher:
        return Dispatcher(
            resources.pool,
            metrics_for(resources),
            box,
            schedule=settings.webhook_retry_schedule,
            allowed_networks=settings.webhook_allowed_networks,
            timeout_seconds=settings.webhook_timeout_seconds,
            concurrency=settings.webhook_concurrency,
        )

    return ServiceDefinition(
        settings=settings,
        add_servicers=add_servicers,
        authenticator=lambda r: intake_authenticator(r.pool, settings.token_public_key_pem()),
        publishes=PUBLISHED,
        subscriptions=lambda r: subscriptions(metrics_for(r), LabView(settings.pseudonym_key_bytes())),
        background=lambda r: [lambda: hub.run(r.pool), dispatcher(r).run_forever],
    )


async def main(settings: IntakeSettings | None = None) -> None:
    settings = settings or IntakeSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
