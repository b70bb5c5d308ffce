"""Server-side sessions, keyed by a hash of the cookie value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class SessionRow:
    expert_id: str
    roles: tuple[str, ...]
    sign_in_name: str
    csrf_token: str
    idle_expire_time: dt.datetime
    expire_time: dt.datetime


async def create(
    conn: asyncpg.Connection,
    id_hash: bytes,
    expert_id: str,
    csrf_token: str,
    now: dt.datetime,
    idle_expire: dt.datetime,
    expire: dt.datetime,
) -> None:
    await conn.execute(
        """INSERT INTO sessions
               (id_hash, expert_id, csrf_token, create_time, last_seen_time, idle_expire_time, expire_time)
           VALUES ($1, $2, $3, $4, $4, $5, $6)""",
        id_hash,
        expert_id,
        csrf_token,
        now,
        idle_expire,
        expire,
    )


async def get(conn: asyncpg.Connection, id_hash: bytes) -> SessionRow | None:
    r = await conn.fetchrow(
        """SELECT s.expert_id, a.roles, a.sign_in_name, s.csrf_token, s.idle_expire_time, s.expire_time
           FROM sessions s JOIN accounts a USING (expert_id) WHERE s.id_hash = $1""",
        id_hash,
    )
    if r is None:
        return None
    return SessionRow(
        r["expert_id"], tuple(r["roles"]), r["sign_in_name"], r["csrf_token"], r["idle_expire_time"], r["expire_time"]
    )


async def touch(conn: asyncpg.Connection, id_hash: bytes, now: dt.datetime, idle_expire: dt.datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET last_seen_time = $2, idle_expire_time = $3 WHERE id_hash = $1", id_hash, now, idle_expire
    )


async def delete(conn: asyncpg.Connection, id_hash: bytes) -> None:
    await conn.execute("DELETE FROM sessions WHERE id_hash = $1", id_hash)


async def delete_all(conn: asyncpg.Connection, expert_id: str) -> int:
    result = await conn.execute("DELETE FROM sessions WHERE expert_id = $1", expert_id)
    return int(result.split()[-1])


async def delete_expired(conn: asyncpg.Connection, now: dt.datetime, limit: int = 1000) -> int:
    result = await conn.execute(
        """DELETE FROM sessions WHERE id_hash IN (
               SELECT id_hash FROM sessions WHERE expire_time <= $1 OR idle_expire_time <= $1 LIMIT $2)""",
        now,
        limit,
    )
    return int(result.split()[-1])
