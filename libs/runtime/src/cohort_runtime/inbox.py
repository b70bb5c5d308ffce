"""Idempotent inbox consumer: each event's effect happens once, however often Kafka delivers it.

For every record: decode the CloudEvents headers and the protobuf value, then, in one Postgres
transaction, claim (consumer, ce_id) in the inbox table and run the handler. A redelivered event
finds its claim and is skipped. Offsets are committed by hand only after the records before them
are settled, so a consumer that dies between effect and commit re-reads the record and skips it.

A record that cannot be decoded goes straight to `<topic>.dlq`; a handler that keeps failing is
retried a bounded number of times and then dead-lettered, with the error in headers, so one poison
record never stalls its partition. A database outage is not the record's fault: it is retried
without limit and never dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, RebalanceInProgressError
from google.protobuf.message import DecodeError
from opentelemetry import trace

from cohort_runtime.cloudevents import EventAttributes, MalformedEvent
from cohort_runtime.dead_letters import PoisonRecord, dlq_headers
from cohort_runtime.event_routing import Event, EventRouter, Route, after_commit, committed_effects
from cohort_runtime.inbox_metrics import InboxMetrics
from cohort_runtime.kafka import PLAINTEXT, KafkaSecurity, dlq_topic
from cohort_runtime.record_tracing import batch_span, producer_context
from cohort_runtime.transient import RETRY_MAX_SECONDS, TRANSIENT_DB_ERRORS, TRANSIENT_ERRORS

__all__ = ["Event", "EventRouter", "InboxConsumer", "InboxMetrics", "after_commit"]

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

_RETRY_FIRST_SECONDS = 0.5
_RETRY_MAX_SECONDS = RETRY_MAX_SECONDS


class InboxConsumer:
    """Consumes `topics` in consumer group `consumer`, applying routed handlers exactly once."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        bootstrap: str,
        consumer: str,
        topics: list[str],
        router: EventRouter,
        dlq_producer: AIOKafkaProducer,
        metrics: InboxMetrics,
        max_attempts: int = 5,
        retry_base_seconds: float = 0.1,
        max_records: int = 200,
        fetch_min_bytes: int = 1,
        fetch_max_wait_ms: int = 500,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._pool = pool
        self._name = consumer
        self._topics = topics
        self._router = router
        self._dlq = dlq_producer
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._max_records = max_records
        self._stopping = asyncio.Event()
        self._kafka_options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": consumer,
            "client_id": consumer,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
            "fetch_min_bytes": fetch_min_bytes,
            "fetch_max_wait_ms": fetch_max_wait_ms,
            **security.options(),
        }
        self._kafka: AIOKafkaConsumer | None = self._new_kafka()

    def _new_kafka(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(*self._topics, **self._kafka_options)

    async def start(self) -> None:
        """Join the group before `run()` (start-up then fails fast on a wrong address)."""
        await self._consumer().start()

    async def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit it and leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `stop()`. Rebalances and broker or database outages are waited out here;
        anything else ends the call, and the service's supervisor calls it again."""
        if self._kafka is None:
            self._kafka = self._new_kafka()
            await self._kafka.start()
        backoff = _RETRY_FIRST_SECONDS
        try:
            while not self._stopping.is_set():
                try:
                    await self._poll_once()
                    backoff = _RETRY_FIRST_SECONDS
                except (CommitFailedError, IllegalStateError, RebalanceInProgressError) as exc:
                    # The group moved partitions while we settled a fetch: what we settled stays
                    # settled (the inbox holds its claims); the new owner re-reads it and skips it.
                    log.info("%s: offsets not committed during a rebalance (%s); rewinding", self._name, exc)
                    await self._rewind()
                except TRANSIENT_ERRORS as exc:
                    log.warning("%s: %s: %s; retrying in %.1fs", self._name, type(exc).__name__, exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _RETRY_MAX_SECONDS)
                    await self._rewind()
        finally:
            kafka, self._kafka = self._kafka, None
            await kafka.stop()

    async def _poll_once(self) -> None:
        batches = await self._consumer().getmany(timeout_ms=300, max_records=self._max_records)
        if batches:
            # One transaction for the whole fetch, each partition's records in offset order
            # (a topic's partitions divide a fetch into small pieces otherwise); then one
            # offset commit (a crash before it re-reads them: the inbox skips them).
            await self._settle_batch([record for records in batches.values() for record in records])
            settled = {tp: records[-1].offset + 1 for tp, records in batches.items()}
            await self._commit_offsets(settled)
            for tp, offset in settled.items():
                self._observe_lag(tp, offset)

    async def _rewind(self) -> None:
        """Back to the committed offsets of the partitions we still hold: a fetch that was not
        settled and committed is read again (its settled records are skipped by the inbox)."""
        kafka = self._consumer()
        with contextlib.suppress(*TRANSIENT_ERRORS, IllegalStateError):
            for tp in list(kafka.assignment()):
                committed = await kafka.committed(tp)
                # Not aiokafka's seek_to_committed: it leaves the position alone when nothing (or
                # offset 0) was committed, which would skip the unsettled fetch.
                if committed is None:
                    await kafka.seek_to_beginning(tp)  # as auto_offset_reset="earliest" would
                else:
                    kafka.seek(tp, committed)

    def _consumer(self) -> AIOKafkaConsumer:
        if self._kafka is None:
            raise RuntimeError(f"{self._name} is not running")
        return self._kafka

    async def _settle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            await self._process(record)
        except PoisonRecord as poison:
            await self._dead_letter(record, poison)

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        await self._consumer().commit(offsets)

    async def _settle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """All of a fetch's records in one transaction, the fast path; any
        trouble (a poison record, a failing handler, an outage) and the batch is rolled back and
        settled record by record, with retries and the DLQ. Claims roll back with the effects,
        so nothing is applied twice either way."""
        if len(records) > 1:
            try:
                decoded = [(record, self._decode(record)) for record in records]
            except PoisonRecord:
                decoded = []
            if decoded:
                try:
                    with batch_span(records):
                        async with committed_effects(), self._pool.acquire() as conn, conn.transaction():
                            applied, duplicates = await self._claim_and_handle_many(
                                conn, [found for _record, found in decoded if found is not None]
                            )
                except Exception:  # noqa: BLE001 - any failure: settle one by one, which reports it
                    log.debug("batch of %d from %s failed; settling one by one", len(records), records[0].topic)
                else:
                    for record, found in decoded:
                        if found is None:
                            self._metrics.ignored.labels(record.topic).inc()
                    # Counted only once committed: a rolled-back batch is settled, and counted, again.
                    for event in applied:
                        self._metrics.processed.labels(event.topic, event.type).inc()
                    for event in duplicates:
                        self._metrics.duplicates.labels(event.topic).inc()
                    return
        for record in records:
            await self._settle(record)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> tuple[Event[Any], Route] | None:
        """The event and its handler; None for a type this consumer does not handle."""
        headers = list(record.headers or ())
        try:
            attrs = EventAttributes.from_headers(headers)
        except MalformedEvent as exc:
            raise PoisonRecord("malformed", exc, 1) from exc
        route = self._router.route(attrs.type)
        if route is None:
            return None
        try:
            message = route.message_type.FromString(record.value or b"")
        except DecodeError as exc:
            raise PoisonRecord("undecodable", exc, 1) from exc
        event = Event(
            id=attrs.id,
            type=attrs.type,
            source=attrs.source,
            time=attrs.time,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            message=message,
        )
        return event, route

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        found = self._decode(record)
        if found is None:
            self._metrics.ignored.labels(record.topic).inc()
            return
        event, route = found
        parent = producer_context(record)
        attempt = 0
        while True:
            attempt += 1
            try:
                with _tracer.start_as_current_span(
                    f"{record.topic} process", context=parent, kind=trace.SpanKind.CONSUMER
                ):
                    await self._apply_once(event, route)
                return
            except TRANSIENT_DB_ERRORS as exc:  # the database is away, not the record bad
                log.warning("database unavailable while handling %s; retrying: %s", event.id, exc)
                await asyncio.sleep(1.0)
                attempt -= 1  # an outage says nothing about the record
            except asyncpg.TransactionRollbackError as exc:
                # A deadlock victim or a serialization failure: another transaction won a race
                # (e.g. two replicas settling one expert's earnings). Nothing was applied; trying
                # again is the designed path, and says nothing about the record either.
                self._metrics.retries.labels(record.topic).inc()
                log.info("handling %s rolled back (%s); retrying", event.id, exc.sqlstate)
                await asyncio.sleep(random.uniform(0.01, 0.2))  # noqa: S311 - jitter, not a secret
                attempt -= 1
            except Exception as exc:
                if attempt >= self._max_attempts:
                    raise PoisonRecord("handler_failed", exc, attempt) from exc
                self._metrics.retries.labels(record.topic).inc()
                log.warning(
                    "handler for %s failed (attempt %d/%d)",
                    event.id,
                    attempt,
                    self._max_attempts,
                    exc_info=True,
                )
                await asyncio.sleep(min(self._retry_base * 2 ** (attempt - 1), 5.0))

    async def _apply_once(self, event: Event[Any], route: Route) -> None:
        async with committed_effects(), self._pool.acquire() as conn, conn.transaction():
            applied = await self._claim_and_handle(conn, event, route)
        if applied:
            self._metrics.processed.labels(event.topic, event.type).inc()
        else:
            self._metrics.duplicates.labels(event.topic).inc()

    async def _claim_and_handle(self, conn: asyncpg.Connection, event: Event[Any], route: Route) -> bool:
        """Claim the event id in the inbox and run the handler, in the caller's transaction;
        False for a redelivery, which has no effect."""
        applied, _duplicates = await self._claim_and_handle_many(conn, [(event, route)])
        return bool(applied)

    async def _claim_and_handle_many(
        self, conn: asyncpg.Connection, found: list[tuple[Event[Any], Route]]
    ) -> tuple[list[Event[Any]], list[Event[Any]]]:
        """Claim a batch's event ids in one statement, then run the handlers in offset order,
        consecutive events of a batch route in one call. Returns (applied, duplicates)."""
        if not found:
            return [], []
        rows = await conn.fetch(
            """INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome)
               SELECT $1, e.id, e.type, e.topic, e.partition, e.off, 'processed'
               FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
                    AS e(id, type, topic, partition, off)
               ON CONFLICT (consumer, event_id) DO NOTHING
               RETURNING event_id""",
            self._name,
            [e.id for e, _ in found],
            [e.type for e, _ in found],
            [e.topic for e, _ in found],
            [e.partition for e, _ in found],
            [e.offset for e, _ in found],
        )
        claimed = {row["event_id"] for row in rows}
        applied: list[Event[Any]] = []
        duplicates: list[Event[Any]] = []
        run: list[Event[Any]] = []
        run_route: Route | None = None
        for event, route in found:
            if event.id not in claimed:
                duplicates.append(event)  # a redelivery, or the same id twice in this fetch
                continue
            claimed.discard(event.id)
            if run_route is not route and run:
                await cast(Route, run_route).apply(conn, run)
                run = []
            run_route = route
            run.append(event)
            applied.append(event)
        if run:
            await cast(Route, run_route).apply(conn, run)
        return applied, duplicates

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], poison: PoisonRecord) -> None:
        headers = dlq_headers(record, poison, self._name)
        await self._dlq.send_and_wait(dlq_topic(record.topic), record.value, key=record.key, headers=headers)
        self._metrics.dead_lettered.labels(record.topic, poison.reason).inc()
        log.error(
            "dead-lettered %s[%d]@%d: %s (%s)",
            record.topic,
            record.partition,
            record.offset,
            poison.reason,
            poison.error,
        )
        event_id = dict(headers).get("ce_id")
        if event_id:
            # Recorded so a redelivery of the same poison record is not dead-lettered twice.
            async with self._pool.acquire() as conn:
                await conn.execute(
                    """INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome)
                       VALUES ($1, $2, $3, $4, $5, $6, 'dead_lettered')
                       ON CONFLICT (consumer, event_id) DO NOTHING""",
                    self._name,
                    event_id.decode(errors="replace"),
                    dict(headers).get("ce_type", b"").decode(errors="replace"),
                    record.topic,
                    record.partition,
                    record.offset,
                )

    def _observe_lag(self, tp: TopicPartition, committed: int) -> None:
        highwater = self._consumer().highwater(tp)
        if highwater is not None:
            self._metrics.lag.labels(tp.topic, str(tp.partition)).set(max(highwater - committed, 0))

    @property
    def name(self) -> str:
        return self._name
