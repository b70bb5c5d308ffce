"""Workbench metrics: page latency and status per route, sign-in outcomes, invitations used.

Read by the web pages and the admin API alike, so it sits beside them rather than in either."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# Pages render in milliseconds; a lease, a submit or a review adds one backend round trip.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


class WebMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Histogram(
            "cohort_workbench_request_seconds",
            "Workbench HTTP requests by route template, method and status code.",
            ["route", "method", "code"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.sign_ins = Counter(
            "cohort_workbench_sign_ins_total",
            "Sign-in attempts by outcome: ok, failed (wrong name, password or code), throttled, closed (offboarded).",
            ["outcome"],
            registry=registry,
        )
        self.invitations = Counter(
            "cohort_workbench_invitations_total",
            "Invitations by event: issued, accepted.",
            ["event"],
            registry=registry,
        )
        self.backend_errors = Counter(
            "cohort_workbench_backend_errors_total",
            "Calls to tasking, QA or payout that failed for a reason other than the expert's input.",
            ["code"],
            registry=registry,
        )
