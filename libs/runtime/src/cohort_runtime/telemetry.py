"""OpenTelemetry tracing: provider, optional OTLP export, and library instrumentation."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None, sample_ratio: float | None = None) -> None:
    """Install a tracer provider for `service`; spans leave the process only with an OTLP endpoint.

    The provider and the library patches are process-wide, so only the first call takes effect
    (tests run several services in one process).
    """
    global _configured  # noqa: PLW0603 - the provider is process-wide: configured once
    if _configured:
        return
    # Without an exporter nobody reads the spans: sample none (ids are still made and propagated,
    # so logs keep their trace ids), which keeps span bookkeeping off the hot paths.
    ratio = sample_ratio if sample_ratio is not None else (1.0 if otlp_endpoint else 0.0)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(ratio)),
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]
    if ratio > 0:
        # Database and Kafka client spans are only worth their cost when they are recorded: the
        # outbox relay puts each event's stored trace context on the record itself, and the inbox
        # continues it from the headers, so trace ids reach logs and other services without them.
        # (The Kafka ones cost QA ~7 % of its CPU while sampling nothing.)
        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
        AIOKafkaInstrumentor().instrument()
    _configured = True


def inject_context() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
