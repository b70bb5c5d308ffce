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
from aiokafka.errors import (
    InvalidMessageError,
    InvalidTimestampError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

from cohort_runtime.batched_delete import BATCH, delete_in_batches
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.outbox_metrics import OutboxMetrics
from cohort_runtime.outbox_writes import NOTIFY_RELAY, EventTooLarge, OutboxInsert, add_event, add_events
from cohort_runtime.transient import RETRY_MAX_SECONDS

__all__ = [
    "NOTIFY_RELAY",
    "EventTooLarge",
    "OutboxInsert",
    "OutboxMetrics",
    "OutboxRelay",
    "add_event",
    "add_events",
    "redrive_parked",
]

log = logging.getLogger(__name__)


def _channel(schema: str) -> str:
    return f"cohort_outbox_{schema}"


async def redrive_parked(conn: asyncpg.Connection, blocked_by: uuid.UUID, *, drop_blocker: bool) -> int:
    """Put the rows parked behind `blocked_by` back into the outbox, in their order, in one
    transaction; the relay sends them on its next round. `drop_blocker` discards the refused row
    itself (it can never be sent as it is); without it, it is tried again too (e.g. after the
    topic's max.message.bytes was raised). Returns how many rows went back."""
    async with conn.transaction():
        status = await conn.execute(
            """WITH moved AS (DELETE FROM outbox_parked WHERE blocked_by = $1 RETURNING *)
               INSERT INTO outbox (event_id, event_type, topic, key, payload, trace_context, created_at)
               SELECT event_id, event_type, topic, key, payload, trace_context, created_at
               FROM moved WHERE NOT ($2 AND event_id = $1) ORDER BY id""",
            blocked_by,
            drop_blocker,
        )
    return int(status.split()[-1])


_PURGE = """DELETE FROM outbox WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM outbox WHERE published_at < now() - make_interval(secs => $1) LIMIT $2))"""

# The broker or the client refuses these for the record itself: sending it again cannot succeed.
_REFUSED_FOR_GOOD = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    InvalidMessageError,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


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


@dataclass(frozen=True)
class _Parked:
    row: _Row
    reason: str
    blocked_by: uuid.UUID


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
        # Looked up per batch only while the parked table may hold rows (refreshed with the gauges).
        self._may_have_parked = True

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
                    # Logged with its traceback; a dependency that is away is shortened to one line
                    # by the log filter (cohort_runtime.logs).
                    log.warning("outbox relay batch failed; retrying in %.1fs", backoff, exc_info=True)
                    sent = 0
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX_SECONDS)
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
                blocked = await self._parked_keys(conn, rows) if self._may_have_parked else {}
                sent, parked = await self._send_all(rows, blocked, instrumented)
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r.id for r in sent]
            )
            if parked:
                await self._park(conn, parked)
        for row in sent:
            self._metrics.published.labels(row.topic).inc()
        return len(rows)

    async def _send_all(
        self, rows: list[_Row], blocked: dict[tuple[str, bytes], uuid.UUID], instrumented: bool
    ) -> tuple[list[_Row], list[_Parked]]:
        """Send `rows` in order; returns (sent, to park). A row the broker refuses for good is parked
        with every later row of its key, so its key's order holds and other keys flow on. A
        transient failure raises, and the whole batch is tried again."""
        parked: list[_Parked] = []
        in_flight: list[tuple[_Row, asyncio.Future[object]]] = []

        def park(row: _Row, reason: str, blocker: uuid.UUID) -> None:
            parked.append(_Parked(row, reason, blocker))
            if row.key is not None:
                blocked.setdefault((row.topic, row.key), blocker)

        for row in rows:
            blocker = blocked.get((row.topic, row.key)) if row.key is not None else None
            if blocker is not None:
                park(row, f"behind parked event {blocker}", blocker)
                continue
            try:
                in_flight.append((row, await self._send(row, instrumented)))
            except _REFUSED_FOR_GOOD as exc:  # checked by the client before sending (e.g. size)
                park(row, _describe(exc), row.event_id)
        results = await asyncio.gather(*(future for _row, future in in_flight), return_exceptions=True)
        sent: list[_Row] = []
        for (row, _future), result in zip(in_flight, results, strict=True):
            if isinstance(result, _REFUSED_FOR_GOOD):
                # Refused by the broker: later rows of the key may already be on their way in this
                # batch (they are sent, not parked); the key's rows from the next batch on are parked.
                park(row, _describe(result), row.event_id)
            elif isinstance(result, BaseException):
                raise result
            else:
                sent.append(row)
        return sent, parked

    async def _parked_keys(self, conn: asyncpg.Connection, rows: list[_Row]) -> dict[tuple[str, bytes], uuid.UUID]:
        keyed = [r for r in rows if r.key is not None]
        if not keyed:
            return {}
        found = await conn.fetch(
            """SELECT DISTINCT ON (p.topic, p.key) p.topic, p.key, p.blocked_by
               FROM outbox_parked p
               JOIN unnest($1::text[], $2::bytea[]) AS b(topic, key) ON p.topic = b.topic AND p.key = b.key
               ORDER BY p.topic, p.key, p.id""",
            [r.topic for r in keyed],
            [r.key for r in keyed],
        )
        return {(f["topic"], f["key"]): f["blocked_by"] for f in found}

    async def _park(self, conn: asyncpg.Connection, parked: list[_Parked]) -> None:
        await conn.execute(
            """WITH moved AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING *)
               INSERT INTO outbox_parked (id, txid, event_id, event_type, topic, key, payload, trace_context,
                                          created_at, reason, blocked_by)
               SELECT m.id, m.txid, m.event_id, m.event_type, m.topic, m.key, m.payload, m.trace_context,
                      m.created_at, r.reason, r.blocked_by
               FROM moved m JOIN unnest($1::bigint[], $2::text[], $3::uuid[]) AS r(id, reason, blocked_by)
                    ON r.id = m.id""",
            [p.row.id for p in parked],
            [p.reason for p in parked],
            [p.blocked_by for p in parked],
        )
        self._may_have_parked = True
        for p in parked:
            self._metrics.parked.labels(p.row.topic).inc()
            log.error(
                "outbox event %s (%s, %d bytes) parked: %s",
                p.row.event_id,
                p.row.topic,
                len(p.row.payload),
                p.reason,
            )

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

    async def purge_published(self, batch: int = BATCH) -> int:
        """Delete rows published longer ago than the retention, `batch` at a time (found by the
        BRIN index on published_at); unpublished rows are never deleted.

        Published rows are kept for a while for audit and for replaying by hand."""
        return await delete_in_batches(self._pool, _PURGE, self._retention, batch)

    async def _observe_backlog(self) -> None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                """SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age,
                          (SELECT count(*) FROM outbox_parked) AS parked
                   FROM outbox WHERE published_at IS NULL"""
            )
        if row is not None:
            self._metrics.backlog.set(row["n"])
            self._metrics.oldest_age.set(float(row["age"]))
            self._metrics.parked_rows.set(row["parked"])
            self._may_have_parked = row["parked"] > 0

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
