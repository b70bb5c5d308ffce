"""A lab's webhook endpoints, the deliveries the platform's events make for them, and their log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from cohort_intake.db import webhooks as repo
from cohort_intake.domain import webhooks as rules
from cohort_intake.domain.webhooks import EndpointState, EventType, StoredDelivery, StoredEndpoint
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import InvalidInput, NotFoundError, StateConflict, Violation
from cohort_runtime.sealing import SecretBox, is_sealed

MAX_OVERLAP = dt.timedelta(days=7)


def _require(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise StateConflict(
            "webhooks are not enabled on this platform: no key seals their signing secrets; ask the operator",
            "webhooks",
            "NOT_CONFIGURED",
        )
    return box


async def create_endpoint(
    pool: asyncpg.Pool,
    box: SecretBox | None,
    lab_id: uuid.UUID,
    url: str,
    event_types: list[str],
    description: str,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[StoredEndpoint, str]:
    """The endpoint and its secret (which is not shown again)."""
    problems = rules.problems(url, event_types, description)
    if problems:
        raise InvalidInput(problems)
    sealer = _require(box)
    secret, endpoint_id = rules.new_secret(), uuid.uuid4()
    sealed = sealer.seal(secret, str(endpoint_id))
    async with pool.acquire() as conn:
        stored = await repo.insert_endpoint(
            conn, endpoint_id, lab_id, rules.endpoint(url, event_types, description), sealed, clock.now()
        )
    return stored, secret


async def list_endpoints(pool: asyncpg.Pool, lab_id: uuid.UUID) -> list[StoredEndpoint]:
    async with pool.acquire() as conn:
        return await repo.endpoints(conn, lab_id)


async def _owned(conn: asyncpg.Connection, lab_id: uuid.UUID, endpoint_id: uuid.UUID) -> StoredEndpoint:
    found = await repo.get_endpoint(conn, lab_id, endpoint_id, for_update=True)
    if found is None:  # another lab's endpoint is as unknown as a missing one
        raise NotFoundError("webhook endpoint", endpoint_id)
    return found


async def update_endpoint(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: dict[str, Any],
    clock: Clock = SYSTEM_CLOCK,
) -> StoredEndpoint:
    """`changes` holds the masked fields: url, event_types, description, disabled."""
    async with pool.acquire() as conn, conn.transaction():
        current = await _owned(conn, lab_id, endpoint_id)
        e = current.endpoint
        url = changes.get("url", e.url)
        event_types = changes.get("event_types", [t.value for t in e.event_types])
        description = changes.get("description", e.description)
        problems = rules.problems(url, event_types, description)
        if problems:
            raise InvalidInput(problems)
        state = current.state
        if "disabled" in changes:
            state = EndpointState.DISABLED if changes["disabled"] else EndpointState.ACTIVE
        updated = rules.endpoint(url, event_types, description)
        return await repo.update_endpoint(conn, endpoint_id, updated, state, clock.now())


async def rotate_secret(
    pool: asyncpg.Pool,
    box: SecretBox | None,
    lab_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    overlap: dt.timedelta,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[StoredEndpoint, str]:
    if not dt.timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidInput([Violation("overlap", "must be 0 to 7 days")])
    sealer = _require(box)
    secret = rules.new_secret()
    sealed = sealer.seal(secret, str(endpoint_id))
    async with pool.acquire() as conn, conn.transaction():
        await _owned(conn, lab_id, endpoint_id)
        now = clock.now()
        return await repo.rotate_secret(conn, endpoint_id, sealed, now + overlap, now), secret


async def delete_endpoint(pool: asyncpg.Pool, lab_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await _owned(conn, lab_id, endpoint_id)
        await repo.delete_endpoint(conn, endpoint_id)


async def deliveries(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    before: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[StoredDelivery]:
    async with pool.acquire() as conn:
        if await repo.get_endpoint(conn, lab_id, endpoint_id) is None:
            raise NotFoundError("webhook endpoint", endpoint_id)
        return await repo.deliveries_page(conn, endpoint_id, before, limit)


async def replay(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    delivery_id: uuid.UUID | None,
    endpoint_id: uuid.UUID | None,
    since: dt.datetime | None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Queue one delivery's message again, or every message of an endpoint since a time."""
    async with pool.acquire() as conn, conn.transaction():
        if delivery_id is not None:
            endpoint_id = await repo.delivery_endpoint(conn, delivery_id)
            if endpoint_id is None or await repo.get_endpoint(conn, lab_id, endpoint_id) is None:
                raise NotFoundError("webhook delivery", delivery_id)
        elif endpoint_id is None or since is None:
            raise InvalidInput([Violation("delivery_id", "name a delivery, or an endpoint_id and since")])
        else:
            await _owned(conn, lab_id, endpoint_id)
        return await repo.replay(conn, endpoint_id, delivery_id, since, clock.now())


async def announce(
    conn: asyncpg.Connection,
    lab_id: uuid.UUID,
    event_type: EventType,
    data: list[dict[str, Any]],
    now: dt.datetime,
) -> int:
    """Queue a message of `event_type` per data object for the lab's endpoints that take it; in the
    transaction of the change it reports, so only a committed change is ever announced."""
    stamp = now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    messages = [(f"msg_{uuid.uuid4().hex}", {"type": event_type.value, "timestamp": stamp, "data": d}) for d in data]
    return await repo.enqueue(conn, lab_id, event_type, messages, now)


async def seal_clear_secrets(pool: asyncpg.Pool, box: SecretBox, batch: int = 500) -> int:
    """Seal the secrets stored in clear before sealing existed; how many endpoints were sealed."""
    sealed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await repo.clear_secrets(conn, batch)
            for endpoint_id, secret, previous in rows:
                bound = str(endpoint_id)
                await repo.store_sealed(
                    conn,
                    endpoint_id,
                    secret if is_sealed(secret) else box.seal(secret, bound),
                    previous if previous is None or is_sealed(previous) else box.seal(previous, bound),
                )
        sealed += len(rows)
        if len(rows) < batch:
            return sealed
