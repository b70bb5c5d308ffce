"""intake's business metrics (the chassis adds gRPC, outbox and inbox metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.tasks_added = Counter(
            "cohort_intake_tasks_added_total", "Tasks added to projects (new ones only).", registry=registry
        )
        self.transitions = Counter(
            "cohort_intake_project_transitions_total",
            "Project lifecycle transitions, by transition (activate, pause, resume, cancel, complete).",
            ["transition"],
            registry=registry,
        )
        self.items_delivered = Counter(
            "cohort_intake_items_delivered_total", "Items stored for delivery.", registry=registry
        )
        self.items_exported = Counter(
            "cohort_intake_items_exported_total", "Items streamed to labs by ExportItems.", registry=registry
        )
        self.watchers = Gauge("cohort_intake_progress_watchers", "Open WatchProgress streams.", registry=registry)
        self.webhook_attempts = Counter(
            "cohort_intake_webhook_attempts_total",
            "Webhook delivery attempts, one each, by outcome: delivered, retry, failed (retries used up).",
            ["outcome"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "cohort_intake_webhook_attempt_seconds",
            "Time a webhook receiver took to answer (or to fail).",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )
        self.webhook_lag = Histogram(
            "cohort_intake_webhook_lag_seconds",
            "From the event to its delivery (first attempts that succeeded).",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=registry,
        )
