"""Wires payout: settings, topics, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort.payout.v1 import balances_pb2, balances_pb2_grpc, runs_pb2, runs_pb2_grpc
from cohort_payout.api.balances import BalanceServicer
from cohort_payout.api.runs import PayoutAdminServicer
from cohort_payout.app.runs import resume_running
from cohort_payout.config import PayoutSettings
from cohort_payout.messaging.handlers import subscriptions
from cohort_payout.messaging.topics import PUBLISHED
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.tokens import token_authenticator


def _add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
    runs_pb2_grpc.add_PayoutAdminServiceServicer_to_server(PayoutAdminServicer(resources.pool), server)
    balances_pb2_grpc.add_BalanceServiceServicer_to_server(BalanceServicer(resources.pool), server)
    return [
        runs_pb2.DESCRIPTOR.services_by_name["PayoutAdminService"].full_name,
        balances_pb2.DESCRIPTOR.services_by_name["BalanceService"].full_name,
    ]


def definition(settings: PayoutSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        add_servicers=_add_servicers,
        authenticator=lambda _r: token_authenticator(settings.token_public_key_pem()),
        publishes=PUBLISHED,
        subscriptions=lambda _r: subscriptions(settings.platform_fee_bps),
        # Runs a previous process left half done are finished first thing.
        background=lambda r: [lambda: resume_running(r.pool)],
    )


async def main(settings: PayoutSettings | None = None) -> None:
    settings = settings or PayoutSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
