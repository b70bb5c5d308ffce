"""The inbox consumer's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class InboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.processed = Counter(
            "cohort_inbox_processed_total",
            "Events whose effect was applied.",
            ["topic", "event_type"],
            registry=registry,
        )
        self.duplicates = Counter(
            "cohort_inbox_duplicates_total",
            "Redelivered events skipped by the inbox.",
            ["topic"],
            registry=registry,
        )
        self.ignored = Counter(
            "cohort_inbox_ignored_total",
            "Events of a type this consumer does not handle.",
            ["topic"],
            registry=registry,
        )
        self.retries = Counter(
            "cohort_inbox_retries_total",
            "Handler attempts that failed and were retried.",
            ["topic"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "cohort_dlq_records_total",
            "Records sent to a dead-letter topic.",
            ["topic", "reason"],
            registry=registry,
        )
        self.lag = Gauge(
            "cohort_kafka_consumer_lag",
            "Records between the committed position and the high watermark.",
            ["topic", "partition"],
            registry=registry,
        )
