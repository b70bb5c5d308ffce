"""Kafka set-up shared by services: how to reach the brokers (TLS, SASL), explicit topic creation
and the idempotent producer."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from cohort_runtime.limits import KAFKA_MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaSecurity:
    """How every client of a service talks to the brokers: TLS trusting `ca_file` (the system's
    CAs when unset), presenting `cert_file`/`key_file` when the brokers want a client certificate,
    and SASL with a user name and password. PLAINTEXT only inside a trusted network."""

    protocol: SecurityProtocol = "PLAINTEXT"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None

    def __post_init__(self) -> None:
        sasl = (self.sasl_mechanism, self.sasl_username, self.sasl_password)
        if self.protocol.startswith("SASL_") and not all(sasl):
            raise ValueError(f"Kafka security {self.protocol} needs a SASL mechanism, user name and password")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a Kafka client certificate needs both its certificate and its key file")
        if self.cert_file is not None and not self.protocol.endswith("SSL"):
            raise ValueError(f"a Kafka client certificate needs TLS, not {self.protocol}")

    def options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol.endswith("SSL"):
            options["ssl_context"] = create_ssl_context(
                cafile=str(self.ca_file) if self.ca_file else None,
                certfile=str(self.cert_file) if self.cert_file else None,
                keyfile=str(self.key_file) if self.key_file else None,
            )
        if self.protocol.startswith("SASL_"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options


PLAINTEXT = KafkaSecurity()


class TopicSetupError(Exception):
    """The broker refused to create a declared topic."""


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication: int,
    client_id: str,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Create each declared topic unless it exists. The brokers run with auto-create off, so a
    producer or consumer never invents a topic with default settings."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{client_id}-admin", **security.options())
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


def make_producer(bootstrap: str, client_id: str, security: KafkaSecurity = PLAINTEXT) -> AIOKafkaProducer:
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
        **security.options(),
    )
