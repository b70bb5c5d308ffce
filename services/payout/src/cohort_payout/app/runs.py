"""Payout runs: create, execute (resumably), settle and fail payouts."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_payout.db import ledger
from cohort_payout.db import runs as repo
from cohort_payout.domain import runs
from cohort_payout.domain.errors import Conflict, NotFoundError, StateConflict
from cohort_payout.domain.runs import RunRequest

BATCH = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def create_run(pool: asyncpg.Pool, request: RunRequest) -> repo.Run:
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        # One run at a time per currency, decided under a lock: two concurrent creates cannot both
        # see "no run in progress".
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"payout-run:{request.currency}")
        existing = await repo.by_request(conn, request.request_id)
        if existing is not None:
            same = (existing.currency, existing.min_amount) == (request.currency, request.min_amount)
            if not same or (request.cutoff is not None and request.cutoff != existing.cutoff):
                raise Conflict(f"request_id {request.request_id} was used for a different run")
            return existing
        previous = await repo.latest(conn, request.currency)
        if previous is not None and previous.state == "running":
            raise StateConflict(
                f"payout run {previous.run_id} of {request.currency} has not completed; it resumes on its own",
                f"payout_runs/{previous.run_id}",
                "RUNNING",
            )
        cutoff = request.validate(now, previous.complete_time if previous else None)
        run = repo.Run(uuid.uuid4(), request.request_id, request.currency, cutoff, request.min_amount, "running", None)
        await repo.insert(conn, run, now)
        await repo.select_candidates(conn, run)
    return await execute(pool, run.run_id)


async def execute(
    pool: asyncpg.Pool, run_id: uuid.UUID, max_batches: int | None = None, batch: int = BATCH
) -> repo.Run:
    """Pay everyone the run selects who is not paid yet; safe to call again after any crash."""
    async with pool.acquire() as conn:
        run = await repo.get(conn, run_id)
    if run is None:
        raise NotFoundError("payout run", str(run_id))
    after, batches = "", 0
    while run.state == "running" and (max_batches is None or batches < max_batches):
        async with pool.acquire() as conn, conn.transaction():
            owed = await repo.unpaid_candidates(conn, run_id, after, batch)
            if not owed:
                await repo.complete(conn, run_id, _now())
                break
            postings = [runs.payout(run_id, expert_id, run.currency, amount) for expert_id, amount in owed]
            await ledger.post_many(conn, postings, _now())
            await repo.insert_payouts(conn, run_id, owed)
            after = owed[-1][0]
        batches += 1
    async with pool.acquire() as conn:
        done = await repo.get(conn, run_id)
    return done or run


async def resume_running(pool: asyncpg.Pool) -> None:
    """At start-up: finish the runs a previous process left half done."""
    async with pool.acquire() as conn:
        pending = await repo.running(conn)
    for run_id in pending:
        await execute(pool, run_id)


async def settle(pool: asyncpg.Pool, run_id: uuid.UUID, expert_id: str, ok: bool, reason: str = "") -> None:
    async with pool.acquire() as conn, conn.transaction():
        found = await repo.lock_payout(conn, run_id, expert_id)
        run = await repo.get(conn, run_id)
        if found is None or run is None:
            raise NotFoundError("payout", f"{run_id}/{expert_id}")
        amount, state = found
        if state != "in_transit":
            raise StateConflict(f"payout {run_id}/{expert_id} is {state}", f"payouts/{run_id}/{expert_id}", state)
        posting = runs.settled if ok else runs.failed
        await ledger.post(conn, posting(run_id, expert_id, run.currency, amount), _now())
        await repo.set_payout_state(conn, run_id, expert_id, "settled" if ok else "failed", reason[:500])


async def get_run(pool: asyncpg.Pool, run_id: uuid.UUID) -> repo.Run:
    async with pool.acquire() as conn:
        run = await repo.get(conn, run_id)
    if run is None:
        raise NotFoundError("payout run", str(run_id))
    return run
