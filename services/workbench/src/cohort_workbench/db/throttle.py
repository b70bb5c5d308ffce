"""Failed sign-in counters, shared by every replica through the database."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_workbench.domain.throttle import FailureCount


async def get(conn: asyncpg.Connection, keys: list[str]) -> dict[str, FailureCount]:
    rows = await conn.fetch(
        "SELECT key, failures, window_start, locked_until FROM sign_in_failures WHERE key = ANY($1::text[])", keys
    )
    return {r["key"]: FailureCount(r["failures"], r["window_start"], r["locked_until"]) for r in rows}


async def lock(conn: asyncpg.Connection, keys: list[str], now: dt.datetime) -> dict[str, FailureCount]:
    """The keys' counters, created when missing and locked until the transaction ends: failures
    arriving at once on several replicas are all counted."""
    await conn.execute(
        """INSERT INTO sign_in_failures (key, failures, window_start)
           SELECT k, 0, $2 FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING""",
        sorted(keys),
        now,
    )
    rows = await conn.fetch(
        """SELECT key, failures, window_start, locked_until FROM sign_in_failures
           WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE""",
        keys,
    )
    return {r["key"]: FailureCount(r["failures"], r["window_start"], r["locked_until"]) for r in rows}


async def put(conn: asyncpg.Connection, key: str, count: FailureCount) -> None:
    await conn.execute(
        """INSERT INTO sign_in_failures (key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET failures = EXCLUDED.failures, window_start = EXCLUDED.window_start,
               locked_until = EXCLUDED.locked_until""",
        key,
        count.failures,
        count.window_start,
        count.locked_until,
    )


async def clear(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("DELETE FROM sign_in_failures WHERE key = $1", key)


async def delete_stale(conn: asyncpg.Connection, before: dt.datetime) -> None:
    await conn.execute(
        "DELETE FROM sign_in_failures WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $1)", before
    )
