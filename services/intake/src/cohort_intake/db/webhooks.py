"""Webhook endpoints and deliveries at rest."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from cohort_intake.domain.webhooks import Endpoint, EndpointState, EventType, StoredDelivery, StoredEndpoint


@dataclass(frozen=True)
class Due:
    """A delivery claimed for an attempt, with what sending it needs."""

    delivery: StoredDelivery
    url: str
    secrets: tuple[str, ...]  # as stored: sealed (or clear, from before sealing, until sealed at start)


def _endpoint(r: asyncpg.Record) -> StoredEndpoint:
    return StoredEndpoint(
        r["endpoint_id"],
        r["lab_id"],
        Endpoint(r["url"], tuple(EventType(t) for t in r["event_types"]), r["description"]),
        EndpointState(r["state"]),
        r["failing_reason"],
        r["previous_until"],
        r["create_time"],
        r["update_time"],
    )


def _delivery(r: asyncpg.Record) -> StoredDelivery:
    return StoredDelivery(
        r["delivery_id"], r["message_id"], r["endpoint_id"], r["event_type"], r["payload"], r["state"],
        r["attempts"], r["next_attempt_at"], r["last_status"], r["last_error"], r["last_latency_ms"],
        r["create_time"], r["deliver_time"],
    )  # fmt: skip


async def insert_endpoint(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID, lab_id: uuid.UUID, e: Endpoint, secret: str, now: dt.datetime
) -> StoredEndpoint:
    """`secret` as stored: sealed (cohort_runtime.sealing)."""
    r = await conn.fetchrow(
        """INSERT INTO webhook_endpoints (endpoint_id, lab_id, url, event_types, description, state, secret,
                                          create_time, update_time)
           VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $7) RETURNING *""",
        endpoint_id, lab_id, e.url, [t.value for t in e.event_types], e.description, secret, now,
    )  # fmt: skip
    return _endpoint(r)


async def endpoints(conn: asyncpg.Connection, lab_id: uuid.UUID) -> list[StoredEndpoint]:
    rows = await conn.fetch("SELECT * FROM webhook_endpoints WHERE lab_id = $1 ORDER BY create_time", lab_id)
    return [_endpoint(r) for r in rows]


async def get_endpoint(
    conn: asyncpg.Connection, lab_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> StoredEndpoint | None:
    lock = " FOR UPDATE" if for_update else ""
    r = await conn.fetchrow(
        f"SELECT * FROM webhook_endpoints WHERE endpoint_id = $1 AND lab_id = $2{lock}",  # noqa: S608 - a constant clause
        endpoint_id,
        lab_id,
    )
    return _endpoint(r) if r else None


async def update_endpoint(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID, e: Endpoint, state: EndpointState, now: dt.datetime
) -> StoredEndpoint:
    r = await conn.fetchrow(
        """UPDATE webhook_endpoints SET url = $2, event_types = $3, description = $4, state = $5,
                  failing_reason = CASE WHEN $5 = 'failing' THEN failing_reason ELSE '' END, update_time = $6
           WHERE endpoint_id = $1 RETURNING *""",
        endpoint_id, e.url, [t.value for t in e.event_types], e.description, state.value, now,
    )  # fmt: skip
    return _endpoint(r)


async def rotate_secret(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID, secret: str, previous_until: dt.datetime, now: dt.datetime
) -> StoredEndpoint:
    r = await conn.fetchrow(
        """UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $2, update_time = $4
           WHERE endpoint_id = $1 RETURNING *""",
        endpoint_id,
        secret,
        previous_until,
        now,
    )
    return _endpoint(r)


async def delete_endpoint(conn: asyncpg.Connection, endpoint_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM webhook_endpoints WHERE endpoint_id = $1", endpoint_id)


async def enqueue(
    conn: asyncpg.Connection,
    lab_id: uuid.UUID,
    event_type: EventType,
    messages: list[tuple[str, dict[str, Any]]],
    now: dt.datetime,
) -> int:
    """A delivery of each (message id, body) to every active endpoint of the lab that takes
    `event_type`, in the caller's transaction; returns how many were queued."""
    if not messages:
        return 0
    bodies = [json.dumps(body, separators=(",", ":"), ensure_ascii=False) for _id, body in messages]
    status: str = await conn.execute(
        """INSERT INTO webhook_deliveries (delivery_id, message_id, endpoint_id, event_type, payload, state,
                                           next_attempt_at, create_time)
           SELECT gen_random_uuid(), m.id, e.endpoint_id, $2, m.body, 'pending', $5, $5
           FROM webhook_endpoints e, unnest($3::text[], $4::text[]) WITH ORDINALITY AS m(id, body, n)
           WHERE e.lab_id = $1 AND e.state = 'active' AND $2 = ANY(e.event_types)
           ORDER BY m.n""",
        lab_id,
        event_type.value,
        [message_id for message_id, _body in messages],
        bodies,
        now,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def claim_due(
    conn: asyncpg.Connection, limit: int, busy: list[uuid.UUID], lease_until: dt.datetime, now: dt.datetime
) -> list[Due]:
    """Due deliveries of endpoints not `busy`, oldest first, pushed to `lease_until` so that no other
    dispatcher takes them meanwhile (a dispatcher that dies leaves them due again then)."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT d.delivery_id FROM webhook_deliveries d
               JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id AND e.state = 'active'
               WHERE d.state = 'pending' AND d.next_attempt_at <= $4 AND NOT (d.endpoint_id = ANY($2::uuid[]))
               ORDER BY d.next_attempt_at, d.create_time LIMIT $1 FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_deliveries d SET next_attempt_at = $3 FROM due, webhook_endpoints e
           WHERE d.delivery_id = due.delivery_id AND e.endpoint_id = d.endpoint_id
           RETURNING d.*, e.url, e.secret, e.previous_secret, e.previous_until""",
        limit,
        busy,
        lease_until,
        now,
    )
    out = []
    for r in rows:
        secrets = [r["secret"]]
        if r["previous_secret"] and r["previous_until"] and r["previous_until"] > now:
            secrets.append(r["previous_secret"])
        out.append(Due(_delivery(r), r["url"], tuple(secrets)))
    return sorted(out, key=lambda d: (d.delivery.create_time, d.delivery.delivery_id))


async def record_failure(
    conn: asyncpg.Connection,
    delivery_id: uuid.UUID,
    *,
    status: int,
    error: str,
    latency_ms: float,
    next_attempt_at: dt.datetime | None,
) -> None:
    """A failed attempt: pending again at `next_attempt_at`, or failed for good without one."""
    await conn.execute(
        """UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
                  last_latency_ms = $4, next_attempt_at = $5,
                  state = CASE WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END
           WHERE delivery_id = $1""",
        delivery_id, status, error[:500], latency_ms, next_attempt_at,
    )  # fmt: skip


async def record_delivered(
    conn: asyncpg.Connection, delivered: list[tuple[uuid.UUID, int, float]], now: dt.datetime
) -> None:
    """(delivery, HTTP status, latency in ms) of successful attempts, in one statement."""
    await conn.execute(
        """UPDATE webhook_deliveries d SET attempts = d.attempts + 1, state = 'delivered', last_status = x.status,
                  last_error = '', last_latency_ms = x.latency, next_attempt_at = NULL, deliver_time = $4
           FROM unnest($1::uuid[], $2::int[], $3::float8[]) AS x(id, status, latency)
           WHERE d.delivery_id = x.id""",
        [d for d, _s, _l in delivered],
        [s for _d, s, _l in delivered],
        [lat for _d, _s, lat in delivered],
        now,
    )


async def postpone(conn: asyncpg.Connection, delivery_ids: list[uuid.UUID], until: dt.datetime) -> None:
    """Claimed deliveries not attempted: due again at `until`."""
    if delivery_ids:
        await conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE delivery_id = ANY($1::uuid[])",
            delivery_ids,
            until,
        )


async def mark_failing(conn: asyncpg.Connection, endpoint_id: uuid.UUID, reason: str, now: dt.datetime) -> None:
    """The endpoint stops receiving; its pending deliveries wait until the lab enables it again."""
    await conn.execute(
        """UPDATE webhook_endpoints SET state = 'failing', failing_reason = $2, update_time = $3
           WHERE endpoint_id = $1 AND state = 'active'""",
        endpoint_id,
        reason[:500],
        now,
    )


async def deliveries_page(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[StoredDelivery]:
    rows = await conn.fetch(
        """SELECT * FROM webhook_deliveries WHERE endpoint_id = $1
             AND ($2::timestamptz IS NULL OR (create_time, delivery_id) < ($2, $3))
           ORDER BY create_time DESC, delivery_id DESC LIMIT $4""",
        endpoint_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [_delivery(r) for r in rows]


async def replay(
    conn: asyncpg.Connection,
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID | None,
    since: dt.datetime | None,
    now: dt.datetime,
) -> int:
    """New deliveries of the messages of one delivery, or of every delivery of the endpoint since
    a time (each message once)."""
    status: str = await conn.execute(
        """INSERT INTO webhook_deliveries (delivery_id, message_id, endpoint_id, event_type, payload, state,
                                           next_attempt_at, create_time)
           SELECT gen_random_uuid(), m.message_id, m.endpoint_id, m.event_type, m.payload, 'pending', $4, $4
           FROM (SELECT DISTINCT ON (message_id) message_id, endpoint_id, event_type, payload, create_time
                 FROM webhook_deliveries
                 WHERE endpoint_id = $1 AND ($2::uuid IS NULL OR delivery_id = $2)
                   AND ($3::timestamptz IS NULL OR create_time >= $3)
                 ORDER BY message_id, create_time) m
           ORDER BY m.create_time""",
        endpoint_id,
        delivery_id,
        since,
        now,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def delivery_endpoint(conn: asyncpg.Connection, delivery_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT endpoint_id FROM webhook_deliveries WHERE delivery_id = $1", delivery_id
    )
    return found


async def clear_secrets(conn: asyncpg.Connection, limit: int) -> list[tuple[uuid.UUID, str, str | None]]:
    """Endpoints whose secrets are still stored in clear (from before sealing), locked."""
    rows = await conn.fetch(
        """SELECT endpoint_id, secret, previous_secret FROM webhook_endpoints
           WHERE secret NOT LIKE 'sealed:%' OR previous_secret NOT LIKE 'sealed:%'
           LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [(r["endpoint_id"], r["secret"], r["previous_secret"]) for r in rows]


async def store_sealed(conn: asyncpg.Connection, endpoint_id: uuid.UUID, secret: str, previous: str | None) -> None:
    await conn.execute(
        "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3 WHERE endpoint_id = $1",
        endpoint_id,
        secret,
        previous,
    )
