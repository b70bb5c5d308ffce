"""Wires qa: settings, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort_qa.config import QASettings
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.tokens import token_authenticator


def _add_servicers(_server: grpc.aio.Server, _resources: Resources) -> list[str]:
    return []


def definition(settings: QASettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=lambda _r: token_authenticator(settings.token_public_key_pem()),
    )


async def main(settings: QASettings | None = None) -> None:
    settings = settings or QASettings()  # type: ignore[call-arg]
    await serve(definition(settings))
