"""Payout runs: create, execute (resumably), settle and fail payouts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

import asyncpg

from cohort_payout.db import ledger
from cohort_payout.db import runs as repo
from cohort_payout.domain import runs
from cohort_payout.domain.ledger import currency_violations
from cohort_payout.domain.runs import RunRequest
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import Conflict, InvalidInput, NotFoundError, StateConflict
from cohort_runtime.transient import TRANSIENT_DB_ERRORS

BATCH = 1000
RESUME_EVERY_SECONDS = 15.0

log = logging.getLogger(__name__)


async def create_run(pool: asyncpg.Pool, request: RunRequest, clock: Clock = SYSTEM_CLOCK) -> runs.Run:
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        # One run at a time per currency, decided under a lock: two concurrent creates cannot both
        # see "no run in progress".
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"payout-run:{request.currency}")
        existing = await repo.by_request(conn, request.request_id)
        if existing is not None:
            same = (existing.currency, existing.min_amount) == (request.currency, request.min_amount)
            if not same or (request.cutoff is not None and request.cutoff != existing.cutoff):
                raise Conflict(f"request_id {request.request_id} was used for a different run")
            run = existing
        else:
            run = await _start(conn, request, now)
    # A retried create of a run still running (its first call died mid-run) carries it on.
    return await execute(pool, run.run_id) if run.state == "running" else run


async def _start(conn: asyncpg.Connection, request: RunRequest, now: dt.datetime) -> runs.Run:
    previous = await repo.latest(conn, request.currency)
    if previous is not None and previous.state == "running":
        raise StateConflict(
            f"payout run {previous.run_id} of {request.currency} has not completed; the service resumes it "
            f"within {RESUME_EVERY_SECONDS:.0f} s (or retry its own request_id to carry it on now)",
            f"payout_runs/{previous.run_id}",
            "RUNNING",
        )
    cutoff = request.validate(now, previous.complete_time if previous else None)
    run = runs.Run(uuid.uuid4(), request.request_id, request.currency, cutoff, request.min_amount, "running", None)
    await repo.insert(conn, run, now)
    await repo.select_candidates(conn, run)
    return run


async def execute(
    pool: asyncpg.Pool,
    run_id: uuid.UUID,
    max_batches: int | None = None,
    batch: int = BATCH,
    clock: Clock = SYSTEM_CLOCK,
) -> runs.Run:
    """Pay everyone the run selects who is not paid yet; safe to call again after any crash."""
    async with pool.acquire() as conn:
        run = await repo.get(conn, run_id)
    if run is None:
        raise NotFoundError("payout run", str(run_id))
    after, batches = "", 0
    while run.state == "running" and (max_batches is None or batches < max_batches):
        async with pool.acquire() as conn, conn.transaction():
            # Executors of one run (a resumer, a retried create, another replica) take turns per
            # batch, and each reads who is still unpaid under the lock: nobody is paid twice.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"payout-run-exec:{run_id}")
            owed = await repo.unpaid_candidates(conn, run_id, after, batch)
            if not owed:
                await repo.complete(conn, run_id, clock.now())
                break
            postings = [runs.payout(run_id, expert_id, run.currency, amount) for expert_id, amount in owed]
            await ledger.post_many(conn, postings, clock.now())
            await repo.insert_payouts(conn, run_id, owed)
            after = owed[-1][0]
        batches += 1
    async with pool.acquire() as conn:
        done = await repo.get(conn, run_id)
    return done or run


async def resume_running(pool: asyncpg.Pool) -> int:
    """Finish the runs left half done (a process that died, a batch that lost a deadlock);
    returns how many were taken up."""
    async with pool.acquire() as conn:
        pending = await repo.running(conn)
    for run_id in pending:
        await execute(pool, run_id)
    return len(pending)


async def resume_forever(pool: asyncpg.Pool, every_seconds: float = RESUME_EVERY_SECONDS) -> None:
    """Background job: at start-up and then every `every_seconds`, carry on any running run.
    A failure (database away, deadlock) is logged and tried again at the next turn."""
    while True:
        try:
            resumed = await resume_running(pool)
            if resumed:
                log.info("resumed %d payout run(s)", resumed)
        except (*TRANSIENT_DB_ERRORS, asyncpg.TransactionRollbackError) as exc:
            log.warning("payout run resume failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, every_seconds)
        await asyncio.sleep(every_seconds)


async def settle(
    pool: asyncpg.Pool, run_id: uuid.UUID, expert_id: str, ok: bool, reason: str = "", clock: Clock = SYSTEM_CLOCK
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        found = await repo.lock_payout(conn, run_id, expert_id)
        run = await repo.get(conn, run_id)
        if found is None or run is None:
            raise NotFoundError("payout", f"{run_id}/{expert_id}")
        amount, state = found
        if state != "in_transit":
            raise StateConflict(f"payout {run_id}/{expert_id} is {state}", f"payouts/{run_id}/{expert_id}", state)
        posting = runs.settled if ok else runs.failed
        await ledger.post(conn, posting(run_id, expert_id, run.currency, amount), clock.now())
        await repo.set_payout_state(conn, run_id, expert_id, "settled" if ok else "failed", reason[:500])


async def get_run(pool: asyncpg.Pool, run_id: uuid.UUID) -> runs.Run:
    async with pool.acquire() as conn:
        run = await repo.get(conn, run_id)
    if run is None:
        raise NotFoundError("payout run", str(run_id))
    return run


async def list_runs(
    pool: asyncpg.Pool, currency: str | None, before: tuple[dt.datetime, uuid.UUID] | None, size: int
) -> list[runs.Run]:
    """Up to size + 1 runs, newest cut-off first, of one currency (None: all)."""
    violations = currency_violations(currency) if currency is not None else []
    if violations:
        raise InvalidInput(violations)
    async with pool.acquire() as conn:
        return await repo.page(conn, currency, before, size)
