"""QA's Prometheus metrics (besides the chassis's gRPC, inbox and outbox ones)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class QaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.verdicts = Counter(
            "qa_verdicts", "Submissions decided, by verdict and how.", ["verdict", "path"], registry=registry
        )
        self.findings = Counter(
            "qa_check_findings", "Automatic check findings, by reason code.", ["reason"], registry=registry
        )
        self.gold = Counter(
            "qa_gold_outcomes",
            "Gold submissions scored, by outcome (correct, incorrect).",
            ["outcome"],
            registry=registry,
        )
        self.items_finalized = Counter(
            "qa_items_finalized", "Items finalized, by data kind.", ["kind"], registry=registry
        )
        self.items_reworked = Counter(
            "qa_items_reworked",
            "Delivered items reopened for rework, by why (suspension: it rested on experts suspended since).",
            ["reason"],
            registry=registry,
        )
        self.extra_judgments = Counter(
            "qa_extra_judgments_requested", "Extra judgments requested (adaptive overlap).", registry=registry
        )
        self.aggregation_seconds = Histogram(
            "qa_item_aggregation_seconds",
            "Time to aggregate one task's judgments.",
            ["kind"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
            registry=registry,
        )
        self.model_fit_seconds = Histogram(
            "qa_model_fit_seconds",
            "Time of a project's Dawid-Skene refit.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.review_queue = Gauge(
            "qa_review_queue",
            "Reviews waiting or leased, by slot (0 decides, 1 calibrates).",
            ["slot"],
            registry=registry,
        )
        self.project_alpha = Gauge(
            "qa_project_krippendorff_alpha",
            "Krippendorff's alpha of active projects' accepted judgments, at the last refresh.",
            ["project_id"],
            registry=registry,
        )
