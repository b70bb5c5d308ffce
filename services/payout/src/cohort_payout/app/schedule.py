"""Scheduled payout runs: every `interval`, one run per configured currency.

The request id of a scheduled run is derived from the currency and the interval's index
(uuid5), so replicas, restarts and retries of the same slot all ask for the same run, which
CreatePayoutRun answers idempotently: one run per currency per slot, whoever asks first."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

import asyncpg

from cohort_payout.app import runs
from cohort_payout.domain.runs import RunRequest
from cohort_runtime.domain_errors import DomainError

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("6f1c2d5e-4f0b-4c1e-9a55-3c0d2b8e7a10")


def scheduled_request(currency: str, interval: dt.timedelta, min_amount: int, now: dt.datetime) -> RunRequest:
    slot = int(now.timestamp() // interval.total_seconds())
    return RunRequest(
        uuid.uuid5(_NAMESPACE, f"{currency}:{int(interval.total_seconds())}:{slot}"), currency, None, min_amount
    )


async def run_on_schedule(
    pool: asyncpg.Pool, currencies: list[str], interval: dt.timedelta, min_amount: int, poll: float = 60.0
) -> None:
    while True:
        for currency in currencies:
            request = scheduled_request(currency, interval, min_amount, dt.datetime.now(dt.UTC))
            try:
                run = await runs.create_run(pool, request)
                log.info("scheduled payout run %s of %s: %d payouts", run.run_id, currency, run.payout_count)
            except DomainError as exc:  # e.g. the previous run still finishing: the next poll retries
                log.warning("scheduled payout run of %s not started: %s", currency, exc)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("scheduled payout run of %s failed; retrying at the next poll", currency, exc_info=True)
        await asyncio.sleep(poll)
