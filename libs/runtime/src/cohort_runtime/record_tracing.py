"""Trace context carried on Kafka records: read back from a record's headers, and the consumer
span a fetch settled together runs under."""

from __future__ import annotations

import contextlib
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

_tracer = trace.get_tracer("cohort_runtime.inbox")


def producer_context(record: ConsumerRecord[bytes, bytes]) -> otel_context.Context:
    """The producer's trace context from a record's headers."""
    return propagate.extract({k: v.decode(errors="replace") for k, v in (record.headers or ())})


def batch_span(records: list[ConsumerRecord[bytes, bytes]]) -> contextlib.AbstractContextManager[Any]:
    """One consumer span for a fetch settled together: it continues the first record's trace
    (so what the handlers write to the outbox carries it on) and links every other record's,
    so no producer's trace stops at Kafka."""
    contexts = [producer_context(record) for record in records]
    links = [
        trace.Link(span_context)
        for ctx in contexts[1:]
        if (span_context := trace.get_current_span(ctx).get_span_context()).is_valid
    ]
    return _tracer.start_as_current_span(
        f"{records[0].topic} process",
        context=contexts[0],
        kind=trace.SpanKind.CONSUMER,
        links=links,
        attributes={"messaging.batch.message_count": len(records)},
    )
