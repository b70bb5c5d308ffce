"""Wires payout: settings, topics, and the chassis runtime."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import grpc

from cohort.payout.v1 import (
    balances_pb2_grpc,
    costs_pb2_grpc,
    payees_pb2_grpc,
    runs_pb2_grpc,
)
from cohort_payout.api.balances import BalanceServicer
from cohort_payout.api.costs import ProjectCostServicer
from cohort_payout.api.payees import PayeeAdminServicer
from cohort_payout.api.runs import PayoutAdminServicer
from cohort_payout.app.runs import resume_forever
from cohort_payout.app.schedule import run_on_schedule
from cohort_payout.config import PayoutSettings
from cohort_payout.consumers.handlers import subscriptions
from cohort_payout.events.topics import PUBLISHED
from cohort_payout.metrics import PayoutMetrics
from cohort_payout.rails.base import Debtor
from cohort_payout.sealing import Sealer
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.servicers import register
from cohort_runtime.tokens import token_authenticator


def definition(settings: PayoutSettings) -> ServiceDefinition:
    sealer = Sealer(settings.payee_key.get_secret_value()) if settings.payee_key else None
    debtor = (
        Debtor(settings.debtor_name, settings.debtor_iban.get_secret_value(), settings.debtor_bic)
        if settings.debtor_name and settings.debtor_iban
        else None
    )

    def scheduled(resources: Resources) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        if not settings.run_interval_hours:
            return []
        currencies = [c.strip().upper() for c in settings.run_currencies.split(",") if c.strip()]
        interval = dt.timedelta(hours=settings.run_interval_hours)
        return [lambda: run_on_schedule(resources.pool, currencies, interval, settings.run_min_amount_minor)]

    def add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
        return register(
            server,
            (
                runs_pb2_grpc.add_PayoutAdminServiceServicer_to_server,
                PayoutAdminServicer(resources.pool, sealer, debtor),
            ),
            (balances_pb2_grpc.add_BalanceServiceServicer_to_server, BalanceServicer(resources.pool)),
            (payees_pb2_grpc.add_PayeeAdminServiceServicer_to_server, PayeeAdminServicer(resources.pool, sealer)),
            (costs_pb2_grpc.add_ProjectCostServiceServicer_to_server, ProjectCostServicer(resources.pool)),
        )

    return ServiceDefinition(
        settings=settings,
        add_servicers=add_servicers,
        authenticator=lambda _r: token_authenticator(
            settings.token_public_key_pem(), settings.lab_token_public_key_pem()
        ),
        publishes=PUBLISHED,
        subscriptions=lambda _r: subscriptions(settings.platform_fee_bps),
        # Runs a previous process left half done are finished first thing; then the schedule.
        background=lambda r: [
            lambda: resume_forever(r.pool),
            lambda: PayoutMetrics(r.registry).refresh_forever(r.pool),
            *scheduled(r),
        ],
    )


async def main(settings: PayoutSettings | None = None) -> None:
    settings = settings or PayoutSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
