"""Transactional outbox: events are rows written in the caller's transaction, published by a relay.

Ordering and completeness: identity ids are handed out before commit, so a row with a smaller id
can commit after one with a larger id; a relay that remembered "the last id sent" would skip it.
This relay keeps no high-water mark. It reads unpublished rows only from transactions older than
the oldest transaction still running (`txid < pg_snapshot_xmin(pg_current_snapshot())`), in
(txid, id) order, and marks each row published after the broker acknowledged it. A row therefore
becomes visible to the relay exactly once its transaction and every older one have finished, and
stays eligible until it is sent. Within one aggregate, txid order is the order of changes when each
transaction locks the aggregate row before its first write (which assigns the txid).

Delivery is at least once: a relay that dies after the broker acked and before it marked the rows
re-sends them, and consumers drop the copy through their inbox (same ce_id).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from google.protobuf.message import Message
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from prometheus_client import CollectorRegistry, Counter, Gauge

from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.telemetry import inject_context

log = logging.getLogger(__name__)


def _channel(schema: str) -> str:
    return f"cohort_outbox_{schema}"


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
        self.args = [
            self.event_ids,
            [m.DESCRIPTOR.full_name for _t, _k, m in events],
            [topic for topic, _k, _m in events],
            [key.encode() if key is not None else None for _t, key, _m in events],
            [m.SerializeToString() for _t, _k, m in events],
            json.dumps(inject_context()),
        ]


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "cohort_outbox_published_total", "Outbox events published to Kafka.", ["topic"], registry=registry
        )
        self.failures = Counter(
            "cohort_outbox_publish_failures_total", "Relay batches that failed to publish.", registry=registry
        )
        self.backlog = Gauge("cohort_outbox_backlog", "Outbox rows not yet published.", registry=registry)
        self.oldest_age = Gauge(
            "cohort_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when empty).",
            registry=registry,
        )


@dataclass(frozen=True)
class _Row:
    id: int
    event_id: uuid.UUID
    event_type: str
    topic: str
    key: bytes | None
    payload: bytes
    trace_context: dict[str, str]
    created_at: dt.datetime


_SELECT_READY = """
    SELECT id, event_id, event_type, topic, key, payload, trace_context, created_at
    FROM outbox
    WHERE published_at IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY txid, id
    LIMIT $1
"""


class OutboxRelay:
    """Publishes committed outbox rows of one schema, in order; one active relay per schema."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        schema: str,
        source: str,
        metrics: OutboxMetrics,
        poll_seconds: float = 0.5,
        batch_size: int = 500,
        publish_timeout_seconds: float = 30.0,
        retention_seconds: float = 7 * 24 * 3600,
        topic_prefix: str = "",
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._source = source
        self._metrics = metrics
        self._poll = poll_seconds
        self._batch = batch_size
        self._publish_timeout = publish_timeout_seconds
        self._retention = retention_seconds
        # Rows name logical topics; the environment's prefix is applied only when sending.
        self._topic_prefix = topic_prefix
        self._next_purge = 0.0
        self._next_gauge = 0.0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lock_key = f"cohort.outbox.{schema}"

    async def run(self) -> None:
        """Publish until `stop()`; LISTEN only shortens the wait between polls."""
        listener = await self._pool.acquire()
        try:
            await listener.add_listener(_channel(self._schema), self._on_notify)
            backoff = self._poll
            while not self._stopping.is_set():
                try:
                    sent = await self.publish_pending()
                    # The gauges are scraped every few seconds: count the backlog at most once a second,
                    # not after every batch of a busy relay.
                    if time.monotonic() >= self._next_gauge:
                        await self._observe_backlog()
                        self._next_gauge = time.monotonic() + 1.0
                    if time.monotonic() >= self._next_purge:
                        await self.purge_published()
                        self._next_purge = time.monotonic() + 60
                    backoff = self._poll
                except (KafkaError, asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                    self._metrics.failures.inc()
                    log.warning("outbox relay batch failed; retrying in %.1fs", backoff, exc_info=True)
                    sent = 0
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if sent < self._batch:
                    await self._sleep(self._poll)
        finally:
            with contextlib.suppress(asyncpg.InterfaceError, OSError):
                await listener.remove_listener(_channel(self._schema), self._on_notify)
            await self._pool.release(listener)

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch of ready rows; returns how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            # A second replica's relay skips this round instead of interleaving sends.
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", self._lock_key):
                return 0
            records = await conn.fetch(_SELECT_READY, self._batch)
            if not records:
                return 0
            rows = [
                _Row(
                    id=r["id"],
                    event_id=r["event_id"],
                    event_type=r["event_type"],
                    topic=r["topic"],
                    key=r["key"],
                    payload=r["payload"],
                    trace_context=json.loads(r["trace_context"]),
                    created_at=r["created_at"],
                )
                for r in records
            ]
            # Every send must be acknowledged before any row is marked: a failure rolls all back.
            # The bound matters: a wedged or closed producer waits forever rather than failing.
            instrumented = AIOKafkaInstrumentor().is_instrumented_by_opentelemetry
            async with asyncio.timeout(self._publish_timeout):
                futures = [await self._send(row, instrumented) for row in rows]
                await asyncio.gather(*futures)
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r.id for r in rows]
            )
        for row in rows:
            self._metrics.published.labels(row.topic).inc()
        return len(rows)

    async def _send(self, row: _Row, instrumented: bool) -> asyncio.Future[object]:
        headers = EventAttributes(
            id=str(row.event_id), type=row.event_type, source=self._source, time=row.created_at
        ).to_headers()
        # The send continues the trace of the transaction that wrote the row. With the aiokafka
        # instrumentation active (only while spans are recorded) it makes a send span under the
        # attached context and injects traceparent itself; without it the stored context goes out
        # as it is.
        token = otel_context.attach(propagate.extract(row.trace_context)) if instrumented else None
        if not instrumented:
            headers += [(k, v.encode()) for k, v in row.trace_context.items()]
        try:
            future: asyncio.Future[object] = await self._producer.send(
                self._topic_prefix + row.topic, row.payload, key=row.key, headers=headers
            )
            return future
        finally:
            if token is not None:
                otel_context.detach(token)

    async def purge_published(self) -> int:
        """Delete rows published longer ago than the retention; unpublished rows are never deleted.

        Published rows are kept for a while for audit and for replaying by hand."""
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)", self._retention
            )
        return int(status.split()[-1])

    async def _observe_backlog(self) -> None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                """SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age
                   FROM outbox WHERE published_at IS NULL"""
            )
        if row is not None:
            self._metrics.backlog.set(row["n"])
            self._metrics.oldest_age.set(float(row["age"]))

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
