"""Accounts and the invitations that create them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Account:
    expert_id: str
    sign_in_name: str
    password_hash: str
    roles: tuple[str, ...]
    totp_secret: str | None
    totp_last_step: int | None


@dataclass(frozen=True)
class Invitation:
    expert_id: str
    roles: tuple[str, ...]
    expire_time: dt.datetime
    use_time: dt.datetime | None


def _account(r: asyncpg.Record) -> Account:
    return Account(
        expert_id=r["expert_id"],
        sign_in_name=r["sign_in_name"],
        password_hash=r["password_hash"],
        roles=tuple(r["roles"]),
        totp_secret=r["totp_secret"],
        totp_last_step=r["totp_last_step"],
    )


async def by_name(conn: asyncpg.Connection, sign_in_name: str) -> Account | None:
    r = await conn.fetchrow("SELECT * FROM accounts WHERE sign_in_name = $1", sign_in_name)
    return _account(r) if r else None


async def name_taken(conn: asyncpg.Connection, sign_in_name: str, expert_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE sign_in_name = $1 AND expert_id <> $2)",
            sign_in_name,
            expert_id,
        )
    )


async def upsert(
    conn: asyncpg.Connection, expert_id: str, sign_in_name: str, password_hash: str, roles: list[str], now: dt.datetime
) -> None:
    """Create the account, or (a re-invitation) set its name, password and roles anew; a reset
    also drops the second factor, which the expert may have lost with the password."""
    await conn.execute(
        """INSERT INTO accounts (expert_id, sign_in_name, password_hash, roles, create_time, update_time)
           VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (expert_id) DO UPDATE
           SET sign_in_name = EXCLUDED.sign_in_name, password_hash = EXCLUDED.password_hash,
               roles = EXCLUDED.roles, totp_secret = NULL, totp_last_step = NULL, update_time = EXCLUDED.update_time""",
        expert_id,
        sign_in_name,
        password_hash,
        roles,
        now,
    )


async def set_password_hash(conn: asyncpg.Connection, expert_id: str, password_hash: str, now: dt.datetime) -> None:
    await conn.execute(
        "UPDATE accounts SET password_hash = $2, update_time = $3 WHERE expert_id = $1", expert_id, password_hash, now
    )


async def set_roles(conn: asyncpg.Connection, expert_id: str, roles: list[str]) -> None:
    await conn.execute(
        "UPDATE accounts SET roles = $2, update_time = now() WHERE expert_id = $1 AND roles <> $2", expert_id, roles
    )


async def set_totp(conn: asyncpg.Connection, expert_id: str, secret: str | None, step: int | None) -> None:
    await conn.execute(
        "UPDATE accounts SET totp_secret = $2, totp_last_step = $3, update_time = now() WHERE expert_id = $1",
        expert_id,
        secret,
        step,
    )


async def use_totp_step(conn: asyncpg.Connection, expert_id: str, step: int) -> bool:
    """Record `step` as used; False when it (or a later one) already was: a code works once."""
    result = await conn.execute(
        """UPDATE accounts SET totp_last_step = $2
           WHERE expert_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)""",
        expert_id,
        step,
    )
    return str(result).endswith(" 1")


async def add_invitation(
    conn: asyncpg.Connection,
    token_hash: bytes,
    expert_id: str,
    roles: list[str],
    invited_by: str,
    now: dt.datetime,
    expire_time: dt.datetime,
) -> None:
    # A new link voids the expert's earlier unused ones: only the latest one handed out works.
    await conn.execute(
        "UPDATE invitations SET expire_time = $2 WHERE expert_id = $1 AND use_time IS NULL AND expire_time > $2",
        expert_id,
        now,
    )
    await conn.execute(
        """INSERT INTO invitations (token_hash, expert_id, roles, invited_by, create_time, expire_time)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        token_hash,
        expert_id,
        roles,
        invited_by,
        now,
        expire_time,
    )


async def invitation(conn: asyncpg.Connection, token_hash: bytes, *, for_update: bool = False) -> Invitation | None:
    query = "SELECT expert_id, roles, expire_time, use_time FROM invitations WHERE token_hash = $1"
    r = await conn.fetchrow(query + " FOR UPDATE" if for_update else query, token_hash)
    if r is None:
        return None
    return Invitation(r["expert_id"], tuple(r["roles"]), r["expire_time"], r["use_time"])


async def use_invitation(conn: asyncpg.Connection, token_hash: bytes, now: dt.datetime) -> None:
    await conn.execute("UPDATE invitations SET use_time = $2 WHERE token_hash = $1", token_hash, now)
