"""The writing side of the outbox: events recorded in the transaction of the change that makes
them, for the relay (`cohort_runtime.outbox`) to publish once it has committed."""

from __future__ import annotations

import json
import uuid

import asyncpg
from google.protobuf.message import Message

from cohort_runtime.errors import FieldViolation, InvalidArgument
from cohort_runtime.limits import EVENT_MAX_BYTES
from cohort_runtime.telemetry import inject_context


class EventTooLarge(InvalidArgument):
    """The event a change would publish is over the broker's record size: the change is refused."""

    def __init__(self, event_type: str, size: int) -> None:
        super().__init__(
            [
                FieldViolation(
                    "request",
                    f"is too large: it would make a {size:,}-byte {event_type} event "
                    f"(at most {EVENT_MAX_BYTES:,}); send less text or fewer items per call",
                )
            ]
        )


async def add_event(conn: asyncpg.Connection, *, topic: str, key: str | None, message: Message) -> uuid.UUID:
    """Record `message` for publication; call inside the transaction that makes the change."""
    (event_id,) = await add_events(conn, [(topic, key, message)])
    return event_id


async def add_events(conn: asyncpg.Connection, events: list[tuple[str, str | None, Message]]) -> list[uuid.UUID]:
    """Record many (topic, key, message) for publication in one statement, in list order; for
    set-based handlers. Inside the state change's transaction, or it refuses."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox events must be added inside the state change's transaction")
    if not events:
        return []
    insert = OutboxInsert(events, first_param=1)
    # A backstop under the request limits: an event the broker could never take is refused here,
    # and the state change with it, rather than accepted and left to stall its key in the relay.
    # The NOTIFY is delivered at commit, and only then: a hint that wakes the relay early (polling
    # stays the rule). It rides in the INSERT's statement to spare a round trip.
    await conn.execute(f"WITH added AS ({insert.sql}) SELECT {NOTIFY_RELAY}", *insert.args)
    return insert.event_ids


# Wakes the schema's relay at commit; for the final SELECT of a statement that embeds OutboxInsert.
NOTIFY_RELAY = "pg_notify('cohort_outbox_' || current_schema(), '')"


class OutboxInsert:
    """The outbox INSERT for `events` as SQL to embed in a caller's own statement (as a CTE), with
    its parameters numbered from `first_param`: a state change and its events then commit in one
    statement, one round trip, without an explicit transaction. `when` is an SQL condition that
    must hold for the rows to be written (e.g. that the CTE making the change returned a row)."""

    def __init__(self, events: list[tuple[str, str | None, Message]], *, first_param: int, when: str = "true") -> None:
        self.event_ids = [uuid.uuid4() for _ in events]
        n = first_param
        # Composed of parameter numbers and the caller's constant condition; values are parameters.
        self.sql = f"""INSERT INTO outbox (event_id, event_type, topic, key, payload, trace_context)
               SELECT e.id, e.type, e.topic, e.key, e.payload, ${n + 5}::jsonb
               FROM unnest(${n}::uuid[], ${n + 1}::text[], ${n + 2}::text[], ${n + 3}::bytea[], ${n + 4}::bytea[])
                    WITH ORDINALITY AS e(id, type, topic, key, payload, n)
               WHERE {when}
               ORDER BY e.n"""  # noqa: S608
        payloads = [m.SerializeToString() for _t, _k, m in events]
        for (_topic, _key, message), payload in zip(events, payloads, strict=True):
            if len(payload) > EVENT_MAX_BYTES:
                raise EventTooLarge(message.DESCRIPTOR.full_name, len(payload))
        self.args = [
            self.event_ids,
            [m.DESCRIPTOR.full_name for _t, _k, m in events],
            [topic for topic, _k, _m in events],
            [key.encode() if key is not None else None for _t, key, _m in events],
            payloads,
            json.dumps(inject_context()),
        ]
