"""intake's business metrics (the chassis adds gRPC, outbox and inbox metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


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
