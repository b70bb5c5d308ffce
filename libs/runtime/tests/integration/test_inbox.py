"""The inbox applies each event's effect once, dead-letters poison records and moves on, and
survives a consumer killed between the effect and the offset commit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.errors import CommitFailedError
from prometheus_client import CollectorRegistry

from cohort.events.v1.labs_pb2 import LabCreated
from cohort.events.v1.projects_pb2 import ProjectPaused
from cohort_runtime.inbox import EventRouter, InboxConsumer, InboxMetrics, after_commit
from cohort_runtime.kafka import make_producer
from cohort_runtime.outbox import add_events

from . import inbox_harness as harness
from .helpers import eventually, migrated_pool, read_all


async def _effects(pool) -> list[tuple[str, str]]:
    return [(r["event_id"], r["label"]) for r in await pool.fetch("SELECT event_id, label FROM effects ORDER BY id")]


async def _run_until(consumer, condition, what: str) -> None:
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(condition, what=what)
    finally:
        await consumer.stop()
        await task


async def _consume_until(pool, bootstrap: str, group: str, topic: str, router, producer, effects: int) -> None:
    """Run a consumer of `topic` with `router` until `effects` rows are in `effects`."""
    consumer = InboxConsumer(
        pool,
        bootstrap=bootstrap,
        consumer=group,
        topics=[topic],
        router=router,
        dlq_producer=producer,
        metrics=InboxMetrics(CollectorRegistry()),
    )

    async def all_applied() -> bool:
        return len(await _effects(pool)) == effects

    await _run_until(consumer, all_applied, f"{effects} effects")


async def test_redelivered_event_has_no_second_effect(database_url, kafka_bootstrap, schema, topics, unique):
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-test")
    await producer.start()
    metrics = InboxMetrics(CollectorRegistry())
    group = unique("g")

    def duplicates() -> float:
        return metrics.duplicates.labels(topic)._value.get()

    try:
        first = await harness.produce(producer, topic, "a")
        await harness.produce(producer, topic, "a-copy", event_id=first)  # re-sent within the same batch
        second = await harness.produce(producer, topic, "b")

        async def phase_one_done() -> bool:
            return len(await _effects(pool)) >= 2 and duplicates() >= 1

        await _run_until(
            harness.consumer(pool, kafka_bootstrap, group, topic, producer, metrics),
            phase_one_done,
            "two effects and one duplicate",
        )
        # Later, after a restart of the consumer, the same event arrives again (a relay that died
        # before marking its row re-sends it), followed by a new one.
        await harness.produce(producer, topic, "a-late-copy", event_id=first)
        third = await harness.produce(producer, topic, "c")

        async def phase_two_done() -> bool:
            return (third, "c") in await _effects(pool)

        await _run_until(
            harness.consumer(pool, kafka_bootstrap, group, topic, producer, metrics),
            phase_two_done,
            "the third effect",
        )
        assert await _effects(pool) == [(first, "a"), (second, "b"), (third, "c")]
        assert duplicates() == 2
    finally:
        await producer.stop()
        await pool.close()


async def test_poison_records_go_to_dlq_and_later_records_still_apply(
    database_url, kafka_bootstrap, schema, topics, unique
):
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-poison")
    await producer.start()
    metrics = InboxMetrics(CollectorRegistry())
    try:
        before = await harness.produce(producer, topic, "before")
        await producer.send_and_wait(topic, b"\xff\xff not protobuf", key=b"k", headers=harness.headers())
        await producer.send_and_wait(topic, b"no headers at all", key=b"k")
        boom = await harness.produce(producer, topic, "boom")
        after = await harness.produce(producer, topic, "after")

        async def after_applied() -> bool:
            return any(label == "after" for _, label in await _effects(pool))

        await _run_until(
            harness.consumer(pool, kafka_bootstrap, unique("g"), topic, producer, metrics),
            after_applied,
            "the record after the poison ones",
        )
        assert await _effects(pool) == [(before, "before"), (after, "after")], "the failing handler left nothing"
        dead = await read_all(kafka_bootstrap, f"{topic}.dlq", 3)
        reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
        assert reasons == ["handler_failed", "malformed", "undecodable"]
        failed = next(r for r in dead if dict(r.headers)["dlq_reason"] == b"handler_failed")
        h = dict(failed.headers)
        assert h["ce_id"].decode() == boom
        assert h["dlq_attempts"] == b"3"
        assert h["dlq_error_type"] == b"HandlerFailure"
        assert h["dlq_source_topic"].decode() == topic
        assert metrics.retries.labels(topic)._value.get() == 2
        assert await pool.fetchval("SELECT outcome FROM inbox WHERE event_id = $1", boom) == "dead_lettered"
    finally:
        await producer.stop()
        await pool.close()


async def test_consumer_killed_between_effect_and_commit_applies_once(
    database_url, kafka_bootstrap, schema, topics, unique
):
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-kill")
    await producer.start()
    group = unique("g")
    script = Path(harness.__file__)
    env = {**os.environ, "PYTHONPATH": str(script.parent)}

    def spawn(mode: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, str(script), database_url, schema, kafka_bootstrap, group, topic, mode],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    try:
        first = await harness.produce(producer, topic, "first")
        second = await harness.produce(producer, topic, "second")
        # This consumer applies the effects, then hangs where it would commit the offsets.
        victim = spawn("stuck")
        try:

            async def both_applied() -> bool:
                return len(await _effects(pool)) == 2

            await eventually(both_applied, what="the effects")
            await asyncio.sleep(0.3)
            assert victim.poll() is None, victim.stderr.read().decode() if victim.stderr else ""
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
        committed = await _committed(kafka_bootstrap, group, topic)
        assert committed in (None, -1, 0), "the kill came before any offset commit"
        third = await harness.produce(producer, topic, "third")
        survivor = spawn("normal")
        try:

            async def third_applied() -> bool:
                return (third, "third") in await _effects(pool)

            await eventually(third_applied, what="the record after the redelivered ones")
            await asyncio.sleep(0.5)
        finally:
            survivor.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                survivor.wait(timeout=10)
            if survivor.poll() is None:
                survivor.kill()
                survivor.wait()
        assert await _effects(pool) == [(first, "first"), (second, "second"), (third, "third")]
        assert await _committed(kafka_bootstrap, group, topic) == 3, "the survivor committed past all three"
    finally:
        await producer.stop()
        await pool.close()


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await c.start()
    try:
        return await c.committed(TopicPartition(topic, 0))
    finally:
        await c.stop()


async def test_batch_route_gets_consecutive_claimed_events_in_offset_order(
    database_url, kafka_bootstrap, schema, topics, unique
):
    """A batch handler sees runs of its type (redeliveries removed); a single-event handler in
    between splits the run, and every effect lands once, in offset order."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-batch")
    await producer.start()
    calls: list[list[str]] = []

    async def on_labs(conn, events) -> None:
        calls.append([e.message.display_name for e in events])
        await conn.executemany(
            "INSERT INTO effects (event_id, label) VALUES ($1, $2)", [(e.id, e.message.display_name) for e in events]
        )

    async def on_paused(conn, event) -> None:
        calls.append([f"paused:{event.message.reason}"])
        await conn.execute("INSERT INTO effects (event_id, label) VALUES ($1, $2)", event.id, event.message.reason)

    router = EventRouter()
    router.on_batch(LabCreated, on_labs)
    router.on(ProjectPaused, on_paused)
    try:
        a = await harness.produce(producer, topic, "a")
        await harness.produce(producer, topic, "b")
        await harness.produce(producer, topic, "a-copy", event_id=a)
        await harness.produce(producer, topic, "c")
        await producer.send_and_wait(
            topic,
            ProjectPaused(reason="p").SerializeToString(),
            key=b"k",
            headers=harness.headers(event_type="cohort.events.v1.ProjectPaused"),
        )
        await harness.produce(producer, topic, "d")
        await harness.produce(producer, topic, "e")
        await _consume_until(pool, kafka_bootstrap, unique("g"), topic, router, producer, effects=6)
        assert [label for _, label in await _effects(pool)] == ["a", "b", "c", "p", "d", "e"]
        assert [x for call in calls for x in call] == ["a", "b", "c", "paused:p", "d", "e"]
        assert "a-copy" not in {x for call in calls for x in call}
        assert max(len(call) for call in calls) > 1, f"no batch was handed over in one call: {calls}"
    finally:
        await producer.stop()
        await pool.close()


async def test_a_fetch_across_partitions_is_one_batch_with_each_key_in_order(
    database_url, kafka_bootstrap, schema, topics, unique
):
    """Records of several partitions fetched together reach a batch handler in one call; the
    events of one key (one partition) keep their order."""
    (topic,) = await topics(1, partitions=3)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-partitions")
    await producer.start()
    calls: list[list[tuple[int, str]]] = []

    async def on_labs(conn, events) -> None:
        calls.append([(e.partition, e.message.display_name) for e in events])
        await conn.executemany(
            "INSERT INTO effects (event_id, label) VALUES ($1, $2)", [(e.id, e.message.display_name) for e in events]
        )

    router = EventRouter()
    router.on_batch(LabCreated, on_labs)
    keys = [f"key{k}" for k in range(6)]
    try:
        for n in range(5):
            for key in keys:
                await producer.send_and_wait(
                    topic,
                    LabCreated(display_name=f"{key}:{n}").SerializeToString(),
                    key=key.encode(),
                    headers=harness.headers(),
                )
        await _consume_until(pool, kafka_bootstrap, unique("g"), topic, router, producer, effects=30)
        assert max(len({p for p, _ in call}) for call in calls) > 1, f"no call spanned partitions: {calls}"
        seen = [label for call in calls for _, label in call]
        for key in keys:
            assert [x for x in seen if x.startswith(f"{key}:")] == [f"{key}:{n}" for n in range(5)]
        assert sorted(seen) == sorted(f"{key}:{n}" for key in keys for n in range(5))
    finally:
        await producer.stop()
        await pool.close()


async def test_add_events_records_in_list_order_inside_the_transaction(database_url, schema):
    pool = await migrated_pool(database_url, schema)
    try:
        async with pool.acquire() as conn:
            with pytest.raises(RuntimeError):
                await add_events(conn, [("t", "k", LabCreated(display_name="x"))])
            async with conn.transaction():
                ids = await add_events(
                    conn, [("t1", "k1", LabCreated(display_name="one")), ("t2", None, ProjectPaused(reason="two"))]
                )
        rows = await pool.fetch("SELECT event_id, event_type, topic, key, payload FROM outbox ORDER BY id")
        assert [r["event_id"] for r in rows] == ids
        assert [(r["event_type"], r["topic"], r["key"]) for r in rows] == [
            ("cohort.events.v1.LabCreated", "t1", b"k1"),
            ("cohort.events.v1.ProjectPaused", "t2", None),
        ]
        assert LabCreated.FromString(rows[0]["payload"]).display_name == "one"
    finally:
        await pool.close()


class _CommitFailsOnce(InboxConsumer):
    """Its first offset commit fails as it does when the group rebalances mid-fetch."""

    failed = False

    async def _commit_offsets(self, offsets) -> None:  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise CommitFailedError("the group rebalanced")
        await super()._commit_offsets(offsets)


async def test_a_commit_lost_to_a_rebalance_rewinds_and_the_consumer_goes_on(
    database_url, kafka_bootstrap, schema, topics, unique
):
    """Before, CommitFailedError ended run(): the process stayed up with no consumer."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-rebalance")
    await producer.start()
    metrics = InboxMetrics(CollectorRegistry())
    try:
        first = await harness.produce(producer, topic, "a")
        consumer = _CommitFailsOnce(
            pool,
            bootstrap=kafka_bootstrap,
            consumer=unique("g"),
            topics=[topic],
            router=harness.router(),
            dlq_producer=producer,
            metrics=metrics,
        )
        later: list[str] = []

        async def both_applied() -> bool:
            if consumer.failed and not later:
                later.append(await harness.produce(producer, topic, "b"))
            return len(await _effects(pool)) == 2

        await _run_until(consumer, both_applied, "the record after the failed commit")
        assert consumer.failed
        assert await _effects(pool) == [(first, "a"), (later[0], "b")], "each once, in order"
        assert metrics.duplicates.labels(topic)._value.get() == 1, "the re-read record was skipped"
    finally:
        await producer.stop()
        await pool.close()


async def test_after_commit_effects_count_each_applied_event_once_though_the_batch_ran_twice(
    database_url, kafka_bootstrap, schema, topics, unique
):
    """A fetch whose batch transaction fails (here: a record that always fails) is settled again
    one by one: the handlers of the records before it ran twice, but what they registered with
    after_commit (a metric, say) happens once per applied event, never for the rolled-back runs."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-after-commit")
    await producer.start()
    counted: list[str] = []
    runs: list[str] = []

    async def on_lab(conn, event) -> None:
        label = event.message.display_name
        runs.append(label)
        await conn.execute("INSERT INTO effects (event_id, label) VALUES ($1, $2)", event.id, label)
        after_commit(lambda: counted.append(label))
        if label == "boom":
            raise harness.HandlerFailure("this record always fails")

    router = EventRouter()
    router.on(LabCreated, on_lab)
    try:
        for label in ("one", "two", "boom", "three"):
            await harness.produce(producer, topic, label)
        consumer = InboxConsumer(
            pool,
            bootstrap=kafka_bootstrap,
            consumer=unique("g"),
            topics=[topic],
            router=router,
            dlq_producer=producer,
            metrics=InboxMetrics(CollectorRegistry()),
            max_attempts=2,
            retry_base_seconds=0.01,
        )

        async def three_applied() -> bool:
            return len(await _effects(pool)) == 3

        await _run_until(consumer, three_applied, "the three good records")
        assert runs.count("one") == 2, f"the batch ran, then the records one by one: {runs}"
        assert sorted(counted) == ["one", "three", "two"]
        counted.clear()
        after_commit(lambda: counted.append("outside"))
        assert counted == ["outside"], "outside an inbox transaction the effect happens at once"
    finally:
        await producer.stop()
        await pool.close()


async def test_a_batch_continues_the_trace_of_its_first_record(database_url, kafka_bootstrap, schema, topics, unique):
    """What a batch handler writes to the outbox carries the trace of the fetch's first record on
    (the others are linked to the batch's span): a trace does not stop at Kafka under load."""
    (topic,) = await topics(1)
    pool = await migrated_pool(database_url, schema)
    producer = make_producer(kafka_bootstrap, "inbox-batch-trace")
    await producer.start()
    trace_ids = [0x4BF92F3577B34DA6A3CE929D0E0E4736 + i for i in range(3)]

    async def on_labs(conn, events) -> None:
        await conn.executemany(
            "INSERT INTO effects (event_id, label) VALUES ($1, $2)", [(e.id, e.message.display_name) for e in events]
        )
        await add_events(conn, [("out", None, LabCreated(display_name=f"after {len(events)}"))])

    router = EventRouter()
    router.on_batch(LabCreated, on_labs)
    try:
        for i, trace_id in enumerate(trace_ids):
            traceparent = f"00-{trace_id:032x}-00f067aa0ba902b7-01".encode()
            await producer.send_and_wait(
                topic,
                LabCreated(display_name=f"lab {i}").SerializeToString(),
                key=b"k",
                headers=[*harness.headers(), ("traceparent", traceparent)],
            )
        await _consume_until(pool, kafka_bootstrap, unique("g"), topic, router, producer, effects=3)
        rows = await pool.fetch("SELECT payload, trace_context FROM outbox ORDER BY id")
        batched = [r for r in rows if LabCreated.FromString(r["payload"]).display_name != "after 1"]
        assert batched, "the three records were handled in one batch"
        for row in batched:
            carried = json.loads(row["trace_context"])["traceparent"]
            assert carried.split("-")[1] == f"{trace_ids[0]:032x}", carried
    finally:
        await producer.stop()
        await pool.close()
