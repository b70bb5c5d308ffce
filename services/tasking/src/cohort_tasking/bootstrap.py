"""Wires tasking: settings, consumers, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort_runtime import (
    Resources,
    ServiceDefinition,
    ServiceRuntime,
    Subscription,
    configure_logging,
    configure_tracing,
)
from cohort_runtime.tokens import token_authenticator
from cohort_tasking.config import TaskingSettings
from cohort_tasking.messaging.handlers import router
from cohort_tasking.messaging.topics import CONSUMED, PUBLISHED


def _add_servicers(_server: grpc.aio.Server, _resources: Resources) -> list[str]:
    return []


def _subscriptions(_resources: Resources) -> list[Subscription]:
    return [Subscription(name="events", topics=CONSUMED, router=router())]


def definition(settings: TaskingSettings) -> ServiceDefinition:
    key = settings.token_public_key.get_secret_value() if settings.token_public_key else None
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=token_authenticator(key),
        publishes=PUBLISHED,
        subscriptions=_subscriptions,
    )


async def main(settings: TaskingSettings | None = None) -> None:
    settings = settings or TaskingSettings()  # type: ignore[call-arg]
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    await ServiceRuntime(definition(settings)).serve_forever()
