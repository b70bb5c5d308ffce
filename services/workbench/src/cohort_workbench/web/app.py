"""The workbench's web application: routes, static files and the edge middleware."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cohort_workbench.web import account_pages, overview_pages, review_pages, work_pages
from cohort_workbench.web.markdown import highlight_css
from cohort_workbench.web.metrics import RequestMetrics
from cohort_workbench.web.security import SecurityHeaders
from cohort_workbench.web.shell import PageError, Redirect, Web, render, see_other, signed_in

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# The largest work a form carries is a trajectory of 200 steps; 1 MiB holds it with room to spare.
MAX_BODY_BYTES = 1 << 20


async def _healthz(request: Request) -> Response:
    async with request.app.state.web.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return PlainTextResponse("ok")


async def _highlight_css(_request: Request) -> Response:
    return Response(highlight_css(), media_type="text/css", headers={"cache-control": "public, max-age=3600"})


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)  # noqa: S101 - registered for Redirect only
    return see_other(exc.location)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)  # noqa: S101 - registered for PageError only
    view = await signed_in(request) if exc.status != 503 else None
    return render(request, "error.html", view, exc.status, title=exc.title, message=exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    title = "Not found" if exc.status_code == 404 else "Request refused"
    message = "There is nothing here." if exc.status_code == 404 else str(exc.detail)
    return render(request, "error.html", None, exc.status_code, title=title, message=message)


def _loggable(path: str) -> str:
    # An invitation link's path is its secret: it never reaches a log.
    return "/invite/…" if path.startswith("/invite/") else path


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, _loggable(request.url.path))
    return render(
        request, "error.html", None, 500, title="Something went wrong", message="Cohort could not show this page."
    )


class BodyLimit:
    """Refuses request bodies over the limit (413) before a handler reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, counted, send)


def build_app(web: Web, *, https: bool) -> ASGIApp:
    routes = [
        Route("/", overview_pages.home),
        Route("/sign-in", account_pages.sign_in_page, methods=["GET"]),
        Route("/sign-in", account_pages.sign_in, methods=["POST"]),
        Route("/sign-out", account_pages.sign_out, methods=["POST"]),
        Route("/invite/{token}", account_pages.invitation_page, methods=["GET"]),
        Route("/invite/{token}", account_pages.accept_invitation, methods=["POST"]),
        Route("/profile", overview_pages.profile, methods=["GET"]),
        Route("/profile", overview_pages.update_profile, methods=["POST"]),
        Route("/profile/two-step", account_pages.totp_page, methods=["GET"]),
        Route("/profile/two-step", account_pages.enrol_totp, methods=["POST"]),
        Route("/my-work", overview_pages.my_work),
        Route("/earnings", overview_pages.earnings),
        Route("/work/start", work_pages.start, methods=["POST"]),
        Route("/work/preview", work_pages.preview, methods=["POST"]),
        Route("/work/{assignment_id}", work_pages.task, methods=["GET"]),
        Route("/work/{assignment_id}/heartbeat", work_pages.heartbeat, methods=["POST"]),
        Route("/work/{assignment_id}/draft", work_pages.save_draft, methods=["POST"]),
        Route("/work/{assignment_id}/release", work_pages.release, methods=["POST"]),
        Route("/work/{assignment_id}/submit", work_pages.submit, methods=["POST"]),
        Route("/review", review_pages.queue, methods=["GET"]),
        Route("/review/start", review_pages.start, methods=["POST"]),
        Route("/review/{review_id}", review_pages.show, methods=["GET"]),
        Route("/review/{review_id}/submit", review_pages.submit, methods=["POST"]),
        Route("/review/{review_id}/release", review_pages.release, methods=["POST"]),
        Route("/healthz", _healthz),
        Route("/static/highlight.css", _highlight_css),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            Redirect: _redirect,
            PageError: _page_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.web = web
    return RequestMetrics(SecurityHeaders(BodyLimit(app, MAX_BODY_BYTES), https=https), web.metrics, routes)
