"""Wires payout: settings, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort_payout.config import PayoutSettings
from cohort_runtime import Resources, ServiceDefinition, ServiceRuntime, configure_logging, configure_tracing
from cohort_runtime.tokens import token_authenticator


def _add_servicers(_server: grpc.aio.Server, _resources: Resources) -> list[str]:
    return []


def definition(settings: PayoutSettings) -> ServiceDefinition:
    key = settings.token_public_key.get_secret_value() if settings.token_public_key else None
    return ServiceDefinition(
        settings=settings, add_servicers=_add_servicers, authenticator=token_authenticator(key)
    )


async def main(settings: PayoutSettings | None = None) -> None:
    settings = settings or PayoutSettings()  # type: ignore[call-arg]
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    await ServiceRuntime(definition(settings)).serve_forever()
