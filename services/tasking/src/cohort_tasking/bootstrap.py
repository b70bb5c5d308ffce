"""Wires tasking: settings, servicers, consumers, the lease sweeper, and the chassis runtime."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import grpc

from cohort.tasking.v1 import experts_pb2_grpc, work_pb2_grpc
from cohort_runtime import Resources, ServiceDefinition, Subscription, serve
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.servicers import register
from cohort_runtime.tokens import token_authenticator
from cohort_runtime.transient import TRANSIENT_DB_ERRORS
from cohort_tasking.api.experts import ExpertAdminServicer, ProfileServicer
from cohort_tasking.api.work import WorkServicer
from cohort_tasking.app import experts as experts_app
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.app.work import expire_due
from cohort_tasking.config import TaskingSettings
from cohort_tasking.consumers.handlers import router
from cohort_tasking.events.topics import CONSUMED, PUBLISHED
from cohort_tasking.metrics import TaskingGauges

log = logging.getLogger(__name__)


def _add_servicers(
    server: grpc.aio.Server, resources: Resources, eligibility: EligibilityCache, clock: Clock
) -> list[str]:
    pool = resources.pool
    return register(
        server,
        (experts_pb2_grpc.add_ExpertAdminServiceServicer_to_server, ExpertAdminServicer(pool, eligibility)),
        (experts_pb2_grpc.add_ProfileServiceServicer_to_server, ProfileServicer(pool, eligibility)),
        (work_pb2_grpc.add_WorkServiceServicer_to_server, WorkServicer(pool, eligibility, clock)),
    )


def _subscriptions(eligibility: EligibilityCache) -> list[Subscription]:
    return [Subscription(name="events", topics=CONSUMED, router=router(eligibility))]


def _sweeper(settings: TaskingSettings, resources: Resources, clock: Clock):  # type: ignore[no-untyped-def]
    async def sweep() -> None:
        """Return expired leases to the queue, forever (cancelled at shutdown)."""
        while True:
            try:
                while await expire_due(resources.pool, clock=clock) > 0:
                    pass
            except TRANSIENT_DB_ERRORS as exc:  # the database is away or restarting; try again later
                log.warning("lease sweep failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(settings.sweep_seconds)

    return sweep


def definition(settings: TaskingSettings, clock: Clock = SYSTEM_CLOCK) -> ServiceDefinition:
    """Tasking as the chassis runs it; tests pass a ManualClock to move lease time."""
    # Shared by the servicers (which read it) and the event handlers (which invalidate it).
    eligibility = EligibilityCache(settings.eligibility_cache_seconds)
    return ServiceDefinition(
        settings=settings,
        add_servicers=lambda server, r: _add_servicers(server, r, eligibility, clock),
        authenticator=lambda _r: token_authenticator(settings.token_public_key_pem()),
        publishes=PUBLISHED,
        subscriptions=lambda _r: _subscriptions(eligibility),
        background=lambda r: [
            _sweeper(settings, r, clock),
            lambda: TaskingGauges(r.registry).refresh_forever(r.pool),
            lambda: _announce(r.pool),
        ],
    )


async def _announce(pool: asyncpg.Pool) -> None:
    announced = await experts_app.announce_profiles(pool)
    if announced:
        log.info("published the routing profiles of %d experts registered before profiles were published", announced)


async def main(settings: TaskingSettings | None = None) -> None:
    settings = settings or TaskingSettings()  # type: ignore[call-arg]
    await serve(definition(settings))
