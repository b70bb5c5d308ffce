"""The outbox relay delivers every committed event, in transaction order, even when transactions
commit out of id order or stay open for a while."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid

import pytest
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CollectorRegistry

from cohort.events.v1.labs_pb2 import LabCreated
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.kafka import make_producer
from cohort_runtime.outbox import EventTooLarge, OutboxMetrics, OutboxRelay, add_event, redrive_parked

from .helpers import eventually, migrated_pool, read_all

N_TRANSACTIONS = 50
HELD_OPEN = 10


async def test_relay_delivers_all_when_commits_are_out_of_order(database_url, kafka_bootstrap, schema, topics):
    (topic,) = await topics(1, partitions=1)
    pool = await migrated_pool(database_url, schema, max_size=N_TRANSACTIONS + 5)
    producer = make_producer(kafka_bootstrap, "outbox-test")
    await producer.start()
    relay = OutboxRelay(
        pool,
        producer,
        schema=schema,
        source="/tests",
        metrics=OutboxMetrics(CollectorRegistry()),
        poll_seconds=0.05,
    )
    relay_task = asyncio.create_task(relay.run())
    release = [asyncio.Event() for _ in range(HELD_OPEN)]
    inserted = [asyncio.Event() for _ in range(HELD_OPEN)]

    async def transaction(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await add_event(conn, topic=topic, key="k", message=LabCreated(lab_id=str(i), display_name=f"n{i}"))
            if i < HELD_OPEN:
                # Holds a smaller id (and txid) open while later transactions commit.
                inserted[i].set()
                await release[i].wait()
            else:
                await asyncio.sleep(random.random() * 0.05)

    try:
        held = [asyncio.create_task(transaction(i)) for i in range(HELD_OPEN)]
        await asyncio.gather(*(e.wait() for e in inserted))
        await asyncio.gather(*(transaction(i) for i in range(HELD_OPEN, N_TRANSACTIONS)))

        async def published() -> int:
            return await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")

        # The open transactions are older than every committed one: nothing may overtake them.
        await asyncio.sleep(0.5)
        assert await published() == 0
        for i in reversed(range(HELD_OPEN)):  # commit the held ones newest first
            release[i].set()
            await asyncio.sleep(0.02)
        await asyncio.gather(*held)

        records = await read_all(kafka_bootstrap, topic, N_TRANSACTIONS)
        ids = [EventAttributes.from_headers(r.headers).id for r in records]
        assert len(ids) == N_TRANSACTIONS == len(set(ids)), "every event once, none twice"
        rows = await pool.fetch("SELECT event_id::text AS id FROM outbox ORDER BY txid, id")
        assert ids == [r["id"] for r in rows], "published in transaction order"
        await eventually(lambda: _none_pending(pool), what="all rows marked published")
        headers = dict(records[0].headers)
        assert headers["ce_type"] == b"cohort.events.v1.LabCreated"
        assert headers["content-type"] == b"application/protobuf"
        assert LabCreated.FromString(records[0].value).display_name.startswith("n")
    finally:
        await relay.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await producer.stop()
        await pool.close()


async def _none_pending(pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_failed_batch_is_rolled_back_and_published_later(database_url, kafka_bootstrap, schema, topics):
    """A batch whose send fails stays unpublished, and goes out on a later round, once."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    broken = make_producer(kafka_bootstrap, "outbox-broken")
    await broken.start()
    await broken.stop()  # a closed producer: its sends never complete
    working = make_producer(kafka_bootstrap, "outbox-working")
    await working.start()
    metrics = OutboxMetrics(CollectorRegistry())
    try:
        async with pool.acquire() as conn, conn.transaction():
            for i in range(3):
                await add_event(conn, topic=topic, key=None, message=LabCreated(lab_id=str(i)))
        stuck = OutboxRelay(pool, broken, schema=schema, source="/tests", metrics=metrics, publish_timeout_seconds=1)
        with pytest.raises(TimeoutError):
            await stuck.publish_pending()
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 3
        relay = OutboxRelay(pool, working, schema=schema, source="/tests", metrics=metrics)
        assert await relay.publish_pending() == 3
        assert await relay.publish_pending() == 0
        records = await read_all(kafka_bootstrap, topic, 3)
        assert sorted(LabCreated.FromString(r.value).lab_id for r in records) == ["0", "1", "2"]
    finally:
        await working.stop()
        await pool.close()


async def test_purge_deletes_only_rows_published_before_the_retention(database_url, schema):
    pool = await migrated_pool(database_url, schema)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for label in ("old-published", "new-published", "old-unpublished"):
                await add_event(conn, topic="t", key=None, message=LabCreated(lab_id=label))
        await pool.execute(
            "UPDATE outbox SET created_at = now() - interval '9 days' WHERE payload = $1",
            LabCreated(lab_id="old-unpublished").SerializeToString(),
        )
        await pool.execute(
            "UPDATE outbox SET published_at = now() - interval '8 days' WHERE payload = $1",
            LabCreated(lab_id="old-published").SerializeToString(),
        )
        await pool.execute(
            "UPDATE outbox SET published_at = now() WHERE payload = $1",
            LabCreated(lab_id="new-published").SerializeToString(),
        )
        relay = OutboxRelay(pool, None, schema=schema, source="/tests", metrics=OutboxMetrics(CollectorRegistry()))
        assert await relay.purge_published() == 1
        left = sorted(
            LabCreated.FromString(r["payload"]).lab_id for r in await pool.fetch("SELECT payload FROM outbox")
        )
        assert left == ["new-published", "old-unpublished"]
        # In batches: 7 more old rows go 3 at a time (two full batches, then a short one).
        await pool.execute(
            """INSERT INTO outbox (event_id, event_type, topic, payload, published_at)
               SELECT gen_random_uuid(), 't', 't', '', now() - interval '8 days' FROM generate_series(1, 7)"""
        )
        assert await relay.purge_published(batch=3) == 7
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 2
    finally:
        await pool.close()


async def test_each_record_carries_the_trace_of_the_transaction_that_wrote_it(
    database_url, kafka_bootstrap, schema, topics
):
    """Sampled or not, the relay puts the writer's trace context on the record, which is how a
    consumer's logs and spans continue the request's trace."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "outbox-trace")
    await producer.start()
    trace_ids = [0x0AF7651916CD43DD8448EB211C80319C + i for i in range(2)]
    try:
        for i, trace_id in enumerate(trace_ids):
            writer = trace.SpanContext(trace_id, 0x00F067AA0BA902B7, is_remote=True, trace_flags=trace.TraceFlags(i))
            token = otel_context.attach(trace.set_span_in_context(trace.NonRecordingSpan(writer)))
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await add_event(conn, topic=topic, key=None, message=LabCreated(lab_id=str(i)))
            finally:
                otel_context.detach(token)
        relay = OutboxRelay(pool, producer, schema=schema, source="/tests", metrics=OutboxMetrics(CollectorRegistry()))
        assert await relay.publish_pending() == 2
        records = await read_all(kafka_bootstrap, topic, 2)
        seen = {}
        for r in records:
            extracted = propagate.extract({k: v.decode() for k, v in r.headers})
            carried = trace.get_current_span(extracted).get_span_context()
            seen[LabCreated.FromString(r.value).lab_id] = (carried.trace_id, carried.trace_flags.sampled)
        assert seen == {"0": (trace_ids[0], False), "1": (trace_ids[1], True)}
    finally:
        await producer.stop()
        await pool.close()


async def _insert_raw(pool, topic: str, key: str, payload: bytes) -> str:
    """An outbox row as an older release could have written it, past today's size backstop."""
    return str(
        await pool.fetchval(
            """INSERT INTO outbox (event_id, event_type, topic, key, payload)
               VALUES (gen_random_uuid(), 'cohort.events.v1.LabCreated', $1, $2, $3) RETURNING event_id""",
            topic,
            key.encode(),
            payload,
        )
    )


async def test_a_record_the_broker_can_never_take_is_parked_with_its_key_and_others_flow(
    database_url, kafka_bootstrap, schema, topics
):
    """One oversized record no longer stalls the relay: it is parked with the later records of its
    key (their order kept), every other key is delivered, and a re-drive sends the key's rest."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "outbox-park")
    await producer.start()
    registry = CollectorRegistry()
    relay = OutboxRelay(pool, producer, schema=schema, source="/tests", metrics=OutboxMetrics(registry))
    small = [LabCreated(lab_id=f"a{i}").SerializeToString() for i in range(3)]
    try:
        blocker = await _insert_raw(pool, topic, "a", b"x" * 1_200_000)
        for i, payload in enumerate(small):
            await _insert_raw(pool, topic, "a", payload)
            await _insert_raw(pool, topic, "b", LabCreated(lab_id=f"b{i}").SerializeToString())
        assert await relay.publish_pending() == 7
        # A later row of the parked key is held back too, on the next round.
        await _insert_raw(pool, topic, "a", LabCreated(lab_id="a3").SerializeToString())
        assert await relay.publish_pending() == 1

        delivered = await read_all(kafka_bootstrap, topic, 3)
        assert [LabCreated.FromString(r.value).lab_id for r in delivered] == ["b0", "b1", "b2"]
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        parked = await pool.fetch("SELECT event_id::text, reason, blocked_by::text FROM outbox_parked ORDER BY id")
        assert [p["blocked_by"] for p in parked] == [blocker] * 5
        assert parked[0]["event_id"] == blocker and "MessageSizeTooLarge" in parked[0]["reason"]
        assert all(p["reason"] == f"behind parked event {blocker}" for p in parked[1:])
        assert registry.get_sample_value("cohort_outbox_parked_total", {"topic": topic}) == 5

        async with pool.acquire() as conn:
            assert await redrive_parked(conn, uuid.UUID(blocker), drop_blocker=True) == 4
        assert await relay.publish_pending() == 4
        after = await read_all(kafka_bootstrap, topic, 7)
        assert [LabCreated.FromString(r.value).lab_id for r in after][3:] == ["a0", "a1", "a2", "a3"]
        assert await pool.fetchval("SELECT count(*) FROM outbox_parked") == 0
    finally:
        await producer.stop()
        await pool.close()


async def test_an_event_over_the_record_size_is_refused_with_its_change(database_url, schema):
    """The backstop under the request limits: the transaction that would write it fails with
    INVALID_ARGUMENT, so nothing accepted can later be refused by the broker."""
    pool = await migrated_pool(database_url, schema)
    try:
        with pytest.raises(EventTooLarge) as refused:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO effects (event_id, label) VALUES ('e', 'change')")
                await add_event(conn, topic="t", key="k", message=LabCreated(display_name="x" * 1_000_001))
        assert refused.value.violations[0].field == "request"
        assert await pool.fetchval("SELECT count(*) FROM effects") == 0
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await pool.close()
