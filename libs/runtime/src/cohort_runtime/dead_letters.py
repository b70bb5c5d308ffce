"""Records a consumer gives up on: why, and the headers that say so on the dead-letter topic."""

from __future__ import annotations

from aiokafka import ConsumerRecord


class PoisonRecord(Exception):
    """A record that cannot be handled: undecodable, malformed, or its handler kept failing."""

    def __init__(self, reason: str, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.reason = reason
        self.error = error
        self.attempts = attempts


def dlq_headers(record: ConsumerRecord[bytes, bytes], poison: PoisonRecord, consumer: str) -> list[tuple[str, bytes]]:
    """The record's own headers (earlier dead-letter ones dropped) and why it is dead-lettered."""
    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")]
    return [
        *headers,
        ("dlq_reason", poison.reason.encode()),
        ("dlq_error", str(poison.error)[:2000].encode()),
        ("dlq_error_type", type(poison.error).__name__.encode()),
        ("dlq_consumer", consumer.encode()),
        ("dlq_source_topic", record.topic.encode()),
        ("dlq_source_partition", str(record.partition).encode()),
        ("dlq_source_offset", str(record.offset).encode()),
        ("dlq_attempts", str(poison.attempts).encode()),
    ]
