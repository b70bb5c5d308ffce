"""The outbox relay's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "cohort_outbox_published_total", "Outbox events published to Kafka.", ["topic"], registry=registry
        )
        self.failures = Counter(
            "cohort_outbox_publish_failures_total", "Relay batches that failed to publish.", registry=registry
        )
        self.parked = Counter(
            "cohort_outbox_parked_total",
            "Outbox events parked: refused by the broker for good, or behind such an event of their key.",
            ["topic"],
            registry=registry,
        )
        self.parked_rows = Gauge("cohort_outbox_parked_rows", "Rows in the parked table now.", registry=registry)
        self.backlog = Gauge("cohort_outbox_backlog", "Outbox rows not yet published.", registry=registry)
        self.oldest_age = Gauge(
            "cohort_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when empty).",
            registry=registry,
        )
