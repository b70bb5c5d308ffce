"""Wires tasking: settings, consumers, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort_runtime import (
    Resources,
    ServiceDefinition,
    Subscription,
    serve,
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
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=lambda _r: token_authenticator(settings.token_public_key_pem()),
        publishes=PUBLISHED,
        subscriptions=_subscriptions,
    )


async def main(settings: TaskingSettings | None = None) -> None:
    settings = settings or TaskingSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
