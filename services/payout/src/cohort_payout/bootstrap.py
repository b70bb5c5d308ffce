"""Wires payout: settings, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort_payout.config import PayoutSettings
from cohort_payout.messaging.handlers import subscriptions
from cohort_payout.messaging.topics import PUBLISHED
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.tokens import token_authenticator


def _add_servicers(_server: grpc.aio.Server, _resources: Resources) -> list[str]:
    return []


def definition(settings: PayoutSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=lambda _r: token_authenticator(settings.token_public_key_pem()),
        publishes=PUBLISHED,
        subscriptions=lambda _r: subscriptions(settings.platform_fee_bps),
    )


async def main(settings: PayoutSettings | None = None) -> None:
    settings = settings or PayoutSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
