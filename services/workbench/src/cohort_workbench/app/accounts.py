"""Invitations, accounts, sign-in and sessions: the identity the platform lacked.

Secrets (invitation links, session ids) are random 256-bit values shown once and stored only as
SHA-256 hashes; passwords as argon2id hashes. Sign-in failures are counted per account and per
client address in the database, so every replica throttles alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import asyncpg
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cohort_workbench.db import accounts as accounts_repo
from cohort_workbench.db import sessions as sessions_repo
from cohort_workbench.db import throttle as throttle_repo
from cohort_workbench.db import work as work_repo
from cohort_workbench.domain.passwords import password_problems
from cohort_workbench.domain.sessions import SessionPolicy
from cohort_workbench.domain.throttle import ThrottlePolicy

SIGN_IN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_hasher = PasswordHasher()  # argon2id, RFC 9106 "low memory" parameters (64 MiB, t=3, p=4)
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class AccountError(Exception):
    """A refusal the expert can act on; `field` names the form field it is about."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Throttled(AccountError):
    def __init__(self, until: dt.datetime) -> None:
        minutes = max(1, int((until - now()).total_seconds() // 60) + 1)
        super().__init__(f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
        self.until = until


@dataclass(frozen=True)
class NewSession:
    session_id: str  # the cookie value; never stored
    expert_id: str
    expire_time: dt.datetime


@dataclass(frozen=True)
class SessionView:
    id_hash: bytes
    expert_id: str
    sign_in_name: str
    roles: tuple[str, ...]
    csrf_token: str


@dataclass(frozen=True)
class Throttles:
    account: ThrottlePolicy
    address: ThrottlePolicy


async def invite(
    pool: asyncpg.Pool, expert_id: str, roles: list[str], invited_by: str, valid_for: dt.timedelta
) -> tuple[str, dt.datetime]:
    """(the link's secret, its expiry)."""
    token = secrets.token_urlsafe(32)
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        await accounts_repo.add_invitation(
            conn, secret_hash(token), expert_id, sorted(set(roles)), invited_by, at, at + valid_for
        )
    return token, at + valid_for


async def open_invitation(pool: asyncpg.Pool, token: str) -> accounts_repo.Invitation:
    """The live invitation behind `token`; an unknown, used or expired one reads alike."""
    async with pool.acquire() as conn:
        found = await accounts_repo.invitation(conn, secret_hash(token))
    if found is None or found.use_time is not None or found.expire_time <= now():
        raise AccountError("This invitation link is not valid any more. Ask your Cohort contact for a new one.")
    return found


async def accept_invitation(
    pool: asyncpg.Pool, token: str, sign_in_name: str, password: str, policy: SessionPolicy, recent: RecentSessions
) -> NewSession:
    """Set the name and password, use the link up, end any earlier sessions and sign in."""
    invitation = await open_invitation(pool, token)
    if not SIGN_IN_NAME.match(sign_in_name):
        raise AccountError(
            "Use 3 to 64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
            "sign_in_name",
        )
    problems = password_problems(password, [sign_in_name, invitation.expert_id])
    if problems:
        raise AccountError(" ".join(problems), "password")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        locked = await accounts_repo.invitation(conn, secret_hash(token), for_update=True)
        if locked is None or locked.use_time is not None or locked.expire_time <= at:
            raise AccountError("This invitation link was just used. Sign in, or ask for a new link.")
        if await accounts_repo.name_taken(conn, sign_in_name, invitation.expert_id):
            raise AccountError("That name is taken; choose another.", "sign_in_name")
        await accounts_repo.upsert(conn, invitation.expert_id, sign_in_name, password_hash, list(locked.roles), at)
        await accounts_repo.use_invitation(conn, secret_hash(token), at)
        await sessions_repo.delete_all(conn, invitation.expert_id)
        recent.forget_expert(invitation.expert_id)
        return await _new_session(conn, invitation.expert_id, policy, at)


async def _new_session(conn: asyncpg.Connection, expert_id: str, policy: SessionPolicy, at: dt.datetime) -> NewSession:
    # A fresh id on every sign-in: a session id planted before sign-in is never promoted (fixation).
    session_id = secrets.token_urlsafe(32)
    idle, absolute = policy.new(at)
    await sessions_repo.create(conn, secret_hash(session_id), expert_id, secrets.token_urlsafe(32), at, idle, absolute)
    return NewSession(session_id, expert_id, absolute)


async def sign_in(
    pool: asyncpg.Pool,
    sign_in_name: str,
    password: str,
    totp_code: str,
    address: str,
    policy: SessionPolicy,
    throttles: Throttles,
) -> NewSession:
    """A new session for the right name, password (and code, when enrolled); AccountError otherwise,
    with the same message whichever part was wrong."""
    at = now()
    keys = {"account": f"account:{sign_in_name[:64]}", "address": f"address:{address}"}
    async with pool.acquire() as conn:
        counts = await throttle_repo.get(conn, list(keys.values()))
        for kind, key in keys.items():
            until = getattr(throttles, kind).locked_until(counts.get(key), at)
            if until is not None:
                raise Throttled(until)
        account = await accounts_repo.by_name(conn, sign_in_name)
    ok = await asyncio.to_thread(_verify, account.password_hash if account else _DUMMY_HASH, password)
    if ok and account is not None and account.totp_secret:
        ok = await _totp_ok(pool, account.expert_id, account.totp_secret, totp_code)
        if not ok and not totp_code:
            raise AccountError("Enter the 6-digit code from your authenticator app.", "totp_code")
    if not ok or account is None:
        async with pool.acquire() as conn, conn.transaction():
            current = await throttle_repo.lock(conn, list(keys.values()), at)
            for kind, key in keys.items():
                await throttle_repo.put(conn, key, getattr(throttles, kind).after_failure(current.get(key), at))
        raise AccountError("That sign-in name and password do not match.")
    async with pool.acquire() as conn, conn.transaction():
        await throttle_repo.clear(conn, keys["account"])
        if account.password_hash and _hasher.check_needs_rehash(account.password_hash):
            # Stored under older parameters: hashed again with today's (off the event loop).
            rehashed = await asyncio.to_thread(_hasher.hash, password)
            await accounts_repo.set_password_hash(conn, account.expert_id, rehashed, at)
        return await _new_session(conn, account.expert_id, policy, at)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _totp_ok(pool: asyncpg.Pool, expert_id: str, secret: str, code: str) -> bool:
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(secret)
    at = now()
    # The current step and one either side, for clocks a little apart; each step is good once.
    for offset in (0, -1, 1):
        step = totp.timecode(at) + offset
        if secrets.compare_digest(totp.generate_otp(step), code):
            async with pool.acquire() as conn:
                return await accounts_repo.use_totp_step(conn, expert_id, step)
    return False


async def set_roles(pool: asyncpg.Pool, expert_id: str, roles: list[str]) -> None:
    async with pool.acquire() as conn:
        await accounts_repo.set_roles(conn, expert_id, sorted(set(roles)))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, sign_in_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=sign_in_name, issuer_name="Cohort")


async def enrol_totp(pool: asyncpg.Pool, expert_id: str, secret: str, code: str) -> None:
    """Turn the second factor on once the expert shows a code from the new secret."""
    totp = pyotp.TOTP(secret)
    if not re.fullmatch(r"[A-Z2-7]{32}", secret) or not totp.verify(code.strip().replace(" ", ""), valid_window=1):
        raise AccountError("That code does not match. Check the time on your phone and try the current code.", "code")
    async with pool.acquire() as conn:
        await accounts_repo.set_totp(conn, expert_id, secret, totp.timecode(now()))


class RecentSessions:
    """Sessions this replica read in the last `ttl` seconds, so an expert's next page need not read
    the session again (two requests a task). Sign-out here forgets at once; a sign-out on another
    replica (or an operator's SignOutEverywhere there) takes effect here within `ttl`."""

    def __init__(self, ttl: float = 5.0, size: int = 50_000) -> None:
        self.ttl = ttl
        self._size = size
        self._entries: dict[bytes, tuple[float, sessions_repo.SessionRow]] = {}

    def get(self, id_hash: bytes) -> sessions_repo.SessionRow | None:
        entry = self._entries.get(id_hash)
        if entry is None or time.monotonic() > entry[0]:
            return None
        return entry[1]

    def put(self, id_hash: bytes, row: sessions_repo.SessionRow) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id_hash] = (time.monotonic() + self.ttl, row)

    def forget(self, id_hash: bytes) -> None:
        self._entries.pop(id_hash, None)

    def forget_expert(self, expert_id: str) -> None:
        for key in [k for k, (_, row) in self._entries.items() if row.expert_id == expert_id]:
            del self._entries[key]


async def session(
    pool: asyncpg.Pool, session_id: str, policy: SessionPolicy, recent: RecentSessions
) -> SessionView | None:
    """The live session behind a cookie value, its idle expiry moved on; None when there is none."""
    id_hash = secret_hash(session_id)
    at = now()
    row = recent.get(id_hash)
    fresh = row is not None and policy.is_live(row.idle_expire_time, row.expire_time, at)
    if row is not None and fresh and policy.touched(row.idle_expire_time, row.expire_time, at) is None:
        return SessionView(id_hash, row.expert_id, row.sign_in_name, row.roles, row.csrf_token)
    async with pool.acquire() as conn:
        row = await sessions_repo.get(conn, id_hash)
        if row is None:
            recent.forget(id_hash)
            return None
        if not policy.is_live(row.idle_expire_time, row.expire_time, at):
            recent.forget(id_hash)
            await sessions_repo.delete(conn, id_hash)
            return None
        moved = policy.touched(row.idle_expire_time, row.expire_time, at)
        if moved is not None:
            await sessions_repo.touch(conn, id_hash, at, moved)
            row = dataclasses.replace(row, idle_expire_time=moved)
    recent.put(id_hash, row)
    return SessionView(id_hash, row.expert_id, row.sign_in_name, row.roles, row.csrf_token)


async def sign_out(pool: asyncpg.Pool, view: SessionView, recent: RecentSessions) -> None:
    recent.forget(view.id_hash)
    async with pool.acquire() as conn:
        await sessions_repo.delete(conn, view.id_hash)


async def sign_out_everywhere(pool: asyncpg.Pool, expert_id: str, recent: RecentSessions) -> int:
    recent.forget_expert(expert_id)
    async with pool.acquire() as conn:
        return await sessions_repo.delete_all(conn, expert_id)


async def sweep_forever(pool: asyncpg.Pool, throttle_window: dt.timedelta, every_seconds: float = 300) -> None:
    """Delete expired sessions, stale failure counters and leases older than a day."""
    while True:
        at = now()
        async with pool.acquire() as conn:
            while await sessions_repo.delete_expired(conn, at) > 0:
                pass
            await throttle_repo.delete_stale(conn, at - 2 * throttle_window)
            await work_repo.delete_old_leases(conn, at - dt.timedelta(days=1))
        await asyncio.sleep(every_seconds)
