"""A consumer under test: records LabCreated events as rows in `effects`, failing on request.

Used in-process by the inbox tests and as a separate OS process (`python inbox_harness.py ...`)
by the test that kills a consumer with SIGKILL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry

from cohort.events.v1.labs_pb2 import LabCreated
from cohort_runtime.cloudevents import EventAttributes
from cohort_runtime.db import create_pool
from cohort_runtime.inbox import Event, EventRouter, InboxConsumer, InboxMetrics
from cohort_runtime.kafka import make_producer


class HandlerFailure(Exception):
    pass


def router() -> EventRouter:
    async def on_lab_created(conn: asyncpg.Connection, event: Event[LabCreated]) -> None:
        label = event.message.display_name
        await conn.execute("INSERT INTO effects (event_id, label) VALUES ($1, $2)", event.id, label)
        if label == "boom":
            raise HandlerFailure("this record always fails")

    r = EventRouter()
    r.on(LabCreated, on_lab_created)
    return r


def headers(event_id: str | None = None, event_type: str = "cohort.events.v1.LabCreated") -> list[tuple[str, bytes]]:
    return EventAttributes(
        id=event_id or str(uuid.uuid4()), type=event_type, source="/tests", time=dt.datetime.now(dt.UTC)
    ).to_headers()


async def produce(producer: AIOKafkaProducer, topic: str, label: str, event_id: str | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    await producer.send_and_wait(
        topic, LabCreated(display_name=label).SerializeToString(), key=b"k", headers=headers(event_id)
    )
    return event_id


class StuckBeforeOffsetCommit(InboxConsumer):
    """Applies effects, then hangs instead of committing offsets: the window a crash can hit."""

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.Event().wait()


def consumer(
    pool: asyncpg.Pool,
    bootstrap: str,
    group: str,
    topic: str,
    dlq: AIOKafkaProducer,
    metrics: InboxMetrics,
    stuck: bool = False,
) -> InboxConsumer:
    kind = StuckBeforeOffsetCommit if stuck else InboxConsumer
    return kind(
        pool,
        bootstrap=bootstrap,
        consumer=group,
        topics=[topic],
        router=router(),
        dlq_producer=dlq,
        metrics=metrics,
        max_attempts=3,
        retry_base_seconds=0.01,
    )


async def _main(dsn: str, schema: str, bootstrap: str, group: str, topic: str, stuck: str) -> None:
    pool = await create_pool(dsn, schema, application_name="inbox-harness")
    dlq = make_producer(bootstrap, "harness-dlq")
    await dlq.start()
    c = consumer(pool, bootstrap, group, topic, dlq, InboxMetrics(CollectorRegistry()), stuck=stuck == "stuck")
    await c.start()
    await c.run()


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:7]))
