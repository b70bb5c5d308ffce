"""The ASGI middleware that times each page by route into the workbench metrics."""

from __future__ import annotations

import time

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cohort_workbench.metrics import WebMetrics


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
