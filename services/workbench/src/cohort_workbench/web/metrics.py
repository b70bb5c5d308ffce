"""Workbench metrics: page latency and status per route, sign-in outcomes, invitations used."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestMetrics:
    """Times every request under its route template (never the raw path: ids would explode the
    label set), with the status code it ended with."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        code = 500

        async def recording(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = _route(scope, self.routes)
            self.metrics.requests.labels(route, scope["method"], str(code)).observe(time.perf_counter() - began)


def _route(scope: Scope, routes: list[BaseRoute]) -> str:
    if scope["path"].startswith("/static/"):
        return "/static"
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"
