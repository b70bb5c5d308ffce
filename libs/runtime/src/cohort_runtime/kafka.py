"""Kafka set-up shared by services: explicit topic creation and the idempotent producer."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cohort_runtime.limits import KAFKA_MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


class TopicSetupError(Exception):
    """The broker refused to create a declared topic."""


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


async def ensure_topics(
    bootstrap: str, topics: Iterable[str], *, partitions: int, replication: int, client_id: str
) -> None:
    """Create each declared topic unless it exists. The brokers run with auto-create off, so a
    producer or consumer never invents a topic with default settings."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{client_id}-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        # The record size is set on each topic, not left to the broker's default, so that it is the
        # same number the producer and the request limits are held to.
        configs = {"max.message.bytes": str(KAFKA_MAX_MESSAGE_BYTES)}
        response = await admin.create_topics(
            [NewTopic(t, partitions, replication, topic_configs=configs) for t in missing]
        )
        for topic, code, message in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise TopicSetupError(f"could not create topic {topic}: error {code} {message}")
        log.info("created topics %s", missing)
    finally:
        await admin.close()


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    # Idempotent with acks=all: a retried send is written once, in order, on every in-sync replica.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        # Equal to the topics' max.message.bytes: a record over it is refused by the client before
        # it is sent (and parked by the relay), never half-accepted by the broker.
        max_request_size=KAFKA_MAX_MESSAGE_BYTES,
    )
